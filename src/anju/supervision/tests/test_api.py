"""/api/v1/supervision with bad input: 4xx in the one Chinese error shape, never a 500, nothing written; and the
P3 journey through the API (visit → finding → rectification → acceptance)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from anju.accounts.services import token_issue
from anju.audit.models import Event
from anju.testing import factories
from anju.testing.api import api_call, assert_error_body

from ..models import Finding, Measure, PlanRound, Visit
from . import world

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def team():
    return token_issue(user=world.supervisor())


@pytest.fixture
def county():
    factories.village(factories.YUYANG_TOWN, 1)
    return token_issue(user=world.county_manager(factories.YUYANG))


def counts() -> tuple[int, ...]:
    return Visit.objects.count(), Finding.objects.count(), Measure.objects.count(), Event.objects.count()


BAD_VISITS = [
    ({"county": factories.YUYANG, "starts_on": str(TODAY), "ends_on": str(TODAY - dt.timedelta(days=1)),
      "member_names": "甲"}, 400, "ends_on"),
    ({"county": factories.YUYANG_TOWN, "starts_on": str(TODAY), "ends_on": str(TODAY), "member_names": "甲"}, 400,
     "county"),
    ({"county": factories.YUYANG, "starts_on": str(TODAY), "ends_on": str(TODAY), "member_ids": [999999]}, 400,
     "member_ids"),
    ({"county": factories.YUYANG, "starts_on": str(TODAY), "ends_on": str(TODAY)}, 400, "members"),
    ({"county": factories.YUYANG, "starts_on": "2025-02-30", "ends_on": str(TODAY), "member_names": "甲"}, 400, None),
    ({"county": factories.YUYANG, "starts_on": str(TODAY), "ends_on": str(TODAY), "member_names": "甲",
      "places": ["610881001001"]}, 400, "places"),
    ({"county": factories.YUYANG, "starts_on": str(TODAY), "ends_on": str(TODAY), "member_names": "甲",
      "mode": "secret"}, 400, None),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "status", "field"), BAD_VISITS)
def test_bad_visits_are_refused_in_chinese(team, payload, status, field):
    before = counts()
    body = assert_error_body(api_call("POST", reverse("api:supervision_visits_create"), token=team, payload=payload),
                             status)  # fmt: skip
    if field:
        assert field in {e["field"] for e in body["errors"]}, body
    assert counts() == before


def test_bad_findings_and_measures_are_refused(team, village):
    visit = world.visit(factories.YUYANG)
    before = counts()
    url = reverse("api:supervision_findings_create")
    assert_error_body(api_call("POST", url, token=team, payload={"visit_id": 999999, "description": "x"}), 404,
                      errors=False)  # fmt: skip
    body = assert_error_body(
        api_call("POST", url, token=team, payload={"visit_id": visit.pk, "division_code": "610881001001",
                                                   "description": "问题"}), 400)  # fmt: skip
    assert body["errors"][0]["field"] == "division_code"
    assert_error_body(api_call("POST", url, token=team, payload={"visit_id": visit.pk, "description": ""}), 400)
    assert_error_body(api_call("POST", url, token=team, payload="{not json"), 400)
    measure = {"county": factories.YUYANG, "kind": "interview", "person": "局长", "held_on": str(TODAY),
               "reason": "整改不力", "conducted_by": "市住建局", "finding_ids": [999999]}  # fmt: skip
    assert_error_body(api_call("POST", reverse("api:supervision_measures_create"), token=team, payload=measure), 404,
                      errors=False)  # fmt: skip
    assert counts() == before


def test_bad_filters_and_weights_are_400(team):
    assert_error_body(api_call("GET", reverse("api:supervision_findings_list"), token=team, division="123"), 400)
    assert_error_body(api_call("GET", reverse("api:supervision_assessment"), token=team, year="abc"), 400)
    assert_error_body(api_call("GET", reverse("api:supervision_assessment"), token=team), 400)
    url = reverse("api:supervision_weights_set", kwargs={"year": TODAY.year})
    zero = dict.fromkeys(["check_coverage", "cases_on_time", "complaints_on_time", "findings_on_time",
                          "training_coverage"], 0)  # fmt: skip
    assert_error_body(api_call("PUT", url, token=team, payload=zero), 400)
    assert_error_body(api_call("PUT", url, token=team, payload=zero | {"check_coverage": 101}), 400)
    bad_year = reverse("api:supervision_weights_set", kwargs={"year": 1900})
    assert_error_body(api_call("PUT", bad_year, token=team, payload=zero | {"check_coverage": 1}), 400)
    assert not PlanRound.objects.exists()


def test_p3_journey_through_the_api(team, county, village):
    visit = api_call("POST", reverse("api:supervision_visits_create"), token=team, payload={
        "county": factories.YUYANG, "level": "province", "mode": "unannounced", "starts_on": str(TODAY),
        "ends_on": str(TODAY), "member_names": "省厅抽查组", "places": [village.code]}).json()  # fmt: skip
    assert visit["rectify_due"] == str(TODAY + dt.timedelta(days=7))
    response = api_call("POST", reverse("api:supervision_findings_create"), token=team, payload={
        "visit_id": visit["id"], "division_code": village.code, "description": "一户一档缺鉴定报告",
        "severity": "serious"})  # fmt: skip
    assert response.status_code == 201, response.content
    finding = response.json()
    assert (finding["due_on"], finding["state"], finding["late"]) == (visit["rectify_due"], "open", False)
    url = reverse("api:supervision_findings_rectify", kwargs={"pk": finding["id"]})
    response = api_call("POST", url, token=county, payload={"done_on": str(TODAY), "description": "已补鉴定报告"})
    assert response.status_code == 201 and response.json()["state"] == "submitted"
    rectification = response.json()["rectifications"][0]["id"]
    again = api_call("POST", url, token=county, payload={"done_on": str(TODAY), "description": "再报一次"})
    assert_error_body(again, 409)
    review = reverse("api:supervision_rectifications_review", kwargs={"pk": rectification})
    response = api_call("POST", review, token=team, payload={"verdict": "accepted"})
    assert response.json()["state"] == "accepted" and response.json()["rectified_on"] == str(TODAY)
    listed = api_call("GET", reverse("api:supervision_findings_list"), token=county, late="true").json()
    assert listed["count"] == 0


def test_rectification_with_evidence_by_multipart(county, village, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = world.finding(world.visit(factories.YUYANG), village)
    url = reverse("api:supervision_findings_rectify_upload", kwargs={"pk": item.pk})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {county}"}
    bad = SimpleUploadedFile("run.exe", b"MZ")
    response = Client().post(url, {"done_on": str(TODAY), "description": "已整改", "evidence": bad}, **auth)
    assert assert_error_body(response, 400)["errors"][0]["field"] == "evidence"
    response = Client().post(
        url, {"done_on": str(TODAY), "description": "已整改", "evidence": world.document("整改照片.pdf")}, **auth
    )
    assert response.status_code == 201, response.content
    stored = Finding.objects.get(pk=item.pk).rectifications.get().evidence
    assert stored.name.endswith(".pdf") and stored.read() == world.PDF
