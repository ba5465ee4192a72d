"""`anju demo` writes a living ledger (issue 4, P2, P19–P22): cases in every state across the last two years,
through the real services, deterministic for a seed, in the county of the demo users."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from anju.accounts.models import User
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.audit.services import chain_verify
from anju.cases.models import (
    Case,
    CaseOutcome,
    CaseSource,
    CaseState,
    Renovation,
    SignOff,
    SiteVisit,
    SubsidyPayment,
    SubsidyRate,
    TransitionalHousing,
)
from anju.cases.selectors import due_soon_q, late_q
from anju.cases.services.cases import PROBLEM_LIST_TYPES
from anju.demo import cases as ledger
from anju.demo.tests.test_demo import wipe_households
from anju.policy.deadlines import completion_deadline
from anju.policy.models import Alert, AlertStatus
from anju.policy.services import alerts_refresh_deferred
from anju.testing import cases as case_builders
from anju.testing import factories
from anju.training.selectors import craftsman_is_trained

YUYANG, SHENMU = "610802000000", "610881000000"


def run(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def today() -> dt.date:
    return dt.date.today()


def ledger_cases():
    """The cases the ledger opened: not those an appraisal of the demo's P8 requests opened (suspected, with
    the request that led to it)."""
    return Case.objects.exclude(source=CaseSource.SUSPECTED, appraisal_request__isnull=False)


def ledger_digest() -> str:
    """The ledger as a user sees it, independent of database ids and of the signing time."""
    lines = []
    for case in Case.objects.select_related("household", "renovation").order_by("id"):
        renovation = getattr(case, "renovation", None)
        works = (
            (renovation.method, renovation.applied_on, renovation.planned_on, renovation.started_on,
             renovation.completed_on, renovation.accepted_on, renovation.subsidy_amount, renovation.builder.name
             if renovation.builder else "")
            if renovation else ()
        )  # fmt: skip
        signed = sorted(case.signoffs.values_list("kind", "level", "signer__username"))
        paid = sorted(case.payments.values_list("paid_on", "amount"))
        lines.append(
            f"{case.household.id_hash}|{case.source}|{case.household_type}|{case.state}|{case.outcome}|{case.grade}|"
            f"{case.opened_on}|{case.appraised_on}|{case.due_on}|{case.secured_on}|{case.closed_on}|{works}|"
            f"{signed}|{paid}"
        )
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def loaded_event() -> Event:
    return Event.objects.filter(action=Action.DEMO_LOADED).latest("id")


@pytest.mark.django_db
def test_a_small_demo_has_a_living_ledger_in_every_state():
    """P19: every state, late and due-soon cases, closed ones with the four clears signed at three levels (P2)."""
    out = run("--households", "300", "--seed", "7")
    cases = Case.objects.all()
    states = Counter(cases.values_list("state", flat=True))
    assert set(states) == set(CaseState.values)
    assert not cases.filter(is_sample=False).exists()

    assert cases.filter(late_q(today())).exists()
    if ledger.due_soon_window(today()) is not None:  # P19 deadlines are 31 May and 30 Nov: only then can one be near
        assert cases.filter(due_soon_q(today())).exists()
    for case in cases.exclude(appraised_on=None):
        assert case.appraised_on <= today() and case.appraised_on.year >= today().year - 1
        if case.grade in ("C", "D"):
            assert case.due_on == completion_deadline(case.appraised_on)

    closed = cases.filter(state=CaseState.CLOSED)
    assert {c.outcome for c in closed} == {CaseOutcome.RENOVATED, CaseOutcome.SAFE, CaseOutcome.SECURED}
    for case in closed:
        assert case.signoffs.count() == 12, case
        assert case.closed_on <= today()
    assert closed.filter(outcome=CaseOutcome.SAFE).exclude(grade__in=["A", "B"]).count() == 0
    secured = cases.filter(state__in=[CaseState.SECURED, CaseState.CLOSED], outcome__in=["", CaseOutcome.SECURED])
    secured = secured.exclude(secured_on=None)
    assert secured.exists() and all(len(c.secured_evidence) >= 4 for c in secured)

    problem = cases.filter(source=CaseSource.PROBLEM_LIST)
    assert problem.exists()
    for case in problem:
        assert case.household_type in PROBLEM_LIST_TYPES and case.transferred_on <= case.opened_on

    building = cases.filter(state=CaseState.UNDER_CONSTRUCTION, renovation__must_move_out=True)
    confirmed = TransitionalHousing.objects.filter(safety_confirmed=True, case__in=building)
    assert confirmed.exists()
    assert building.exclude(transitional_housing__safety_confirmed=True).exists()
    assert SiteVisit.objects.filter(needs_fix=True, fixed_on=None, case__state=CaseState.UNDER_CONSTRUCTION).exists()

    # P17, P22: every builder was trained in the year the works started; P4: never paid more than the subsidy
    for renovation in Renovation.objects.exclude(started_on=None).select_related("builder"):
        assert craftsman_is_trained(renovation.builder, renovation.started_on.year)
        assert renovation.builder.is_sample
    assert SubsidyPayment.objects.exists()
    for renovation in Renovation.objects.filter(case__payments__isnull=False).distinct():
        paid = SubsidyPayment.objects.filter(case=renovation.case).aggregate(s=Sum("amount"))["s"]
        assert Decimal(0) < paid <= renovation.subsidy_amount
        assert not SubsidyPayment.objects.filter(case=renovation.case, paid_on__lt=renovation.accepted_on).exists()
    rates = SubsidyRate.objects.filter(is_sample=True)
    assert {r.year for r in rates} == {today().year - 1, today().year}
    assert all("示例" in r.note for r in rates)

    # a 300-household demo has no household in 榆阳区: the ledger is in 神木市, all of it seen by shenmu_admin
    county_user = User.objects.get(username="shenmu_admin")
    assert ledger_cases().filter(division__code__range=(SHENMU, "610881999999")).count() == ledger_cases().count()
    assert set(ledger_cases().values_list("pk", flat=True)) <= set(
        Case.objects.visible_to(county_user).values_list("pk", flat=True)
    )
    signers = User.objects.filter(full_name__endswith=ledger.SIGNER_SUFFIX)
    assert 0 < signers.count() <= 2 * ledger.MAX_SIGNING_VILLAGES
    assert all(s.username in out for s in signers)  # listed with the demo users

    event = loaded_event()
    assert event.extra["cases"] == {s: n for s, n in states.items()}
    assert event.extra["cases_late"] == cases.filter(late_q(today())).count()
    assert "台账" in out and "已销号" in out
    assert chain_verify() is None


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_ledger_and_if_empty_adds_none():
    run("--households", "300", "--seed", "3")
    first, first_sha = ledger_digest(), loaded_event().extra["cases_sha256"]
    count = Case.objects.count()

    wipe_households()
    run("--households", "300", "--seed", "3")
    assert ledger_digest() == first
    assert loaded_event().extra["cases_sha256"] == first_sha
    assert Case.objects.count() == count

    events, signoffs = Event.objects.count(), SignOff.objects.count()
    run("--households", "300", "--if-empty")
    assert (Case.objects.count(), SignOff.objects.count(), Event.objects.count()) == (count, signoffs, events)

    wipe_households()
    run("--households", "300", "--seed", "4")
    assert ledger_digest() != first


@pytest.mark.django_db
def test_from_a_thousand_households_the_ledger_is_the_yuyang_demo_users():
    """The cases lie in 榆阳区, most in 镇川镇, so yuyang_admin sees them all and the town user signs."""
    run("--households", "1500", "--seed", "2021")
    county_user = User.objects.get(username="yuyang_admin")
    mine = ledger_cases()
    assert mine.count() >= ledger.MIN_CASES
    assert set(mine.values_list("pk", flat=True)) <= set(
        Case.objects.visible_to(county_user).values_list("pk", flat=True)
    )
    town_user = User.objects.get(username="zhenchuan_zhen")
    assert Case.objects.visible_to(town_user).exists()
    assert SignOff.objects.filter(signer=town_user).exists()
    assert SignOff.objects.filter(signer=county_user).exists()
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    assert chain_verify() is None


DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in range(0, 365, 5)] + [
    dt.date(2026, 5, 1),
    dt.date(2026, 5, 31),
    dt.date(2026, 10, 31),
    dt.date(2026, 11, 30),
    dt.date(2026, 12, 1),
    dt.date(2026, 12, 31),
]


@pytest.mark.parametrize("day", DAYS)
def test_the_plan_is_late_due_soon_and_recent_on_any_day(day):
    """P19 from the plan's dates alone: late = deadline passed; due soon = deadline within 30 days, which is
    possible only in May and November; recent = neither."""
    plans = ledger.plan_ledger(seed=1, today=day, count=ledger.MAX_CASES)
    timings = Counter(p.spec.timing for p in plans)
    window = ledger.due_soon_window(day)
    assert bool(timings["due_soon"]) == (window is not None)
    assert (window is not None) == (
        dt.date(day.year, 5, 1) <= day <= dt.date(day.year, 5, 31)
        or dt.date(day.year, 10, 31) <= day <= dt.date(day.year, 11, 30)
    )
    for plan in plans:
        on = plan.appraised_on
        if plan.spec.timing == "none":
            assert on is None
            continue
        assert on <= day and on.year in (day.year - 1, day.year)
        deadline = completion_deadline(on)
        if plan.spec.timing == "late":
            assert deadline < day
        elif plan.spec.timing == "due_soon":
            assert day <= deadline <= day + dt.timedelta(days=30)
        elif plan.spec.timing == "recent":
            assert deadline > day + dt.timedelta(days=30)
    assert [p.spec.kind for p in plans[: len(ledger.CORE)]] == [s.kind for s in ledger.CORE]


def test_size_and_county():
    assert ledger.ledger_size(300) == 40 and ledger.ledger_size(20_000) == 90
    assert ledger.ledger_size(1_000_000) == ledger.MAX_CASES
    assert ledger.ledger_county({YUYANG: 30, SHENMU: 500}) == YUYANG
    assert ledger.ledger_county({YUYANG: 0, SHENMU: 20}) == SHENMU
    assert ledger.ledger_county({YUYANG: 12, SHENMU: 3}) == YUYANG


@pytest.mark.django_db
def test_deferred_alerts_refresh_once_when_the_block_ends(django_capture_on_commit_callbacks):
    """The demo's hundreds of services: each commit's household is collected, refreshed once at the end (P19)."""
    house = factories.house(factories.household(factories.village(factories.YUYANG_TOWN, 1)))
    with alerts_refresh_deferred():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            case = case_builders.dangerous_case(house, appraised_on=dt.date(today().year - 1, 3, 10))
        assert callbacks  # the appraisal's commit asked for a refresh …
        assert not Alert.objects.exists()  # … which waits for the end of the block
    late = Alert.objects.get(rule_id="P19.case_late", object_id=case.pk)
    assert late.status == AlertStatus.OPEN
