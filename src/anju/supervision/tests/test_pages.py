"""The pages people use: a team feeds back a finding from a phone, the county rectifies with a photo, the team
accepts; a round shows which counties are late (P16); refusals come back on the form in Chinese."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile

import pytest
from django.test import override_settings
from django.urls import reverse

from anju.testing import factories

from ..models import Finding, FindingState, Visit
from . import world

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def media():
    root = tempfile.mkdtemp(prefix="anju-test-media-")
    with override_settings(MEDIA_ROOT=root):
        yield
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


def test_p3_finding_rectification_and_acceptance_through_the_pages(client, village):
    client.force_login(world.supervisor())
    response = client.post(
        reverse("supervision:visit_add"),
        {"county": factories.YUYANG, "level": "province", "mode": "unannounced", "starts_on": TODAY,
         "ends_on": TODAY, "places": village.code, "member_names": "省厅抽查组"},
    )  # fmt: skip
    visit = Visit.objects.get()
    assert response.status_code == 302 and (visit.level, visit.mode, visit.places) == ("province", "unannounced",
                                                                                      [village.code])  # fmt: skip
    form = client.get(reverse("supervision:finding_add", kwargs={"pk": visit.pk}))
    assert (TODAY + dt.timedelta(days=7)).isoformat() in form.content.decode()  # the deadline, shown before saving
    response = client.post(
        reverse("supervision:finding_add", kwargs={"pk": visit.pk}),
        {"division_code": village.code, "description": "改造户档案缺少验收表", "severity": "serious",
         "fed_back_on": TODAY},
    )  # fmt: skip
    finding = Finding.objects.get()
    assert response.status_code == 302 and finding.due_on == TODAY + dt.timedelta(days=7)

    county = world.county_manager(factories.YUYANG)
    client.force_login(county)
    page = client.get(reverse("supervision:finding_detail", kwargs={"pk": finding.pk})).content.decode()
    assert 'id="rectify-form"' in page and 'accept="image/*' in page and 'id="review-form"' not in page
    response = client.post(
        reverse("supervision:finding_rectify", kwargs={"pk": finding.pk}),
        {"done_on": TODAY, "description": "已补齐验收表", "evidence": world.document("验收表.pdf")},
    )
    assert response.status_code == 302
    assert Finding.objects.get().state == FindingState.SUBMITTED

    client.force_login(world.supervisor())
    page = client.get(reverse("supervision:finding_detail", kwargs={"pk": finding.pk})).content.decode()
    assert 'id="review-form"' in page and "佐证材料" in page
    response = client.post(
        reverse("supervision:rectification_review", kwargs={"pk": world.pending(finding).pk}), {"verdict": "accepted"}
    )
    assert response.status_code == 302
    assert Finding.objects.get().state == FindingState.ACCEPTED


def test_refusals_come_back_on_the_form(client, village):
    visit = world.visit(factories.YUYANG)
    client.force_login(world.supervisor())
    response = client.post(
        reverse("supervision:finding_add", kwargs={"pk": visit.pk}),
        {"division_code": village.code, "description": "问题", "severity": "general", "household": 999999,
         "fed_back_on": TODAY},
    )  # fmt: skip
    assert response.status_code == 200 and "household" in response.context["form"].errors
    item = world.finding(visit, village)
    client.force_login(world.county_manager(factories.YUYANG))
    response = client.post(
        reverse("supervision:finding_rectify", kwargs={"pk": item.pk}),
        {"done_on": TODAY - dt.timedelta(days=30), "description": "已整改"},
    )
    assert response.status_code == 200
    assert "整改完成日期不能早于问题反馈日期" in str(response.context["form"].errors)


def test_p16_round_page_marks_late_counties_after_the_deadline(client):
    plan_round = world.plan_round(deadline=TODAY - dt.timedelta(days=1))
    world.filing(plan_round, factories.YUYANG, filed_on=TODAY - dt.timedelta(days=1))
    client.force_login(world.supervisor())
    page = client.get(reverse("supervision:round_detail", kwargs={"pk": plan_round.pk})).content.decode()
    assert "11个县逾期未备案" in page  # twelve counties, one filed on the deadline day
    client.force_login(world.county_manager(factories.YUYANG))
    response = client.get(reverse("supervision:round_detail", kwargs={"pk": plan_round.pk}))
    assert [r.county.code for r in response.context["rows"]] == [factories.YUYANG]
    assert not response.context["late"]


def test_finding_list_late_filter_is_the_p3_condition(client, village):
    ended = TODAY - dt.timedelta(days=8)
    late = world.finding(world.visit(factories.YUYANG, starts_on=ended, ends_on=ended), village)
    on_time = world.finding(world.visit(factories.YUYANG, starts_on=ended, ends_on=ended + dt.timedelta(days=1)),
                            village)  # fmt: skip
    client.force_login(world.county_manager(factories.YUYANG))
    response = client.get(reverse("supervision:finding_list"), {"late": "on"})
    listed = {f.pk for f in response.context["page"].object_list}
    assert late.pk in listed and on_time.pk not in listed


def test_finding_badges_late_and_rectified_late_by_the_model_rule(client, village):
    """P3: the list's badges follow Finding.is_late / on_time: open past its deadline 逾期; accepted after it
    逾期整改; on time neither."""
    ended = TODAY - dt.timedelta(days=8)
    open_late = world.finding(world.visit(factories.YUYANG, starts_on=ended, ends_on=ended), village)
    rectified_late = world.finding(world.visit(factories.YUYANG, starts_on=ended, ends_on=ended), village)
    Finding.objects.filter(pk=rectified_late.pk).update(
        state=FindingState.ACCEPTED, rectified_on=TODAY, accepted_on=TODAY
    )
    on_time = world.finding(world.visit(factories.YUYANG), village)
    client.force_login(world.county_manager(factories.YUYANG))
    rows = client.get(reverse("supervision:finding_list")).content.decode().split("<tr")
    badges = {
        pk: ("逾期</span>" in row and "逾期整改" not in row, "逾期整改" in row)
        for pk in (open_late.pk, rectified_late.pk, on_time.pk)
        for row in rows
        if f"/supervision/findings/{pk}/" in row
    }
    assert badges == {open_late.pk: (True, False), rectified_late.pk: (False, True), on_time.pk: (False, False)}


def test_finding_names_its_household_by_name_or_number_within_the_division(client, village):
    visit = world.visit(factories.YUYANG)
    one = factories.household(village, head_name="张建国")
    twins = [factories.household(village, head_name="李明") for _ in range(2)]
    client.force_login(world.supervisor())
    url = reverse("supervision:finding_add", kwargs={"pk": visit.pk})
    base = {"division_code": village.code, "description": "房屋开裂", "severity": "general", "fed_back_on": TODAY}
    assert client.post(url, base | {"household": "张建国"}).status_code == 302
    assert Finding.objects.get().household_id == one.pk
    response = client.post(url, base | {"household": "李明"})
    assert response.status_code == 200 and f"编号{twins[0].pk}" in str(response.context["form"].errors)
    assert client.post(url, base | {"household": str(twins[1].pk)}).status_code == 302
    assert Finding.objects.filter(household=twins[1]).exists()
    other_town = factories.village(factories.YUYANG_TOWN_2, 1)
    response = client.post(url, base | {"division_code": other_town.code, "household": "张建国"})
    assert "所选区划内没有该农户" in str(response.context["form"].errors)
