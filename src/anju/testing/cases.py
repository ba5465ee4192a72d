"""Builders for ledger cases, through the real services (P2, P19–P22).

    case = cases.dangerous_case(house)                    # appraised C today → a case in 已鉴定 with its deadline
    case = cases.advance(case, "under_construction")      # consent, plan, design, trained builder, start
    case = cases.advance(case, "closed")                  # … visit, complete, accept, all twelve sign-offs, close
    people = cases.signers(case)                          # the village, town and county signers of the case

Missing people (signers, a trained craftsman) and a subsidy rate are created on first use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anju.accounts.models import User
from anju.cases.models import Case, CaseState, Craftsman, SignOffKind, SubsidyRate
from anju.cases.services import cases as case_services
from anju.cases.services import renovation, signoffs
from anju.cases.services.signoffs import LEVEL_ROLE, LEVELS, level_code
from anju.registry.models import House
from anju.testing import appraisals, factories

ORDER = [
    CaseState.APPRAISED,
    CaseState.PLANNED,
    CaseState.UNDER_CONSTRUCTION,
    CaseState.COMPLETED,
    CaseState.ACCEPTED,
    CaseState.CLOSED,
]


def manager(case: Case) -> User:
    """The county manager who writes the county's moves (the one `factories` writes houses with)."""
    return factories._system(case.division)


def signers(case: Case) -> dict[str, User]:
    """One signer per level (village, town, county) of the case's divisions, created on first use."""
    people = {}
    for level in LEVELS:
        code = level_code(case.division_id, level)
        username = f"signer_{level}_{code}"
        found = User.objects.filter(username=username).first()
        people[level] = found or factories.user(username, code, LEVEL_ROLE[level])
    return people


def sign(case: Case, *kinds: str) -> Case:
    """Sign `kinds` (default: every kind that can be signed now) at the three levels, bottom up."""
    people = signers(case)
    for kind in kinds or SignOffKind.values:
        for level in LEVELS:
            if not case.signoffs.filter(kind=kind, level=level).exists():
                signoffs.signoff_sign(actor=people[level], case=case, kind=kind)
    return Case.objects.get(pk=case.pk)


def craftsman(case: Case, *, year: int | None = None, trained: bool = True) -> Craftsman:
    """A craftsman registered in the case's county, trained in `year` (default: this year) unless `trained=False`."""
    county = case.division_id[:6] + "000000"
    person = Craftsman.objects.create(division_id=county, name=f"工匠{Craftsman.objects.count() + 1}")
    if trained:
        train(person, year)
    return person


def train(person: Craftsman, year: int | None = None) -> Craftsman:
    """P17, P22: the craftsman signed in at the county's training session of `year` (default: this year)."""
    factories.training_session(person.division_id, year).attendances.get_or_create(
        craftsman=person, defaults={"signed_in": True}
    )
    return person


def rate(year: int | None = None, method: str = "reinforce", amount: str = "20000.00") -> SubsidyRate:
    found, _ = SubsidyRate.objects.get_or_create(
        year=year or dt.date.today().year, method=method, grade="", category_code="", defaults={"amount": amount}
    )
    return found


def dangerous_case(house: House, *, grade: str = "C", appraised_on: dt.date | None = None) -> Case:
    """A case opened by an appraisal of `house` at `grade` (C: a component c; D: a dangerous site)."""
    components = {} if grade == "D" else {next(iter(appraisals.all_a(house))): grade.lower()}
    appraisals.appraisal(house, components=components, site_dangerous=grade == "D", appraised_on=appraised_on)
    return Case.objects.get(house=house, state=CaseState.APPRAISED)


def advance(case: Case, to: str, *, method: str = "reinforce", on: dt.date | None = None, **_: Any) -> Case:
    """Move `case` forward along the renovation path until it reaches state `to`."""
    on = on or dt.date.today()
    actor = manager(case)
    while case.state != to:
        state = case.state
        if state == CaseState.APPRAISED:
            renovation.renovation_apply(
                actor=actor, case=case, applied_on=on, consent_on=on, consent_by=case.household.head_name
            )
            rate(on.year, method)
            case = renovation.case_plan(actor=actor, case=case, method=method, planned_on=on)
        elif state == CaseState.PLANNED:
            renovation.renovation_design(actor=actor, case=case, design_kind="atlas", design_reference="陕农房-A1")
            builder = craftsman(case, year=on.year)  # chosen today, so trained this year too; works start `on`
            train(builder)
            renovation.renovation_builder(actor=actor, case=case, builder=builder)
            case = renovation.case_start(actor=actor, case=case, started_on=on)
        elif state == CaseState.UNDER_CONSTRUCTION:
            renovation.site_visit_add(actor=actor, case=case, visited_on=on, findings="施工规范")
            case = renovation.case_complete(actor=actor, case=case, completed_on=on)
        elif state == CaseState.COMPLETED:
            case = renovation.case_accept(
                actor=actor,
                case=case,
                accepted_on=on,
                acceptance_team="县住建局、镇村干部、农户",
                household_signed=True,
            )
        elif state == CaseState.ACCEPTED:
            case = sign(case)
            case = case_services.case_close(actor=actor, case=case, closed_on=on)
        else:
            raise ValueError(f"cannot advance a case in {state} to {to}")
        case = Case.objects.get(pk=case.pk)
    return case
