"""Suspected dangers (P8): reports, the due date, one open request per house, assignment with its guards (P17)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.inspections.models import AppraisalRequest, Campaign, CheckRecord, RequestSource, RequestStatus
from anju.inspections.services import appraisals as services
from anju.testing import appraisals as build
from anju.testing import factories

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def house(village):
    return factories.house(factories.household(village))


@pytest.fixture
def village_staff(village):
    return factories.user("cun", village.code, "village_staff")


@pytest.fixture
def county():
    return factories.user("xian", factories.YUYANG, "county_manager")


@pytest.fixture
def appraiser():
    return factories.trained(factories.user("jd", factories.YUYANG, "appraiser"))


# -- opening (P8) ---------------------------------------------------------------------------------------------------


def test_report_opens_a_request_due_in_15_days(house, village_staff):
    """policy: P8 — due on reported_on + 15 days by default."""
    reported = TODAY - dt.timedelta(days=3)
    req = services.request_open(actor=village_staff, house=house, description="后墙开裂", reported_on=reported)
    assert req.status == RequestStatus.OPEN and req.source == RequestSource.REPORT
    assert req.due_on == reported + dt.timedelta(days=15)
    assert req.division_id == house.division_id and req.reported_by == village_staff
    event = Event.objects.get(action=Action.REQUEST_OPENED)
    assert event.object_id == str(req.pk) and event.actor == village_staff and event.division_code == house.division_id


def test_due_date_follows_the_setting(house, village_staff, settings):
    """policy: P8 — the period is configuration (ANJU_APPRAISAL_DUE_DAYS)."""
    settings.ANJU_APPRAISAL_DUE_DAYS = 7
    req = services.request_open(actor=village_staff, house=house, description="x", reported_on=TODAY)
    assert req.due_on == TODAY + dt.timedelta(days=7)


def test_report_defaults_to_today(house, village_staff):
    req = services.request_open(actor=village_staff, house=house, description="窑脸鼓闪")
    assert req.reported_on == TODAY


def test_one_open_request_per_house_explained_in_chinese(house, village_staff):
    services.request_open(actor=village_staff, house=house, description="x")
    with pytest.raises(ConflictError) as info:
        services.request_open(actor=village_staff, house=house, description="again")
    assert "已有未完成的鉴定申请" in info.value.errors["house"]
    assert AppraisalRequest.objects.count() == 1


def test_a_cancelled_request_lets_the_house_be_reported_again(house, village_staff, county):
    req = services.request_open(actor=village_staff, house=house, description="x")
    services.request_cancel(actor=county, request=req, reason="重复上报")
    services.request_open(actor=village_staff, house=house, description="again")
    assert AppraisalRequest.objects.filter(house=house).count() == 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"description": "  "}, "description"),
        ({"description": "x", "reported_on": TODAY + dt.timedelta(days=1)}, "reported_on"),
        ({"description": "x", "source": "rumour"}, "source"),
    ],
)
def test_report_input_is_checked(house, village_staff, values, field):
    with pytest.raises(DomainError) as info:
        services.request_open(actor=village_staff, house=house, **values)
    assert field in info.value.errors
    assert not AppraisalRequest.objects.exists()


def test_report_needs_the_role_and_the_scope(house):
    appraiser = factories.user("jd2", factories.YUYANG, "appraiser")
    with pytest.raises(PermissionDenied):
        services.request_open(actor=appraiser, house=house, description="x")
    shenmu = factories.user("sm", factories.SHENMU, "county_manager")
    with pytest.raises(ScopeError):
        services.request_open(actor=shenmu, house=house, description="x")
    assert not AppraisalRequest.objects.exists()


def _check(house, checker):
    campaign = Campaign.objects.create(
        name="2025年度核查",
        kind="annual",
        year=TODAY.year,
        starts_on=TODAY - dt.timedelta(days=10),
        ends_on=TODAY + dt.timedelta(days=10),
        division_id=factories.YUYANG,
    )
    return CheckRecord.objects.create(
        campaign=campaign,
        household=house.household,
        division_id=house.division_id,
        checked_on=TODAY - dt.timedelta(days=2),
        checker=checker,
        verdict="suspected",
    )


def test_a_suspected_check_opens_a_request_linked_to_it(house, village_staff):
    """policy: P8 — a suspected verdict opens a request, reported on the day of the check."""
    check = _check(house, village_staff)
    req = services.request_open_from_check(actor=village_staff, check=check, house=house, description="拱顶裂缝")
    assert req.source == RequestSource.CHECK and req.check_record == check
    assert req.reported_on == check.checked_on and req.due_on == check.checked_on + dt.timedelta(days=15)
    again = services.request_open_from_check(actor=village_staff, check=check, house=house, description="y")
    assert again.pk == req.pk, "a second suspicion of the same house keeps the open request"


def test_a_check_opens_requests_only_for_its_own_household(house, village, village_staff):
    check = _check(house, village_staff)
    other = factories.house(factories.household(village))
    with pytest.raises(DomainError):
        services.request_open_from_check(actor=village_staff, check=check, house=other, description="x")


# -- assignment (P8, P17) -------------------------------------------------------------------------------------------


def test_the_county_assigns_a_trained_appraiser(house, village_staff, county, appraiser):
    req = services.request_open(actor=village_staff, house=house, description="x")
    req = services.request_assign(actor=county, request=req, appraiser=appraiser, assigned_on=TODAY)
    req.refresh_from_db()
    assert (req.status, req.appraiser, req.assigned_on, req.assigned_by) == ("assigned", appraiser, TODAY, county)
    event = Event.objects.get(action=Action.REQUEST_ASSIGNED)
    assert event.after["appraiser"] == appraiser.pk and event.actor == county


def test_an_untrained_appraiser_is_refused_with_the_p17_message(house, village_staff, county):
    """policy: P17 — untrained people may not appraise."""
    untrained = factories.user("new_jd", factories.YUYANG, "appraiser")
    factories.trained(untrained, TODAY.year - 1)  # last year's training does not count
    req = services.request_open(actor=village_staff, house=house, description="x")
    with pytest.raises(DomainError) as info:
        services.request_assign(actor=county, request=req, appraiser=untrained)
    assert "P17" in info.value.message and f"未参加{TODAY.year}年度培训" in info.value.errors["appraiser"]
    req.refresh_from_db()
    assert req.status == RequestStatus.OPEN and req.appraiser is None


def test_a_person_without_the_appraiser_role_is_refused(house, village_staff, county):
    town = factories.trained(factories.user("zhen", factories.YUYANG_TOWN, "town_staff"))
    req = services.request_open(actor=village_staff, house=house, description="x")
    with pytest.raises(DomainError) as info:
        services.request_assign(actor=county, request=req, appraiser=town)
    assert "不是鉴定人员" in info.value.errors["appraiser"]


def test_an_appraiser_of_another_county_is_refused(house, village_staff, county):
    shenmu = factories.trained(factories.user("sm_jd", factories.SHENMU, "appraiser"))
    req = services.request_open(actor=village_staff, house=house, description="x")
    with pytest.raises(DomainError) as info:
        services.request_assign(actor=county, request=req, appraiser=shenmu)
    assert "不属于该房屋所在县" in info.value.errors["appraiser"]


def test_a_city_appraiser_covers_every_county(house, village_staff, county):
    city = factories.trained(factories.user("city_jd", "610800000000", "appraiser"))
    req = services.request_open(actor=village_staff, house=house, description="x")
    assert services.request_assign(actor=county, request=req, appraiser=city).appraiser == city


def test_assigning_needs_the_role_and_the_scope(house, village_staff, appraiser):
    req = services.request_open(actor=village_staff, house=house, description="x")
    with pytest.raises(PermissionDenied):
        services.request_assign(actor=village_staff, request=req, appraiser=appraiser)
    shenmu = factories.user("sm", factories.SHENMU, "county_manager")
    with pytest.raises(ScopeError):
        services.request_assign(actor=shenmu, request=req, appraiser=appraiser)


def test_a_done_or_cancelled_request_cannot_be_assigned(house, village_staff, county, appraiser):
    req = services.request_open(actor=village_staff, house=house, description="x")
    services.request_cancel(actor=county, request=req, reason="房屋已拆除")
    with pytest.raises(ConflictError):
        services.request_assign(actor=county, request=req, appraiser=appraiser)
    with pytest.raises(ConflictError):
        services.request_cancel(actor=county, request=req, reason="again")


def test_cancel_needs_a_reason_and_is_audited(house, village_staff, county):
    req = services.request_open(actor=village_staff, house=house, description="x")
    with pytest.raises(DomainError) as info:
        services.request_cancel(actor=county, request=req, reason=" ")
    assert "reason" in info.value.errors
    services.request_cancel(actor=county, request=req, reason="重复上报")
    req.refresh_from_db()
    assert req.status == RequestStatus.CANCELLED
    assert Event.objects.get(action=Action.REQUEST_CANCELLED).extra == {"reason": "重复上报"}


def test_builder_opens_and_assigns(house, appraiser):
    req = build.request(house, appraiser=appraiser)
    assert req.status == RequestStatus.ASSIGNED and req.appraiser == appraiser


def test_services_queue_the_alert_refresh(house, village_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.request_open(actor=village_staff, house=house, description="x")
    assert callbacks, "the P8 alerts are refreshed when the transaction commits"


def test_only_checkers_open_requests_from_a_check(house, village_staff):
    check = _check(house, village_staff)
    appraiser = factories.user("jd3", factories.YUYANG, "appraiser")
    with pytest.raises(PermissionDenied):
        services.request_open_from_check(actor=appraiser, check=check, house=house, description="x")
    assert not AppraisalRequest.objects.exists()


@pytest.mark.parametrize("offset", [1, -5])
def test_the_assignment_date_lies_between_the_report_and_today(house, village_staff, county, appraiser, offset):
    req = services.request_open(
        actor=village_staff, house=house, description="x", reported_on=TODAY - dt.timedelta(days=2)
    )
    with pytest.raises(DomainError) as info:
        services.request_assign(
            actor=county, request=req, appraiser=appraiser, assigned_on=TODAY + dt.timedelta(days=offset)
        )
    assert "assigned_on" in info.value.errors


def test_cancel_needs_the_county(house, village_staff):
    req = services.request_open(actor=village_staff, house=house, description="x")
    with pytest.raises(PermissionDenied):
        services.request_cancel(actor=village_staff, request=req, reason="我报错了")
    shenmu = factories.user("sm", factories.SHENMU, "county_manager")
    with pytest.raises(ScopeError):
        services.request_cancel(actor=shenmu, request=req, reason="x")
    req.refresh_from_db()
    assert req.status == RequestStatus.OPEN
