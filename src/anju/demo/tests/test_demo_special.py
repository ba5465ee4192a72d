"""`anju demo` shows the special work of issue 6 in 榆阳区 (镇川镇 first): disasters (P9), idle houses (P11),
returns (P10), complaints and publicity (P14, P15), policy cards (P13), supervision (P3, P16) — written through
the apps' services by the demo users, each alert the demo means to show open, and nothing doubled on a rerun."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from anju.audit.models import Event
from anju.cards.models import Audience, CardDistribution, CardRound
from anju.cases.models import CaseSource, SecureMeans
from anju.complaints.models import Complaint, ComplaintState, Hotline, OpinionIncident, PublicityActivity
from anju.demo.special import YUYANG, demo_special_ensure
from anju.disasters.models import (
    CoordinationNote,
    DamagePhoto,
    DamageReport,
    DisasterEvent,
    EmergencyPlan,
    Resettlement,
    Season,
)
from anju.idle.models import IdleHouse, IdleVisit
from anju.policy.models import Alert, AlertStatus
from anju.returns.models import Tracking, TrackingKind, TrackingState
from anju.supervision.models import Finding, FindingState, PlanFiling, PlanRound, Rectification, Visit, VisitMode

pytestmark = pytest.mark.django_db

DEMO_TOWN = "610802102"  # 镇川镇
SPECIAL_MODELS = [
    Resettlement,
    DamagePhoto,
    DamageReport,
    CoordinationNote,
    DisasterEvent,
    EmergencyPlan,
    IdleVisit,
    IdleHouse,
    Tracking,
    Complaint,
    PublicityActivity,
    OpinionIncident,
    Hotline,
    CardDistribution,
    CardRound,
    Rectification,
    Finding,
    Visit,
    PlanFiling,
    PlanRound,
]


def wipe_special() -> None:
    """The special work's demo records, before `wipe_households` deletes the cases and houses they name."""
    for model in SPECIAL_MODELS:
        model.objects.all().delete()


def run(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SPECIAL_MODELS}


def open_alerts() -> Counter:
    return Counter(Alert.objects.filter(status=AlertStatus.OPEN).values_list("rule_id", flat=True))


def test_the_demo_shows_the_special_work_in_yuyang_and_a_rerun_adds_nothing():
    """P3, P9–P11, P13–P16: records in 榆阳区, mostly in 镇川镇, in the states a county bureau should see."""
    run("--households", "1500", "--seed", "2021")
    today = dt.date.today()
    everything = [m.objects.all() for m in SPECIAL_MODELS if m not in (CardRound, PlanRound)]
    assert all(row.division_id.startswith(YUYANG[:6]) for qs in everything for row in qs)

    # P9: this year's flood plan, one July rainstorm with damage reports of 镇川镇, resettled or not yet
    assert EmergencyPlan.objects.filter(division_id=YUYANG, season=Season.FLOOD, year=today.year).count() == 1
    event = DisasterEvent.objects.get()
    assert event.is_sample and event.started_on.month == 7 and event.started_on <= today
    reports = DamageReport.objects.filter(event=event)
    assert reports.count() >= 6 and all(r.division_id.startswith(DEMO_TOWN) for r in reports)
    assert len(set(reports.values_list("level", flat=True))) >= 3
    assert Resettlement.objects.filter(report__event=event).count() >= 2
    assert reports.filter(needs_resettlement=True, resettlements__isnull=True).count() == 1
    assert CoordinationNote.objects.filter(event=event).count() == 1

    # P11: idle dangerous houses with watchers, visits, one never visited
    idle = IdleHouse.objects.all()
    assert idle.exists() and all(i.watcher_name for i in idle)
    assert idle.filter(sealed_on__isnull=True).exists()

    # P10: a returned household that was told the policy, signed its wish and got a ledger case (重新申请)
    opened = Tracking.objects.get(kind=TrackingKind.RETURNED, state=TrackingState.CASE_OPENED)
    assert opened.case is not None and opened.case.household_id == opened.household_id
    for tracking in Tracking.objects.filter(kind=TrackingKind.SECURED):
        assert tracking.origin_case.secured_means in (SecureMeans.RELATIVES, SecureMeans.RENTED)
    assert opened.case.source == CaseSource.REAPPLICATION

    # P14, P15: the published hotline, complaints in every state, publicity, one answered incident
    assert Hotline.objects.filter(division_id=YUYANG).count() == 1
    assert Complaint.objects.count() == 10
    assert set(Complaint.objects.values_list("state", flat=True)) == set(ComplaintState.values)
    assert PublicityActivity.objects.count() == 3
    assert OpinionIncident.objects.filter(response__gt="").count() == 1

    # P13: this year's round, still open, and cards handed to renovated households and to staff
    card_round = CardRound.objects.get(year=today.year)
    assert card_round.deadline > today
    audiences = set(CardDistribution.objects.values_list("audience", flat=True))
    assert Audience.STAFF in audiences

    # P16, P3: 榆阳区 filed its plan; one 暗访 with three findings, one accepted, one late and open
    assert PlanFiling.objects.filter(division_id=YUYANG).count() == 1
    visit = Visit.objects.get()
    assert visit.mode == VisitMode.UNANNOUNCED and visit.division_id == YUYANG
    states = Counter(Finding.objects.filter(visit=visit).values_list("state", flat=True))
    assert states == {FindingState.ACCEPTED: 1, FindingState.OPEN: 1, FindingState.SUBMITTED: 1}

    # the alerts the demo means to show
    alerts = open_alerts()
    for rule in ("P9.resettlement_missing", "P11.visit_missed", "P14.reply_overdue", "P3.finding_late"):
        assert alerts[rule] >= 1, rule

    # idempotent: the builder again, then the command with --if-empty, add nothing
    before, events = counts(), Event.objects.count()
    made = demo_special_ensure(seed=2021)
    assert set(made.made.values()) == {0}
    run("--households", "1500", "--seed", "2021", "--if-empty")
    assert counts() == before
    assert Event.objects.count() == events
