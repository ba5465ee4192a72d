"""Complaints (P14), publicity and public opinion (P15) straight against the services: the states and their guards,
the reply deadline per channel, the masked and audited phone, the look-back, a ledger case opened from a complaint,
the hotline, and the dashboard counts. A refused write leaves the row as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseSource
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.divisions.models import Division
from anju.testing import factories

from .. import selectors, services
from ..models import Complaint, ComplaintState, Hotline
from .world import TODAY, activity, advance, complaint, county_manager, incident

pytestmark = pytest.mark.django_db
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def manager(village):
    return county_manager(village)


def actions(item) -> list[str]:
    return list(
        Event.objects.filter(object_type="complaints.complaint", object_id=str(item.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# -- deadlines (P14) ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "days"), [("hotline", 15), ("online", 15), ("letter", 60), ("visit", 60)])
def test_reply_deadline_by_channel_p14(village, channel, days):
    """P14: 15 days for the hotline and online, 60 for letters and visits (信访工作条例), from the day of receipt."""
    received = TODAY - dt.timedelta(days=3)
    item = complaint(village, channel=channel, received_on=received)
    assert item.reply_due_on == received + dt.timedelta(days=days)


@override_settings(ANJU_COMPLAINT_REPLY_DAYS={"hotline": 5})
def test_reply_days_configurable_per_channel_p14(village):
    assert complaint(village, channel="hotline").reply_due_on == TODAY + dt.timedelta(days=5)
    assert complaint(village, channel="letter").reply_due_on == TODAY + dt.timedelta(days=60)


# -- the whole way and its guards ---------------------------------------------------------------------------------


def test_complaint_received_to_closed_writes_its_history_p14(village, manager):
    item = complaint(village)
    assert item.state == ComplaintState.RECEIVED and item.version == 1
    item = services.complaint_assign(actor=manager, complaint=item, handler=manager, expected_version=1)
    assert (item.state, item.handler_id, item.handler_name, item.assigned_on) == (
        ComplaintState.HANDLING,
        manager.pk,
        manager.get_full_name(),
        TODAY,
    )
    item = services.complaint_reply(
        actor=manager, complaint=item, reply_text="已入户核实，安排鉴定", reply_method="in_person"
    )
    assert item.state == ComplaintState.REPLIED and item.replied_on == TODAY
    item = services.complaint_close(actor=manager, complaint=item, satisfaction="fairly")
    assert item.state == ComplaintState.CLOSED and item.satisfaction == "fairly" and item.version == 4
    assert actions(item) == [
        Action.COMPLAINT_RECEIVED,
        Action.COMPLAINT_ASSIGNED,
        Action.COMPLAINT_REPLIED,
        Action.COMPLAINT_CLOSED,
    ]


def test_moves_out_of_order_are_refused_naming_the_state(village, manager):
    item = complaint(village)
    with pytest.raises(ConflictError) as exc:
        services.complaint_reply(actor=manager, complaint=item, reply_text="已答复内容", reply_method="phone")
    assert "受理" in exc.value.message and exc.value.errors["state"] == "受理"
    with pytest.raises(ConflictError):
        services.complaint_close(actor=manager, complaint=item, satisfaction="satisfied")
    with pytest.raises(ConflictError):
        services.complaint_review(actor=manager, complaint=item, review_note="回访核实情况", review_result="resolved")
    assert Complaint.objects.get(pk=item.pk).version == 1


def test_a_stale_version_is_refused(village, manager):
    item = complaint(village)
    services.complaint_assign(actor=manager, complaint=item, handler=manager)
    with pytest.raises(ConflictError) as exc:
        services.complaint_assign(actor=manager, complaint=item, handler=manager, expected_version=1)
    assert "version" in exc.value.errors


def test_handler_must_handle_complaints_and_see_the_complaint(village, manager):
    item = complaint(village)
    village_staff = factories.user("cun_xinxiyuan", village.code, "village_staff")
    shenmu = factories.user("shenmu_mgr", factories.SHENMU, "county_manager")
    for handler in (village_staff, shenmu, None):
        with pytest.raises(DomainError) as exc:
            services.complaint_assign(actor=manager, complaint=item, handler=handler)
        assert "handler" in exc.value.errors
    town = factories.user("zhen_ganbu", factories.YUYANG_TOWN, "town_staff")
    assert services.complaint_assign(actor=manager, complaint=item, handler=town).handler_id == town.pk


def test_an_extended_deadline_is_audited(village, manager):
    item = complaint(village, channel="letter")
    later = item.reply_due_on + dt.timedelta(days=30)
    services.complaint_assign(actor=manager, complaint=item, handler=manager, reply_due_on=later)
    event = Event.objects.filter(action=Action.COMPLAINT_ASSIGNED).latest("id")
    assert event.before["reply_due_on"] == item.reply_due_on.isoformat()
    assert event.after["reply_due_on"] == later.isoformat()


def test_dates_cannot_be_in_the_future_or_before_receipt(village, manager):
    with pytest.raises(DomainError) as exc:
        complaint(village, received_on=TODAY + dt.timedelta(days=1))
    assert "received_on" in exc.value.errors
    item = advance(complaint(village, received_on=YESTERDAY), ComplaintState.HANDLING)
    with pytest.raises(DomainError) as exc:
        services.complaint_reply(
            actor=manager,
            complaint=item,
            reply_text="答复内容",
            reply_method="phone",
            replied_on=YESTERDAY - dt.timedelta(days=1),
        )
    assert "replied_on" in exc.value.errors


def test_dissatisfied_close_needs_a_note(village, manager):
    item = advance(complaint(village), ComplaintState.REPLIED)
    with pytest.raises(DomainError) as exc:
        services.complaint_close(actor=manager, complaint=item, satisfaction="dissatisfied")
    assert "close_note" in exc.value.errors
    item = services.complaint_close(
        actor=manager, complaint=item, satisfaction="dissatisfied", close_note="已安排复查并再次解释政策"
    )
    assert item.state == ComplaintState.CLOSED


def test_review_of_a_closed_complaint_p14(village, manager):
    """P14 回头看: a closed complaint is looked at again; the result and note are kept and it is flagged."""
    item = advance(complaint(village), ComplaintState.CLOSED)
    with pytest.raises(DomainError) as exc:
        services.complaint_review(actor=manager, complaint=item, review_note="", review_result="bad")
    assert set(exc.value.errors) == {"review_note", "review_result"}
    item = services.complaint_review(
        actor=manager, complaint=item, review_note="回访农户，房屋已加固", review_result="resolved"
    )
    assert item.is_review and item.review_result == "resolved" and item.reviewed_on == TODAY
    assert actions(item)[-1] == Action.COMPLAINT_REVIEWED


# -- authority and scope ------------------------------------------------------------------------------------------


def test_roles_without_handle_are_refused(village):
    for role in ("village_staff", "department", "city_supervisor", "appraiser"):
        person = factories.user(f"u_{role}", village.code[:6] + "000000", role)
        with pytest.raises(PermissionDenied):
            services.complaint_register(
                actor=person,
                division_code=village.code,
                channel="hotline",
                received_on=TODAY,
                complainant_name="王某",
                content="反映问题",
                category="other",
            )
    assert not Complaint.objects.exists()


def test_links_outside_the_scope_or_the_division_are_refused(village, manager):
    shenmu_household = factories.household(factories.village(factories.SHENMU_TOWN, 1))
    with pytest.raises(ScopeError):
        complaint(village, household=shenmu_household)
    other_village = factories.village(factories.YUYANG_TOWN, 2)
    neighbour = factories.household(other_village)
    with pytest.raises(DomainError) as exc:
        complaint(village, household=neighbour)
    assert "household" in exc.value.errors
    town_level = complaint(Division.objects.get(code=factories.YUYANG_TOWN), household=neighbour)
    assert town_level.household_id == neighbour.pk
    assert not Complaint.objects.filter(division_id=village.code).exists()


# -- the phone (personal data) ------------------------------------------------------------------------------------


def test_phone_is_stored_encrypted_shown_masked_and_every_full_view_is_audited(village, manager):
    item = complaint(village, phone="１３８ ０００１ ２３４５")
    row = Complaint.objects.filter(pk=item.pk).values("phone_cipher", "phone_masked").get()
    assert row["phone_masked"] == "138****2345"
    assert "13800012345" not in row["phone_cipher"]
    before = Event.objects.filter(action=Action.COMPLAINT_PHONE_VIEWED).count()
    assert services.complaint_reveal_phone(actor=manager, complaint=item) == "13800012345"
    assert Event.objects.filter(action=Action.COMPLAINT_PHONE_VIEWED, object_id=str(item.pk)).count() == before + 1
    staff = factories.user("cun_yuan", village.code, "village_staff")
    with pytest.raises(PermissionDenied):
        services.complaint_reveal_phone(actor=staff, complaint=item)


def test_bad_phone_is_refused(village):
    with pytest.raises(DomainError) as exc:
        complaint(village, phone="abc")
    assert "phone" in exc.value.errors


def test_update_changes_the_phone_and_content_until_closed(village, manager):
    item = complaint(village)
    item = services.complaint_update(actor=manager, complaint=item, phone="0912-3456789", content="补充：屋顶漏雨")
    assert item.phone_masked.endswith("6789") and item.content == "补充：屋顶漏雨"
    event = Event.objects.filter(action=Action.COMPLAINT_CHANGED).latest("id")
    assert event.after["phone"] == item.phone_masked and "3456789" not in str(event.after)
    closed = advance(item, ComplaintState.CLOSED)
    with pytest.raises(ConflictError):
        services.complaint_update(actor=manager, complaint=closed, content="再改")


# -- a ledger case from a complaint (P14, P19) --------------------------------------------------------------------


def test_a_complaint_opens_a_ledger_case_once(village, manager):
    household = factories.household(village)
    house = factories.house(household)
    item = complaint(village, household=household)
    case = services.complaint_open_case(actor=manager, complaint=item, house=house)
    assert (case.source, case.household_id, case.house_id) == (CaseSource.COMPLAINT, household.pk, house.pk)
    assert case.source_ref == f"信访件#{item.pk}" and case.description == item.content
    assert Complaint.objects.get(pk=item.pk).case_id == case.pk
    assert actions(item)[-1] == Action.COMPLAINT_CASE_OPENED
    with pytest.raises(ConflictError):
        services.complaint_open_case(actor=manager, complaint=Complaint.objects.get(pk=item.pk))
    assert Case.objects.filter(source=CaseSource.COMPLAINT).count() == 1


def test_opening_a_case_needs_a_household(village, manager):
    item = complaint(village)
    with pytest.raises(DomainError) as exc:
        services.complaint_open_case(actor=manager, complaint=item)
    assert "household" in exc.value.errors
    assert not Case.objects.exists()


def test_a_case_opened_before_a_failed_link_is_linked_not_duplicated(village, manager):
    """The case carries the complaint's number, so a retry after a failed link finds it."""
    household = factories.household(village)
    item = complaint(village, household=household)
    from anju.cases.services.cases import case_open

    first = case_open(
        actor=manager, household=household, source="complaint", source_ref=f"信访件#{item.pk}", description="x"
    )
    assert services.complaint_open_case(actor=manager, complaint=item).pk == first.pk
    assert Case.objects.count() == 1


# -- hotline ------------------------------------------------------------------------------------------------------


def test_hotline_set_replace_and_look_up_p14(manager):
    hotline = services.hotline_set(
        actor=manager,
        division_code=factories.YUYANG,
        number="0912-3283000",
        published_on=TODAY,
        published_where="区政府网站",
    )
    assert selectors.hotline_for(factories.YUYANG_TOWN[:9] + "201") == "0912-3283000"
    services.hotline_set(
        actor=manager, division_code=factories.YUYANG, number="12345", published_on=TODAY, published_where="明白卡"
    )
    assert Hotline.objects.count() == 1 and selectors.hotline_for(factories.YUYANG) == "12345"
    event = Event.objects.filter(action=Action.HOTLINE_SET, object_id=str(hotline.pk)).latest("id")
    assert (event.before["number"], event.after["number"]) == ("0912-3283000", "12345")
    assert selectors.hotline_for(factories.SHENMU) == ""


def test_hotline_is_per_county_and_in_scope(manager):
    with pytest.raises(DomainError) as exc:
        services.hotline_set(
            actor=manager, division_code=factories.YUYANG_TOWN, number="12345", published_on=TODAY, published_where="x"
        )
    assert "division_code" in exc.value.errors
    with pytest.raises(ScopeError):
        services.hotline_set(
            actor=manager, division_code=factories.SHENMU, number="12345", published_on=TODAY, published_where="x"
        )


def test_town_and_village_staff_see_their_county_hotline(manager):
    services.hotline_set(
        actor=manager, division_code=factories.YUYANG, number="12345", published_on=TODAY, published_where="公示栏"
    )
    village = factories.village(factories.YUYANG_TOWN, 1)
    staff = factories.user("cun_kan", village.code, "village_staff")
    shenmu = factories.user("shenmu_kan", factories.SHENMU, "county_manager")
    assert [h.number for h in selectors.hotline_list(staff)] == ["12345"]
    assert list(selectors.hotline_list(shenmu)) == []


# -- publicity and public opinion (P15) ---------------------------------------------------------------------------


def test_publicity_record_and_update_p15(village, manager):
    item = activity(village)
    assert item.audience == 40
    item = services.publicity_update(actor=manager, activity=item, audience=55, title="政策宣讲会")
    event = Event.objects.filter(action=Action.PUBLICITY_CHANGED).latest("id")
    assert event.before == {"title": "农村住房安全政策入户宣传", "audience": 40}
    with pytest.raises(DomainError) as exc:
        activity(village, kind="parade", held_on=TODAY + dt.timedelta(days=1), title="")
    assert set(exc.value.errors) == {"kind", "held_on", "title"}


def test_incident_respond_then_close_p15(village, manager):
    item = incident(village, found_on=YESTERDAY)
    with pytest.raises(ConflictError):
        services.incident_close(actor=manager, incident=item)
    item = services.incident_respond(actor=manager, incident=item, response="已发布情况说明，补助已于当日发放")
    item = services.incident_close(actor=manager, incident=item)
    assert item.closed_on == TODAY and not item.is_open
    with pytest.raises(ConflictError):
        services.incident_respond(actor=manager, incident=item, response="再次回应")


# -- dashboard ----------------------------------------------------------------------------------------------------


def test_dashboard_counts_in_the_users_scope(village, manager):
    complaint(village)
    advance(complaint(village), ComplaintState.CLOSED)
    complaint(village, channel="hotline", received_on=TODAY - dt.timedelta(days=16))  # due yesterday: overdue
    activity(village)
    activity(village, held_on=dt.date(TODAY.year - 1, 12, 31))
    incident(village)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    complaint(shenmu)
    incident(shenmu)
    counts = selectors.dashboard_counts(manager)
    assert counts == selectors.DashboardCounts(
        open_complaints=2, overdue_complaints=1, publicity_this_year=1, open_incidents=1
    )
