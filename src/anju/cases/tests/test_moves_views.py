"""The move pages through the web client: each form moves the case, and the services' refusals (P2, P17, P20, P22,
stale pages) come back on the page in Chinese — never a 500."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from anju.cases.models import Case, CaseState, Renovation, SignOff, SiteVisit, SubsidyPayment, TransitionalHousing
from anju.cases.services import renovation as works
from anju.testing import cases, factories

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1, "刘家沟村")


@pytest.fixture
def county(client):
    person = factories.user("xian_guanli", factories.YUYANG, "county_manager")
    client.force_login(person)
    return person


@pytest.fixture
def case(village) -> Case:
    return cases.dangerous_case(factories.house(factories.household(village, head_name="白窑洞")))


def url(name: str, obj: Any, **kwargs: Any) -> str:
    return reverse(f"cases:{name}", kwargs={"pk": obj.pk, **kwargs})


def post(client, name: str, obj: Any, data: dict[str, Any], **kwargs: Any):
    return client.post(url(name, obj, **kwargs), data)


def moved(response, case: Case) -> Case:
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert response["Location"] == url("case_detail", case)
    return Case.objects.get(pk=case.pk)


def errors(response) -> str:
    """Everything the page shows as an error, for assertions on the Chinese text."""
    assert response.status_code == 200
    form = response.context["form"]
    return " ".join(message for messages in form.errors.values() for message in messages)


def png(colour: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def test_the_renovation_path_through_the_forms(client, county, case):
    """From 已鉴定 to 已销号, each move on its own page (P2, P19–P22)."""
    response = post(client, "case_apply", case, {
        "applied_on": TODAY, "consent_on": TODAY, "consent_by": "白窑洞", "household_chose_plan": "on",
        "self_funding": "8000", "version": case.version,
    })  # fmt: skip
    case = moved(response, case)
    renovation = Renovation.objects.get(case=case)
    assert (renovation.consent_by, renovation.self_funding, renovation.household_chose_plan) == ("白窑洞", 8000, True)

    cases.rate(TODAY.year, "reinforce", "25000.00")
    page = client.get(url("case_plan", case))
    assert "25000" in page.content.decode()  # P21: the subsidy that will apply is shown
    case = moved(
        post(client, "case_plan", case, {"method": "reinforce", "planned_on": TODAY, "version": case.version}), case
    )
    assert case.state == CaseState.PLANNED
    assert Renovation.objects.get(case=case).subsidy_amount == 25000

    design = SimpleUploadedFile("design.pdf", b"%PDF-1.4 design", content_type="application/pdf")
    response = post(
        client, "case_design", case, {"design_kind": "custom", "design_file": design, "version": case.version}
    )
    case = moved(response, case)
    assert Renovation.objects.get(case=case).design_file.name.endswith(".pdf")

    builder = cases.craftsman(case)
    case = moved(post(client, "case_builder", case, {"builder": builder.pk, "version": case.version}), case)
    response = post(client, "case_start", case, {
        "started_on": TODAY, "energy_saving": "on", "toilet_retrofit": "on", "version": case.version,
    })  # fmt: skip
    case = moved(response, case)
    renovation = Renovation.objects.get(case=case)
    assert case.state == CaseState.UNDER_CONSTRUCTION
    assert (renovation.builder, renovation.energy_saving, renovation.must_move_out) == (builder, True, False)

    data = {"visited_on": TODAY, "findings": "圈梁未闭合", "needs_fix": "on", "fix_due_on": TODAY}
    moved(post(client, "case_visit", case, data), case)
    visit = SiteVisit.objects.get(case=case)
    response = post(client, "case_complete", case, {"completed_on": TODAY, "version": case.version})
    assert "尚未整改完成" in errors(response)  # P22
    moved(
        client.post(reverse("cases:visit_fix", kwargs={"pk": visit.pk}), {"fixed_on": TODAY, "fix_note": "已补浇"}),
        case,
    )
    case = moved(post(client, "case_complete", case, {"completed_on": TODAY, "version": case.version}), case)

    data = {"accepted_on": TODAY, "acceptance_team": "县住建局、镇村干部", "note": "合格", "version": case.version}
    assert "农户须参加验收并签字确认" in errors(post(client, "case_accept", case, data))  # P20
    case = moved(post(client, "case_accept", case, data | {"household_signed": "on", "house_grade_after": "B"}), case)
    assert case.state == CaseState.ACCEPTED
    case.house.refresh_from_db()
    assert case.house.grade == "B"

    data = {"paid_on": TODAY, "amount": "10000", "account": "6228 4800 1234 5678"}
    moved(post(client, "case_payment", case, data), case)
    assert SubsidyPayment.objects.get(case=case).account_masked == "************5678"
    assert "将超过核定补助" in errors(post(client, "case_payment", case, data | {"amount": "20000"}))  # P4

    moved(post(client, "case_photo", case, {"stage": "after", "photo": png()}), case)
    assert case.photos.count() == 1

    case = cases.sign(case)
    page = client.get(url("case_close", case)).content.decode()
    assert "十二项签字已齐全" in page
    case = moved(post(client, "case_close", case, {"closed_on": TODAY, "version": case.version}), case)
    assert (case.state, case.closed_on) == (CaseState.CLOSED, TODAY)


def test_no_plan_without_the_households_consent(client, county, case):
    """P20: the refusal is on the page, the case stays 已鉴定."""
    cases.rate()
    page = client.get(url("case_plan", case)).content.decode()
    assert "农户尚未确认改造意愿" in page
    response = post(client, "case_plan", case, {"method": "reinforce", "planned_on": TODAY, "version": case.version})
    assert "农户尚未提出改造申请并确认改造意愿" in errors(response)
    assert Case.objects.get(pk=case.pk).state == CaseState.APPRAISED


def test_no_start_without_design_or_with_an_untrained_builder(client, county, case):
    """P17, P22: the builder page marks the untrained; the service refuses them with its P17 message."""
    case = cases.advance(case, CaseState.PLANNED)
    data = {"started_on": TODAY, "version": case.version}
    assert "尚无基本结构设计" in errors(post(client, "case_start", case, data))

    untrained = cases.craftsman(case, trained=False)
    page = client.get(url("case_builder", case)).content.decode()
    assert f"{untrained.name}（未参加{TODAY.year}年度培训）" in page
    response = post(client, "case_builder", case, {"builder": untrained.pk, "version": case.version})
    assert "P17" in errors(response) and "未参加" in errors(response)
    assert Renovation.objects.get(case=case).builder is None

    works.renovation_design(actor=cases.manager(case), case=case, design_kind="atlas", design_reference="A1")
    Renovation.objects.filter(case=case).update(builder=untrained)  # registered before the training lapsed
    response = post(client, "case_start", case, {"started_on": TODAY, "version": Case.objects.get(pk=case.pk).version})
    assert "P17" in errors(response)
    assert Case.objects.get(pk=case.pk).state == CaseState.PLANNED


def test_no_close_without_the_twelve_signoffs(client, county, case):
    """P2: the close page lists what is missing, and the close is refused."""
    case = cases.sign(cases.advance(case, CaseState.ACCEPTED), "problem", "appraisal", "renovation")
    page = client.get(url("case_close", case)).content.decode()
    assert "尚缺3项签字" in page and "验收清（村级）" in page and "验收清（县级）" in page
    response = post(client, "case_close", case, {"closed_on": TODAY, "version": case.version})
    assert "四清一责任签字未完成，不能销号" in errors(response)
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED


def test_a_stale_page_does_not_move_the_case_twice(client, county, case):
    """Two people open the plan page at version N; the second submit gets the conflict, not a second move."""
    works.renovation_apply(actor=county, case=case, applied_on=TODAY, consent_on=TODAY, consent_by="户主")
    cases.rate()
    shown = Case.objects.get(pk=case.pk).version
    moved(post(client, "case_cancel", case, {"reason": "重复登记", "version": shown}), case)
    response = post(client, "case_plan", case, {"method": "reinforce", "planned_on": TODAY, "version": shown})
    assert "该台账已被他人更新（当前状态：已撤销），请刷新页面后重试" in errors(response)
    assert Case.objects.get(pk=case.pk).state == CaseState.CANCELLED


def test_bad_input_is_shown_never_a_500(client, county, case):
    for name, data in [
        ("case_plan", {"method": "magic", "planned_on": "2021-13-45", "version": "abc"}),
        ("case_plan", {"method": "reinforce", "planned_on": TODAY}),
        ("case_start", {"started_on": "", "version": "-1"}),
        ("case_builder", {"builder": "999999", "version": case.version}),
        ("case_payment", {"paid_on": TODAY, "amount": "1e30"}),
        ("case_secure", {"means": "relatives", "secured_on": TODAY, "evidence": "无", "version": case.version}),
        ("case_accept", {"accepted_on": TODAY, "version": case.version}),
        ("case_photo", {"stage": "before", "photo": SimpleUploadedFile("x.jpg", b"not a picture")}),
        ("case_design", {"design_kind": "custom", "version": case.version}),
        ("case_transitional", {"kind": "relatives", "place": "", "from_on": TODAY, "to_on": "2000-01-01"}),
    ]:
        response = post(client, name, case, data)
        assert response.status_code == 200, (name, response.status_code)
        assert response.context["form"].errors, name
    assert Case.objects.get(pk=case.pk).state == CaseState.APPRAISED
    assert "保障安全的证明" in errors(post(client, "case_secure", case, {
        "means": "relatives", "secured_on": TODAY, "evidence": "无", "version": case.version,
    }))  # fmt: skip
    assert "不是有效的图片文件" in errors(
        post(client, "case_photo", case, {"stage": "before", "photo": SimpleUploadedFile("x.jpg", b"nope")})
    )


def test_open_a_problem_list_case_needs_the_household_type(client, county, village):
    """P1: a problem-list item names its household type; the house is chosen among the household's own."""
    owner = factories.household(village)
    house = factories.house(owner)
    other = factories.house(factories.household(village))
    create = reverse("cases:case_create") + f"?household={owner.pk}"
    page = client.get(create)
    assert [h.pk for h in page.context["form"].fields["house"].queryset] == [house.pk]
    data = {"source": "problem_list", "description": "房屋漏雨", "transferred_on": TODAY, "house": house.pk}
    assert "问题清单须注明户类型" in errors(client.post(create, data))
    assert "选择一个有效的选项" in errors(client.post(create, data | {"house": other.pk, "household_type": "edge"}))
    response = client.post(create, data | {"household_type": "edge"})
    case = Case.objects.get(household=owner)
    assert response["Location"] == url("case_detail", case)
    assert (case.source, case.household_type, case.house, case.state) == ("problem_list", "edge", house, "registered")

    edit = {"description": "房屋漏雨，后墙开裂", "measures": "维修屋面", "version": case.version}
    moved(post(client, "case_edit", case, edit), case)
    case = moved(post(client, "case_request_appraisal", case, {"description": "", "version": case.version + 1}), case)
    assert case.state == CaseState.AWAITING_APPRAISAL and case.appraisal_request is not None


def test_secure_cancel_and_transitional(client, county, case, village):
    """P10, P19: made safe by other means with evidence; transitional housing recorded and confirmed safe."""
    moved(post(client, "case_transitional", case, {"kind": "rented", "place": "镇上租房", "from_on": TODAY}), case)
    housing = TransitionalHousing.objects.get(case=case)
    assert not housing.safety_confirmed
    confirm = reverse("cases:transitional_confirm", kwargs={"pk": housing.pk})
    assert "镇上租房" in client.get(confirm).content.decode()
    moved(client.post(confirm, {"confirmed_on": TODAY}), case)
    assert "已确认安全" in errors(client.post(confirm, {"confirmed_on": TODAY}))
    data = {"means": "relatives", "secured_on": TODAY, "evidence": "投靠儿子，其住房为A级", "version": case.version}
    case = moved(post(client, "case_secure", case, data), case)
    assert case.state == CaseState.SECURED

    other = cases.dangerous_case(factories.house(factories.household(village)))
    assert (
        post(client, "case_cancel", other, {"reason": " ", "version": other.version}).context["form"].errors["reason"]
    )
    other = moved(post(client, "case_cancel", other, {"reason": "重复登记", "version": other.version}), other)
    assert (other.state, other.cancel_reason) == (CaseState.CANCELLED, "重复登记")


def test_signing_page_shows_what_is_signed_and_refuses_out_of_order(client, case):
    """P2: bottom up; the page names the signer's level and the signatures already there."""
    people = cases.signers(case)
    client.force_login(people["county"])
    page = client.get(url("case_sign", case, kind="problem")).content.decode()
    assert "县级" in page and "尚无" in page and "问题清" in page
    response = post(client, "case_sign", case, {"comment": "同意"}, kind="problem")
    assert "须先由村级、乡镇级签字" in errors(response)
    client.force_login(people["village"])
    moved(post(client, "case_sign", case, {"comment": "问题属实"}, kind="problem"), case)
    signed = SignOff.objects.get(case=case)
    assert (signed.level, signed.comment) == ("village", "问题属实")
    page = client.get(url("case_sign", case, kind="problem")).content.decode()
    assert "问题属实" in page
    assert "签字不能修改" in errors(post(client, "case_sign", case, {"comment": "再签"}, kind="problem"))
    assert "还不能签" in client.get(url("case_sign", case, kind="acceptance")).content.decode()


def test_use_an_appraisal_already_on_record(client, county, village):
    from anju.cases.services.cases import case_open
    from anju.testing import appraisals

    owner = factories.household(village)
    house = factories.house(owner)
    appraisal = appraisals.appraisal(house)
    case = case_open(actor=county, household=owner, house=house, source="complaint", description="信访")
    page = client.get(url("case_use_appraisal", case)).content.decode()
    assert f"{appraisal.appraised_on.isoformat()} 鉴定为A级" in page
    case = moved(post(client, "case_use_appraisal", case, {"appraisal": appraisal.pk, "version": case.version}), case)
    assert (case.state, case.grade) == (CaseState.APPRAISED, "A")


def test_roles_and_scope(client, case):
    """403 for a role without the move, 404 for another county's case (the page is never shown)."""
    client.force_login(factories.user("cun", case.division_id, "village_staff"))
    assert client.get(url("case_plan", case)).status_code == 403
    assert client.get(url("case_apply", case)).status_code == 200
    client.force_login(factories.user("shenmu", factories.SHENMU, "county_manager"))
    before = Case.objects.get(pk=case.pk).version
    for name in ("case_plan", "case_apply", "case_close", "case_edit"):
        assert client.get(url(name, case)).status_code == 404
        assert post(client, name, case, {"version": before, "reason": "x"}).status_code == 404
    assert Case.objects.get(pk=case.pk).version == before
