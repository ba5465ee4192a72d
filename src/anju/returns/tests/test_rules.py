"""P10.reapplication_stalled at its boundary: the wish signed on day 0, no case by day 30 is in time, day 31 alerts;
opening the case or closing the tracking ends it."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.policy.rules import Context, rule_get
from anju.returns import services
from anju.returns.models import Tracking
from anju.returns.selectors import TrackingFilters, tracking_filter
from anju.testing import factories

from .builders import SINCE, returned, wish_confirmed

pytestmark = pytest.mark.django_db

STALLED = "P10.reapplication_stalled"


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


def found(today: dt.date, tracking: Tracking) -> list:
    return list(rule_get(STALLED).evaluate(Context(today=today, household_ids=frozenset([tracking.household_id]))))


def test_p10_stalled_from_day_31_after_the_signed_wish(village):
    tracking = wish_confirmed(returned(village))
    day_30, day_31 = SINCE + dt.timedelta(days=30), SINCE + dt.timedelta(days=31)
    assert found(day_30, tracking) == []
    [finding] = found(day_31, tracking)
    assert (finding.object_type, finding.object_id, finding.due_on) == ("returns.tracking", tracking.pk, day_30)
    assert "签字确认改造意愿" in finding.message
    stalled = tracking_filter(Tracking.objects.all(), TrackingFilters(stalled=True), day_31)
    assert list(stalled.values_list("pk", flat=True)) == [tracking.pk]
    assert not tracking_filter(Tracking.objects.all(), TrackingFilters(stalled=True), day_30).exists()


def test_p10_only_confirmed_wishes_without_a_case(village):
    explained_only = returned(village)
    later = SINCE + dt.timedelta(days=90)
    assert found(later, explained_only) == []
    tracking = wish_confirmed(returned(village))
    services.tracking_open_case(actor=factories._system(village), tracking=tracking)
    assert found(later, tracking) == []
    closed = wish_confirmed(returned(village))
    services.tracking_close(actor=factories._system(village), tracking=closed, closed_on=SINCE, reason="放弃申请")
    assert found(later, closed) == []
