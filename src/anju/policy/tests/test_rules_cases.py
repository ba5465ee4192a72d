"""The ledger's rules (P19 late, due soon, unsafe transitional housing) and the P7 "reinforced" reason from the
ledger, at their boundaries, through the real services; incremental refresh on commit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anju.cases.models import Case, CaseState
from anju.cases.selectors import CaseFilters, case_filter
from anju.cases.services import cases as case_services
from anju.cases.services import renovation
from anju.policy.models import Alert, AlertStatus
from anju.policy.rules import Context, rule_get
from anju.policy.services import alerts_refresh
from anju.registry import services as registry
from anju.registry.models import GradeSource
from anju.testing import cases, factories

pytestmark = pytest.mark.django_db

LATE, SOON, TRANSITIONAL, P7 = "P19.case_late", "P19.case_due_soon", "P19.transitional_unsafe", "P7.monitoring"
P19 = (LATE, SOON, TRANSITIONAL)
JUNE_30 = dt.date(2025, 6, 30)  # P19: appraised January–June → due 30 November of the same year
DUE = dt.date(2025, 11, 30)


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def staff(village):
    """The village's information officer: the responsible person (P18) of its alerts."""
    return factories.user("village_officer", village.code, "village_staff")


def new_case(village, *, grade: str = "C", appraised_on: dt.date = JUNE_30, structure: str = "brick_concrete") -> Case:
    house = factories.house(factories.household(village), structure=structure)
    return cases.dangerous_case(house, grade=grade, appraised_on=appraised_on)


def found(rule_id: str, today: dt.date, case: Case | None = None) -> list:
    """What the rule finds on `today` (for one case's household, or everywhere)."""
    households = frozenset([case.household_id]) if case else None
    return list(rule_get(rule_id).evaluate(Context(today=today, household_ids=households)))


def open_alerts(rule_id: str, **filters):
    return Alert.objects.filter(rule_id=rule_id, status=AlertStatus.OPEN, **filters)


# -- P19 late -----------------------------------------------------------------------------------------------------


def test_p19_appraised_30_june_is_due_30_november(village):
    case = new_case(village)
    assert case.due_on == DUE


def test_p19_not_late_on_30_november_late_on_1_december(village, staff):
    case = new_case(village)
    assert found(LATE, DUE, case) == []
    alerts_refresh(today=DUE + dt.timedelta(days=1), rule_ids=[LATE])
    alert = open_alerts(LATE).get()
    assert (alert.object_type, alert.object_id, alert.household_id) == ("cases.case", case.pk, case.household_id)
    assert alert.division_id == case.division_id and alert.due_on == DUE
    assert alert.policy_ids == ["P19"] and alert.severity == "critical"
    assert alert.responsible_id == staff.pk and alert.responsible_name == staff.get_full_name()
    assert "2025-11-30" in alert.message and "已鉴定" in alert.message and "C级" in alert.message
    assert "逾期1天" in alert.message


def test_p19_rule_and_ledger_late_filter_agree(village):
    """One definition: the ledger's 逾期 filter lists exactly the cases the rule finds."""
    late, completed, fresh = new_case(village), new_case(village), new_case(village, appraised_on=dt.date(2025, 7, 1))
    cases.advance(completed, CaseState.COMPLETED)
    today = dt.date(2025, 12, 1)
    by_rule = {f.object_id for f in found(LATE, today)}
    by_ledger = set(case_filter(Case.objects.all(), CaseFilters(late=True), today).values_list("pk", flat=True))
    assert by_rule == by_ledger == {late.pk}
    assert fresh.due_on == dt.date(2026, 5, 31)


@pytest.mark.parametrize("to", [CaseState.COMPLETED, CaseState.ACCEPTED, CaseState.CLOSED])
def test_p19_a_completed_case_is_never_late(village, to):
    case = cases.advance(new_case(village), to)
    assert found(LATE, dt.date(2030, 1, 1), case) == []
    assert found(SOON, DUE - dt.timedelta(days=3), case) == []


def test_p19_a_case_made_safe_by_other_means_is_not_late(village):
    case = new_case(village)
    case_services.case_secure(
        actor=cases.manager(case), case=case, means="relatives", secured_on=dt.date(2025, 8, 1), evidence="投亲靠友协议"
    )
    assert found(LATE, dt.date(2026, 1, 1), case) == []


def test_p19_a_case_still_under_construction_is_late(village):
    case = cases.advance(new_case(village), CaseState.UNDER_CONSTRUCTION)
    [finding] = found(LATE, dt.date(2025, 12, 10), case)
    assert "施工中" in finding.message and "逾期10天" in finding.message


# -- P19 due soon -------------------------------------------------------------------------------------------------


def test_p19_due_soon_at_30_days_not_at_31(village):
    case = new_case(village)
    assert found(SOON, DUE - dt.timedelta(days=31), case) == []
    [finding] = found(SOON, DUE - dt.timedelta(days=30), case)
    assert finding.due_on == DUE and finding.object_id == case.pk and "还有30天" in finding.message
    [on_the_day] = found(SOON, DUE, case)
    assert "还有0天" in on_the_day.message
    assert found(SOON, DUE + dt.timedelta(days=1), case) == []  # late now, no longer "due soon"


def test_p19_late_takes_over_from_due_soon_in_one_refresh_cycle(village):
    case = new_case(village)
    alerts_refresh(today=DUE - dt.timedelta(days=5))
    assert open_alerts(SOON, object_id=case.pk).count() == 1
    assert not open_alerts(LATE).exists()
    alerts_refresh(today=DUE + dt.timedelta(days=1))
    assert not open_alerts(SOON).exists()
    assert open_alerts(LATE, object_id=case.pk).count() == 1
    assert Alert.objects.get(rule_id=SOON).status == AlertStatus.RESOLVED


# -- P19 transitional housing -------------------------------------------------------------------------------------


@pytest.fixture
def works(village):
    """A case under construction whose household must move out (the default of `case_start`), house still C."""
    case = cases.advance(new_case(village), CaseState.UNDER_CONSTRUCTION)
    assert case.renovation.must_move_out and case.house.grade == "C"
    return case


def housing(case: Case, *, from_on: dt.date, to_on: dt.date | None = None, confirmed: bool = True):
    return renovation.transitional_add(
        actor=cases.manager(case), case=case, kind="relatives", place="邻村亲戚家", from_on=from_on, to_on=to_on,
        safety_confirmed=confirmed,
    )  # fmt: skip


def test_p19_transitional_none_recorded_alerts(works):
    [finding] = found(TRANSITIONAL, dt.date.today(), works)
    assert finding.object_type == "cases.case" and finding.household_id == works.household_id
    assert finding.due_on == works.due_on and "C级" in finding.message and "过渡住房" in finding.message


def test_p19_transitional_unconfirmed_still_alerts_confirmed_does_not(works):
    today = dt.date.today()
    place = housing(works, from_on=today - dt.timedelta(days=3), confirmed=False)
    assert len(found(TRANSITIONAL, today, works)) == 1
    renovation.transitional_confirm(actor=cases.manager(works), housing=place)
    assert found(TRANSITIONAL, today, works) == []


def test_p19_transitional_confirmed_covers_only_its_dates(works):
    today = dt.date.today()
    housing(works, from_on=today - dt.timedelta(days=20), to_on=today - dt.timedelta(days=10))
    assert found(TRANSITIONAL, today - dt.timedelta(days=10), works) == []  # the last day still covers
    assert len(found(TRANSITIONAL, today - dt.timedelta(days=9), works)) == 1  # expired
    assert len(found(TRANSITIONAL, today - dt.timedelta(days=21), works)) == 1  # not begun yet
    housing(works, from_on=today - dt.timedelta(days=9))  # open-ended
    assert found(TRANSITIONAL, today + dt.timedelta(days=400), works) == []


def test_p19_transitional_not_needed(village):
    stays = new_case(village)
    stays = cases.advance(stays, CaseState.PLANNED)
    actor = cases.manager(stays)
    renovation.renovation_design(actor=actor, case=stays, design_kind="atlas", design_reference="陕农房-A1")
    renovation.renovation_builder(actor=actor, case=stays, builder=cases.craftsman(stays))
    renovation.case_start(actor=actor, case=stays, started_on=dt.date.today(), must_move_out=False)
    assert found(TRANSITIONAL, dt.date.today(), stays) == []
    regraded = cases.advance(new_case(village), CaseState.UNDER_CONSTRUCTION)
    registry.house_grade(
        actor=cases.manager(regraded), house=regraded.house, grade="B", graded_on=dt.date.today(),
        source=GradeSource.MANUAL,
    )  # fmt: skip
    assert found(TRANSITIONAL, dt.date.today(), regraded) == []
    planned = cases.advance(new_case(village), CaseState.PLANNED)
    assert found(TRANSITIONAL, dt.date.today(), planned) == []


# -- incremental refresh after each case service -------------------------------------------------------------------
#
# In a test transaction nothing commits: a service called outside `django_capture_on_commit_callbacks` leaves its
# refresh pending, and later services of the test join that one (one refresh per transaction). So the setup runs
# inside a capture too, and each service under test gets its own.


def test_completing_a_late_case_resolves_its_alert_on_commit(village, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.advance(new_case(village), CaseState.UNDER_CONSTRUCTION)
    late = open_alerts(LATE, object_id=case.pk).get()  # today: long after 30 November 2025
    actor = cases.manager(case)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        renovation.site_visit_add(actor=actor, case=case, visited_on=dt.date.today(), findings="施工规范")
    assert len(callbacks) == 1
    assert open_alerts(LATE, object_id=case.pk).get() == late
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        renovation.case_complete(actor=actor, case=case, completed_on=dt.date.today())
    assert len(callbacks) == 1
    late.refresh_from_db()
    assert late.status == AlertStatus.RESOLVED and late.resolved_at is not None


def test_starting_works_opens_and_safe_housing_resolves_the_transitional_alert(
    village, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.advance(new_case(village), CaseState.PLANNED)
        actor = cases.manager(case)
        renovation.renovation_design(actor=actor, case=case, design_kind="atlas", design_reference="陕农房-A1")
        renovation.renovation_builder(actor=actor, case=case, builder=cases.craftsman(case))
    assert not open_alerts(TRANSITIONAL).exists()
    with django_capture_on_commit_callbacks(execute=True):
        renovation.case_start(actor=actor, case=case, started_on=dt.date.today())
    assert open_alerts(TRANSITIONAL, object_id=case.pk).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        housing(Case.objects.get(pk=case.pk), from_on=dt.date.today())
    assert not open_alerts(TRANSITIONAL).exists()


def test_an_appraisal_c_opens_the_case_and_its_late_alert_on_commit(village, django_capture_on_commit_callbacks):
    house = factories.house(factories.household(village), structure="brick_concrete")
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.dangerous_case(house, appraised_on=JUNE_30)
    assert open_alerts(LATE, object_id=case.pk, household_id=house.household_id).count() == 1


def test_full_refresh_costs_the_same_queries_for_more_cases(village):
    """Streaming, no query per row: the P19 rules cost a fixed number of queries whatever the ledger's size."""
    counts = []
    for n in (2, 5):
        while Case.objects.count() < n:
            cases.advance(new_case(village), CaseState.UNDER_CONSTRUCTION)
        Alert.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            report = alerts_refresh(rule_ids=list(P19))
        assert report.rules[LATE].open == report.rules[TRANSITIONAL].open == n
        counts.append(len(ctx))
    assert counts[0] == counts[1]


# -- P7 reinforced: the ledger decides, the grade history only for houses it does not know ---------------------------


def reasons_of(household_id: int) -> dict[str, str]:
    return {a.reason: a.message for a in open_alerts(P7, household_id=household_id)}


@pytest.mark.parametrize("to", [CaseState.ACCEPTED, CaseState.CLOSED])
@pytest.mark.parametrize("method", ["reinforce", "seismic", "idle_repair"])
def test_p7_an_accepted_reinforcing_renovation_marks_the_house_reinforced(village, to, method):
    case = cases.advance(new_case(village), to, method=method)
    alerts_refresh(rule_ids=[P7])
    message = reasons_of(case.household_id)["reinforced"]
    assert f"台账#{case.pk}" in message and "C级" in message and "竣工验收" in message
    assert case.renovation.get_method_display() in message


def test_p7_not_reinforced_before_acceptance_or_when_rebuilt(village):
    building = cases.advance(new_case(village), CaseState.COMPLETED)
    rebuilt = cases.advance(new_case(village, grade="D"), CaseState.COMPLETED, method="rebuild")
    renovation.case_accept(
        actor=cases.manager(rebuilt), case=rebuilt, accepted_on=dt.date.today(), acceptance_team="县住建局、农户",
        household_signed=True, house_grade_after="A",
    )  # fmt: skip
    rebuilt.house.refresh_from_db()
    assert rebuilt.house.grade == "A"  # the grade history says "once D, now A" — but the ledger says rebuilt
    alerts_refresh(rule_ids=[P7])
    assert "reinforced" not in reasons_of(building.household_id)
    assert "reinforced" not in reasons_of(rebuilt.household_id)


def test_p7_reinforced_by_ledger_with_the_grade_after_acceptance(village):
    """Accepted with the house regraded B: one reason, from the ledger, not twice."""
    case = cases.advance(new_case(village, structure="earth_wood"), CaseState.COMPLETED)
    renovation.case_accept(
        actor=cases.manager(case), case=case, accepted_on=dt.date.today(), acceptance_team="县住建局、农户",
        household_signed=True, house_grade_after="B",
    )  # fmt: skip
    alerts_refresh(rule_ids=[P7])
    reasons = reasons_of(case.household_id)
    assert set(reasons) == {"grade_b_earth", "reinforced"}
    assert f"台账#{case.pk}" in reasons["reinforced"] and "曾于" not in reasons["reinforced"]


def test_p7_imported_history_without_a_case_still_counts(village):
    household = factories.household(village)
    house = factories.house(household, structure="brick_concrete")
    actor = factories._system(village)
    for grade, on in (("C", dt.date(2019, 5, 14)), ("A", dt.date(2020, 6, 1))):
        registry.house_grade(actor=actor, house=house, grade=grade, graded_on=on, source=GradeSource.IMPORT)
    alerts_refresh(rule_ids=[P7])
    message = reasons_of(household.pk)["reinforced"]
    assert "曾于2019-05-14鉴定为C级，现为A级" in message


def test_p7_one_household_with_a_ledger_house_and_an_imported_one_gets_one_reason(village):
    case = cases.advance(new_case(village), CaseState.ACCEPTED)
    old = factories.house(case.household, structure="brick_concrete")
    actor = factories._system(village)
    for grade, on in (("D", dt.date(2019, 5, 14)), ("B", dt.date(2020, 6, 1))):
        registry.house_grade(actor=actor, house=old, grade=grade, graded_on=on, source=GradeSource.IMPORT)
    alerts_refresh(rule_ids=[P7])
    alerts = list(open_alerts(P7, household_id=case.household_id, reason="reinforced"))
    assert len(alerts) == 1
    assert f"台账#{case.pk}" in alerts[0].message and "曾于2019-05-14鉴定为D级" in alerts[0].message


def test_p7_reinforced_on_commit_of_the_acceptance(village, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.advance(new_case(village), CaseState.COMPLETED)
    assert "reinforced" not in reasons_of(case.household_id)
    with django_capture_on_commit_callbacks(execute=True):
        renovation.case_accept(
            actor=cases.manager(case), case=case, accepted_on=dt.date.today(), acceptance_team="县住建局、农户",
            household_signed=True,
        )  # fmt: skip
    assert "reinforced" in reasons_of(case.household_id)
