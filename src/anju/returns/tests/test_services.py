"""P10's services: tracking from a secured ledger case or directly (返乡), who follows, the explanation before the
signed wish, the re-application's ledger case (source 重新申请) through `case_open`, end of tracking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseSource
from anju.cases.services import cases as case_services
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.returns import services
from anju.returns.models import Tracking, TrackingState
from anju.testing import factories

from .builders import SINCE, explained, returned, secured_case, wish_confirmed

pytestmark = pytest.mark.django_db


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def officer(village):
    return factories.user("returns_officer", village.code, "village_staff")


def test_p10_tracking_from_a_secured_case_takes_its_means_and_date(village, officer):
    case = secured_case(village, means="rented")
    tracking = services.tracking_start(actor=officer, household=case.household, origin_case=case)
    assert (tracking.kind, tracking.housing, tracking.housed_since) == ("secured", "rented", case.secured_on)
    assert tracking.followed_by_id == village.code and tracking.state == TrackingState.TRACKING
    event = Event.objects.get(action=Action.TRACKING_STARTED)
    assert (event.actor_id, event.division_code, event.after["origin_case"]) == (officer.pk, village.code, case.pk)


def test_p10_only_a_secured_case_of_the_household(village, officer):
    open_case = secured_case(village)
    other = factories.household(village)
    with pytest.raises(DomainError) as exc:
        services.tracking_start(actor=officer, household=other, origin_case=open_case)
    assert "origin_case" in exc.value.errors
    from anju.testing import cases

    plain = cases.dangerous_case(factories.house(factories.household(village)))
    with pytest.raises(DomainError) as exc:
        services.tracking_start(actor=officer, household=plain.household, origin_case=plain)
    assert "保障安全" in exc.value.errors["origin_case"]


def test_p10_returned_needs_its_date_and_follower_is_village_or_town(village, officer):
    household = factories.household(village)
    with pytest.raises(DomainError) as exc:
        services.tracking_start(
            actor=officer, household=household, kind="returned", housing="own_safe", housed_since=SINCE
        )
    assert "returned_on" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.tracking_start(
            actor=officer,
            household=household,
            kind="returned",
            housing="own_safe",
            housed_since=SINCE,
            returned_on=SINCE,
            followed_by_code=factories.YUYANG,
        )
    assert "followed_by_code" in exc.value.errors
    tracking = services.tracking_start(
        actor=officer,
        household=household,
        kind="returned",
        housing="own_safe",
        housed_since=SINCE,
        returned_on=SINCE,
        followed_by_code=factories.YUYANG_TOWN,
    )
    assert tracking.followed_by_id == factories.YUYANG_TOWN
    with pytest.raises(ConflictError):
        services.tracking_start(
            actor=officer, household=household, kind="secured", housing="relatives", housed_since=SINCE
        )


def test_roles_and_scope(village):
    household = factories.household(village)
    data = {"kind": "secured", "housing": "relatives", "housed_since": SINCE}
    for role in ("department", "appraiser", "city_supervisor"):
        with pytest.raises(PermissionDenied):
            services.tracking_start(
                actor=factories.user(f"r_{role}", factories.YUYANG, role), household=household, **data
            )
    with pytest.raises(ScopeError):
        other = factories.user("r_shenmu", factories.SHENMU, "county_manager")
        services.tracking_start(actor=other, household=household, **data)
    assert not Tracking.objects.exists()


def test_p10_explanation_before_the_signed_wish(village, officer):
    tracking = returned(village)
    with pytest.raises(ConflictError):
        services.tracking_confirm_wish(
            actor=officer, tracking=tracking, confirmed_on=SINCE, signed_by="户主", signed=True
        )
    with pytest.raises(DomainError) as exc:
        services.tracking_explain(actor=officer, tracking=tracking, explained_on=SINCE, explained_by="", explanation="")
    assert {"explained_by", "explanation"} <= set(exc.value.errors)
    tracking = explained(tracking, dt.date(2025, 2, 1))
    with pytest.raises(DomainError) as exc:
        services.tracking_confirm_wish(
            actor=officer, tracking=tracking, confirmed_on=dt.date(2025, 2, 2), signed_by="户主", signed=False
        )
    assert "signed" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.tracking_confirm_wish(
            actor=officer, tracking=tracking, confirmed_on=dt.date(2025, 1, 31), signed_by="户主", signed=True
        )
    assert "confirmed_on" in exc.value.errors
    tracking = services.tracking_confirm_wish(
        actor=officer,
        tracking=tracking,
        confirmed_on=dt.date(2025, 2, 2),
        signed_by="户主",
        signed=True,
        note="拆除重建",
    )
    assert tracking.state == TrackingState.WISH_CONFIRMED
    events = Event.objects.filter(action__startswith="returns.", object_id=str(tracking.pk)).order_by("id")
    assert [e.action for e in events] == [
        Action.TRACKING_STARTED,
        Action.TRACKING_EXPLAINED,
        Action.TRACKING_WISH_CONFIRMED,
    ]


def test_p10_reapplication_opens_a_case_with_source_reapplication(village, officer):
    tracking = returned(village)
    with pytest.raises(ConflictError):
        services.tracking_open_case(actor=officer, tracking=tracking)
    tracking = wish_confirmed(tracking)
    house = factories.house(tracking.household)
    case = services.tracking_open_case(actor=officer, tracking=tracking, house=house)
    assert (case.source, case.source_ref, case.state) == (
        CaseSource.REAPPLICATION,
        f"重新申请#{tracking.pk}",
        "registered",
    )
    assert case.house_id == house.pk and "签字确认改造意愿" in case.description
    tracking.refresh_from_db()
    assert (tracking.state, tracking.case_id) == (TrackingState.CASE_OPENED, case.pk)
    assert Event.objects.filter(action=Action.CASE_OPENED, object_id=str(case.pk)).count() == 1
    assert Event.objects.filter(action=Action.TRACKING_CASE_OPENED, object_id=str(tracking.pk)).count() == 1
    with pytest.raises(ConflictError):
        services.tracking_open_case(actor=officer, tracking=tracking)
    assert Case.objects.filter(source=CaseSource.REAPPLICATION).count() == 1


def test_p10_retry_links_the_case_already_opened(village, officer):
    """If linking failed after `case_open` committed, trying again links that case instead of a second one."""
    tracking = wish_confirmed(returned(village))
    first = case_services.case_open(
        actor=officer,
        household=tracking.household,
        source=CaseSource.REAPPLICATION,
        source_ref=f"重新申请#{tracking.pk}",
        description="重新申请",
    )
    assert services.tracking_open_case(actor=officer, tracking=tracking) == first
    assert Case.objects.filter(household=tracking.household).count() == 1


def test_p10_case_open_guards_still_apply(village, officer):
    """The house already has an open case: the ledger refuses a second one, the tracking stays confirmed."""
    tracking = wish_confirmed(returned(village))
    house = factories.house(tracking.household)
    case_services.case_open(
        actor=officer, household=tracking.household, house=house, source=CaseSource.COMPLAINT, description="信访"
    )
    with pytest.raises(ConflictError):
        services.tracking_open_case(actor=officer, tracking=tracking, house=house)
    tracking.refresh_from_db()
    assert tracking.state == TrackingState.WISH_CONFIRMED and tracking.case_id is None


def test_update_and_close(village, officer):
    tracking = returned(village)
    tracking = services.tracking_update(
        actor=officer,
        tracking=tracking,
        housing="rented",
        last_contact_on=dt.date(2025, 3, 1),
        expected_version=tracking.version,
    )
    event = Event.objects.get(action=Action.TRACKING_CHANGED)
    assert event.before == {"housing": "own_dangerous", "last_contact_on": None}
    with pytest.raises(ConflictError):
        services.tracking_update(actor=officer, tracking=tracking, notes="x", expected_version=1)
    with pytest.raises(DomainError):
        services.tracking_update(actor=officer, tracking=tracking, state="closed")
    with pytest.raises(DomainError) as exc:
        services.tracking_close(actor=officer, tracking=tracking, closed_on=dt.date(2025, 4, 1), reason="")
    assert "reason" in exc.value.errors
    tracking = services.tracking_close(
        actor=officer, tracking=tracking, closed_on=dt.date(2025, 4, 1), reason="全家迁居外地"
    )
    assert tracking.state == TrackingState.CLOSED
    # closed: a new tracking of the same household may start
    again = services.tracking_start(
        actor=officer, household=tracking.household, kind="secured", housing="relatives", housed_since=SINCE
    )
    assert again.pk != tracking.pk
