"""P14.reply_overdue and P15.opinion_unanswered at their boundaries, through the real services and a real refresh:
due on day N is not late on day N and late on day N+1; an incident found on day N is late on day N+2."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.policy.models import Alert, AlertStatus
from anju.policy.rules import Context, rule_get
from anju.policy.services import alerts_refresh
from anju.testing import factories

from .. import services
from ..models import ComplaintState
from .world import advance, complaint, county_manager, incident

pytestmark = pytest.mark.django_db

P14, P15 = "P14.reply_overdue", "P15.opinion_unanswered"
RECEIVED = dt.date(2025, 3, 1)
DUE = dt.date(2025, 3, 16)  # P14: a hotline complaint received 1 March is answered by 16 March (15 days)


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


def found(rule_id: str, today: dt.date, household_ids=None) -> list:
    return list(rule_get(rule_id).evaluate(Context(today=today, household_ids=household_ids)))


def open_alerts(rule_id: str):
    return Alert.objects.filter(rule_id=rule_id, status=AlertStatus.OPEN)


def test_p14_deadline_day_is_not_late_the_next_day_is(village):
    item = complaint(village, received_on=RECEIVED)
    assert item.reply_due_on == DUE
    assert found(P14, DUE) == []
    (finding,) = found(P14, DUE + dt.timedelta(days=1))
    assert (finding.object_type, finding.object_id, finding.division_code, finding.due_on) == (
        "complaints.complaint",
        item.pk,
        village.code,
        DUE,
    )
    assert "已逾期1天" in finding.message and "热线" in finding.message


def test_p14_handling_is_still_late_a_reply_ends_it(village):
    """Assigned but unanswered is late too; once answered (even late) the alert is resolved by the refresh."""
    item = advance(complaint(village, received_on=RECEIVED), ComplaintState.HANDLING)
    alerts_refresh(today=DUE + dt.timedelta(days=3), rule_ids=[P14])
    alert = open_alerts(P14).get()
    assert (alert.object_id, alert.division_id, alert.due_on) == (item.pk, village.code, DUE)
    services.complaint_reply(
        actor=county_manager(village),
        complaint=item,
        reply_text="已电话答复",
        reply_method="phone",
        replied_on=DUE + dt.timedelta(days=2),
    )
    alerts_refresh(today=DUE + dt.timedelta(days=3), rule_ids=[P14])
    assert not open_alerts(P14).exists()
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.RESOLVED


def test_p14_letters_have_sixty_days(village):
    complaint(village, channel="letter", received_on=RECEIVED)
    due = RECEIVED + dt.timedelta(days=60)
    assert found(P14, due) == []
    assert len(found(P14, due + dt.timedelta(days=1))) == 1


def test_p14_incremental_refresh_sees_only_its_households(village):
    household = factories.household(village)
    linked = complaint(village, received_on=RECEIVED, household=household)
    complaint(village, received_on=RECEIVED)
    late = DUE + dt.timedelta(days=1)
    assert [f.object_id for f in found(P14, late, frozenset([household.pk]))] == [linked.pk]
    assert len(found(P14, late)) == 2


def test_p15_found_yesterday_is_not_late_found_two_days_ago_is(village):
    today = dt.date.today()
    incident(village, found_on=today - dt.timedelta(days=1))
    old = incident(village, found_on=today - dt.timedelta(days=2))
    (finding,) = found(P15, today)
    assert (finding.object_type, finding.object_id, finding.due_on) == (
        "complaints.opinionincident",
        old.pk,
        old.found_on + dt.timedelta(days=1),
    )
    assert found(P15, today, frozenset([1])) == []


def test_p15_a_response_resolves_the_alert(village):
    today = dt.date.today()
    item = incident(village, found_on=today - dt.timedelta(days=5))
    alerts_refresh(today=today, rule_ids=[P15])
    assert open_alerts(P15).get().object_id == item.pk
    services.incident_respond(actor=county_manager(village), incident=item, response="已发布情况通报")
    alerts_refresh(today=today, rule_ids=[P15])
    assert not open_alerts(P15).exists()
