"""Opening, appraisal, secured by other means, cancel and close-out, straight against the services (P1, P2, P8, P10,
P19). Refusals are checked by their Chinese message and field; a refused move leaves the case where it was."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseOutcome, CaseSource, CaseState, SignOff
from anju.cases.services import cases as services
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.inspections.models import AppraisalRequest, RequestStatus
from anju.inspections.services import appraisals as appraisal_services
from anju.policy.deadlines import completion_deadline
from anju.registry.models import Household
from anju.testing import appraisals, cases, factories
from anju.testing import campaigns as c

from .services_world import *  # noqa: F403
from .services_world import TODAY, TOMORROW, YESTERDAY, appraise_request, registered, safe_case

pytestmark = pytest.mark.django_db


def history(case) -> list[str]:
    return list(
        Event.objects.filter(object_type="cases.case", object_id=str(case.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_case_from_appraisal_c_to_closed_writes_its_whole_history(house):
    """P2, P19–P22: one case from an appraisal C to 已销号 through every service; each move is in its history."""
    case = cases.dangerous_case(house)
    assert case.grade == "C" and case.due_on == completion_deadline(TODAY)
    case = cases.advance(case, CaseState.CLOSED)
    assert case.outcome == CaseOutcome.RENOVATED and case.closed_on == TODAY
    assert SignOff.objects.filter(case=case).count() == 12
    actions = history(case)
    assert actions[0] == Action.CASE_OPENED and actions[-1] == Action.CASE_CLOSED
    for action in (Action.RENOVATION_APPLIED, Action.CASE_PLANNED, Action.RENOVATION_DESIGNED,
                   Action.RENOVATION_BUILDER_SET, Action.CASE_STARTED, Action.SITE_VISIT_RECORDED,
                   Action.CASE_COMPLETED, Action.CASE_ACCEPTED):  # fmt: skip
        assert action in actions
    assert actions.count(Action.SIGNOFF_SIGNED) == 12


# Opening --------------------------------------------------------------------------------------------------------


def test_one_open_case_per_house_p19(house):
    """P19: one problem, one case: a second case for a house with an open case is refused, naming the first."""
    first = registered(house)
    with pytest.raises(ConflictError) as exc:
        registered(house)
    assert exc.value.errors["house"] == f"该房屋已有未销号的台账#{first.pk}（登记），请在原台账中处理"


def test_problem_list_item_needs_household_type_and_transfer_date_p1(house):
    """policy: P1 — the rural-revitalisation department's list classifies each household and is transferred."""
    with pytest.raises(DomainError) as exc:
        registered(house, source=CaseSource.PROBLEM_LIST)
    assert "脱贫不稳定户" in exc.value.errors["household_type"]
    assert exc.value.errors["transferred_on"] == "请填写移交日期"
    case = registered(house, source=CaseSource.PROBLEM_LIST, household_type="edge", transferred_on=YESTERDAY)
    assert case.household_type == "edge" and case.state == CaseState.REGISTERED


def test_village_staff_opens_cases_only_in_its_village(village, village_staff):
    neighbour = factories.household(factories.village(factories.YUYANG_TOWN, 2))
    with pytest.raises(ScopeError):
        services.case_open(actor=village_staff, household=neighbour, source="suspected", description="漏雨")
    own = factories.household(village)
    case = services.case_open(actor=village_staff, household=own, source="suspected", description="漏雨")
    assert case.division_id == village.code and case.opened_by == village_staff


def test_opening_date_in_the_future_is_refused(house):
    with pytest.raises(DomainError) as exc:
        registered(house, opened_on=TOMORROW)
    assert exc.value.errors["opened_on"] == "登记日期不能晚于今天"
    assert not Case.objects.exists()


# The appraisal hook (P8, P19) -------------------------------------------------------------------------------------


def test_appraisal_c_of_a_house_without_case_opens_one_as_suspected_p8_p19(house):
    """policy: P8, P19 — a house appraised dangerous enters the ledger; its deadline runs from the appraisal."""
    appraised_on = dt.date(TODAY.year, 3, 10)
    appraisals.appraisal(house, components={next(iter(appraisals.all_a(house))): "c"}, appraised_on=appraised_on)
    case = Case.objects.get(house=house)
    assert (case.state, case.grade, case.source) == (CaseState.APPRAISED, "C", CaseSource.SUSPECTED)
    assert case.appraised_on == appraised_on == case.opened_on
    assert case.due_on == dt.date(TODAY.year, 11, 30)
    assert case.measures == "局部危房：按规定修缮加固，消除危险点"
    assert history(case) == [Action.CASE_OPENED]


def test_appraisal_d_after_an_annual_check_opens_a_case_from_the_annual_check_p5_p8(village, house):
    """policy: P5, P8 — a suspected house found by this year's annual check: the case's source is 年度核查."""
    campaign = c.campaign(factories.YUYANG, year=TODAY.year)
    check = c.check(campaign, house.household, verdict="suspected", findings=[{"house": house, "cracks": True}])
    request = AppraisalRequest.objects.get(check_record=check)
    appraiser = factories.trained(appraisals.appraiser_for(house))
    appraisal_services.request_assign(actor=appraisals.county_manager(house), request=request, appraiser=appraiser)
    appraisals.appraisal(house, appraiser, request=request, site_dangerous=True)
    case = Case.objects.get(house=house)
    assert (case.source, case.grade, case.appraisal_request) == (CaseSource.ANNUAL_CHECK, "D", request)
    assert case.measures.startswith("整幢危房")


def test_appraisal_after_a_flood_season_check_is_suspected_not_annual_p8(house):
    """Only the annual campaign (P5) makes a 年度核查 case; a flood-season check (P9) is a suspected report."""
    campaign = c.campaign(factories.YUYANG, "flood")
    check = c.check(campaign, house.household, verdict="suspected", findings=[{"house": house, "cracks": True}])
    request = AppraisalRequest.objects.get(check_record=check)
    appraiser = factories.trained(appraisals.appraiser_for(house))
    appraisal_services.request_assign(actor=appraisals.county_manager(house), request=request, appraiser=appraiser)
    appraisals.appraisal(house, appraiser, request=request, site_dangerous=True)
    assert Case.objects.get(house=house).source == CaseSource.SUSPECTED


def test_appraisal_a_of_a_house_without_case_opens_none(house):
    appraisals.appraisal(house)
    assert not Case.objects.exists()


def test_registered_case_appraised_a_is_settled_and_closed_as_safe_after_the_signoffs_p2(house):
    """policy: P2, P19 — a house found safe (A/B) is closed out as safe, once all four clears are signed."""
    case = registered(house)
    case = appraise_request(case, "A")
    assert (case.state, case.grade, case.due_on) == (CaseState.APPRAISED, "A", None)
    assert case.appraisal is not None and case.appraised_on == TODAY
    assert history(case)[-2:] == [Action.CASE_APPRAISAL_REQUESTED, Action.CASE_APPRAISED]
    manager = cases.manager(case)
    with pytest.raises(ConflictError) as exc:
        services.case_close(actor=manager, case=case)
    assert "尚缺：问题清（村级）" in exc.value.message
    case = cases.sign(case)
    case = services.case_close(actor=manager, case=case, closed_on=TODAY)
    assert (case.state, case.outcome) == (CaseState.CLOSED, CaseOutcome.SAFE)


def test_awaiting_case_appraised_c_gets_its_deadline_p19(house):
    case = appraise_request(registered(house), "C")
    assert (case.state, case.grade) == (CaseState.APPRAISED, "C")
    assert case.due_on == completion_deadline(TODAY)
    assert Case.objects.count() == 1  # settled, not a second case


def test_registered_case_is_settled_by_an_appraisal_without_request_p19(house):
    """A case opened by hand is settled by the next appraisal of its house, whoever asked for it."""
    case = registered(house)
    appraisals.appraisal(house, site_dangerous=True, appraised_on=YESTERDAY)
    case.refresh_from_db()
    assert (case.state, case.grade, case.appraised_on) == (CaseState.APPRAISED, "D", YESTERDAY)
    assert case.due_on == completion_deadline(YESTERDAY) and Case.objects.count() == 1


def test_reappraisal_does_not_rewind_a_case_under_construction(house):
    """A later appraisal of the house is in its grade history; the case under way keeps its state and grade."""
    case = cases.advance(cases.dangerous_case(house), CaseState.UNDER_CONSTRUCTION)
    first = case.appraisal_id
    appraisals.appraisal(house, site_dangerous=True)
    case.refresh_from_db()
    assert (case.state, case.grade, case.appraisal_id) == (CaseState.UNDER_CONSTRUCTION, "C", first)
    assert Case.objects.filter(house=house).count() == 1
    house.refresh_from_db()
    assert house.grade == "D"


def test_reappraisal_of_an_unsigned_appraised_case_resettles_it_p19(house):
    """Before anyone vouched for the appraisal (only 问题清 signed), the latest appraisal governs the case: a safe case
    re-appraised D becomes a dangerous one with its deadline, in place."""
    case = safe_case(house)
    cases.sign(case, "problem")
    appraisals.appraisal(house, site_dangerous=True, appraised_on=TODAY)
    case.refresh_from_db()
    assert (case.state, case.grade, case.due_on) == (CaseState.APPRAISED, "D", completion_deadline(TODAY))
    assert Case.objects.filter(house=house).count() == 1


def test_reappraisal_of_an_attested_case_voids_it_and_opens_a_new_one_p2(house):
    """P2: signatures are never changed, so a case whose 鉴定清 is signed and whose house is appraised again is
    cancelled with the reason on record, and a fresh case (same source and type) is opened from the new grade."""
    old = safe_case(house)
    cases.sign(old, "problem", "appraisal")
    appraisals.appraisal(house, site_dangerous=True, appraised_on=TODAY)
    old.refresh_from_db()
    assert old.state == CaseState.CANCELLED and "重新鉴定为D级" in old.cancel_reason
    new = Case.objects.get(house=house, state=CaseState.APPRAISED)
    assert (new.grade, new.source, new.household_type) == ("D", old.source, old.household_type)
    assert new.due_on == completion_deadline(TODAY) and not new.signoffs.exists()
    assert old.signoffs.count() == 6  # the old signatures stay, as the history of the void case


def test_request_appraisal_opens_a_p8_request(house):
    """policy: P1, P8 — the county has the case's house appraised: a request due in 15 days."""
    case = registered(house)
    case = services.case_request_appraisal(actor=cases.manager(case), case=case, description="逐户鉴定")
    request = case.appraisal_request
    assert case.state == CaseState.AWAITING_APPRAISAL
    assert (request.house, request.status, request.description) == (house, RequestStatus.OPEN, "逐户鉴定")


def test_request_appraisal_joins_an_open_request(house):
    """P8: one open request per house — the case joins the one a village already reported."""
    reported = appraisals.request(house, description="墙体裂缝")
    case = registered(house)
    case = services.case_request_appraisal(actor=cases.manager(case), case=case)
    assert case.appraisal_request == reported and AppraisalRequest.objects.count() == 1


def test_request_appraisal_needs_a_house_and_a_registered_case(village, house):
    case = registered(house)
    manager = cases.manager(case)
    without_house = services.case_open(
        actor=manager, household=factories.household(village), source="complaint", description="信访反映住房困难"
    )
    with pytest.raises(DomainError) as exc:
        services.case_request_appraisal(actor=manager, case=without_house)
    assert exc.value.message == "台账未关联房屋，不能申请鉴定"
    assert exc.value.errors["house"] == "请先登记该户的房屋，再申请鉴定"
    case = services.case_request_appraisal(actor=manager, case=case)
    with pytest.raises(ConflictError) as exc:
        services.case_request_appraisal(actor=manager, case=case)
    assert exc.value.message == "台账当前为「待鉴定」，不能申请鉴定（须为：登记）"


# Made safe by other means (P10, P19) -----------------------------------------------------------------------------


def test_secure_records_evidence_and_the_household_security_method_p10(case, manager):
    """policy: P10 — living with relatives is recorded with evidence, and the registry shows it."""
    case = services.case_secure(
        actor=manager, case=case, means="relatives", secured_on=TODAY, evidence="投靠儿子，儿子住房为A级"
    )
    assert (case.state, case.secured_means, case.secured_on) == (CaseState.SECURED, "relatives", TODAY)
    assert Household.objects.get(pk=case.household_id).security_method == "relatives"
    assert history(case)[-1] == Action.CASE_SECURED
    case = cases.sign(case)
    case = services.case_close(actor=manager, case=case, closed_on=TODAY)
    assert case.outcome == CaseOutcome.SECURED


def test_secure_guards(case, manager, house):
    with pytest.raises(DomainError) as exc:
        services.case_secure(actor=manager, case=case, means="relatives", secured_on=TODAY, evidence="有")
    assert "请说明保障安全的证明" in exc.value.errors["evidence"]
    with pytest.raises(DomainError) as exc:
        services.case_secure(actor=manager, case=case, means="tent", secured_on=TOMORROW, evidence="租房协议一份")
    assert exc.value.errors == {"secured_on": "保障日期不能晚于今天", "means": "请选择保障方式"}
    with pytest.raises(DomainError) as exc:
        services.case_secure(actor=manager, case=case, means="rented", secured_on=YESTERDAY, evidence="租房协议一份")
    assert exc.value.errors["secured_on"] == "保障日期不能早于鉴定日期"
    other = safe_case(factories.house(house.household))
    with pytest.raises(DomainError) as exc:
        services.case_secure(actor=manager, case=other, means="rented", secured_on=TODAY, evidence="租房协议一份")
    assert exc.value.errors["state"] == "只有鉴定为C级或D级的危房才需要通过其他方式保障安全"
    assert Case.objects.get(pk=case.pk).state == CaseState.APPRAISED


# Cancel --------------------------------------------------------------------------------------------------------


def test_cancel_needs_a_reason_and_cancels_the_open_request(house):
    case = registered(house)
    manager = cases.manager(case)
    case = services.case_request_appraisal(actor=manager, case=case)
    with pytest.raises(DomainError) as exc:
        services.case_cancel(actor=manager, case=case, reason="  ")
    assert exc.value.errors["reason"] == "请填写撤销理由"
    case = services.case_cancel(actor=manager, case=case, reason="重复登记")
    assert (case.state, case.cancel_reason) == (CaseState.CANCELLED, "重复登记")
    assert AppraisalRequest.objects.get(pk=case.appraisal_request_id).status == RequestStatus.CANCELLED
    assert history(case)[-1] == Action.CASE_CANCELLED


def test_a_case_under_way_is_not_cancelled(case, manager):
    case = cases.advance(case, CaseState.PLANNED)
    with pytest.raises(ConflictError) as exc:
        services.case_cancel(actor=manager, case=case, reason="误报")
    assert exc.value.message == "台账当前为「已纳入计划」，不能撤销（须为：登记、待鉴定、已鉴定）"
    assert exc.value.errors["state"] == "已纳入计划"


# Close-out (P2, P19) ---------------------------------------------------------------------------------------------


def test_no_close_out_while_a_signoff_is_missing_naming_it_p2(case, manager):
    """policy: P2 — a case cannot be closed while any of the four clears is unsigned at any level."""
    case = cases.advance(case, CaseState.ACCEPTED)
    with pytest.raises(ConflictError) as exc:
        services.case_close(actor=manager, case=case)
    assert exc.value.errors["signoffs"] == "尚缺12项签字"
    cases.sign(case, "problem", "appraisal", "renovation")
    people = cases.signers(case)
    from anju.cases.services.signoffs import signoff_sign

    signoff_sign(actor=people["village"], case=case, kind="acceptance")
    signoff_sign(actor=people["town"], case=case, kind="acceptance")
    with pytest.raises(ConflictError) as exc:
        services.case_close(actor=manager, case=case)
    assert exc.value.message == "四清一责任签字未完成，不能销号。尚缺：验收清（县级）"
    assert exc.value.errors["signoffs"] == "尚缺1项签字"
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED
    signoff_sign(actor=people["county"], case=case, kind="acceptance")
    assert services.case_close(actor=manager, case=case).state == CaseState.CLOSED


def test_a_dangerous_house_is_not_closed_before_renovation_p19(case, manager):
    with pytest.raises(ConflictError) as exc:
        services.case_close(actor=manager, case=case)
    assert exc.value.message == "该房屋鉴定为C级危房，须改造验收或通过其他方式保障安全后才能销号"
    assert exc.value.errors["state"] == "危房未改造"


def test_close_from_a_wrong_state_names_the_state(case, manager):
    case = cases.advance(case, CaseState.COMPLETED)
    with pytest.raises(ConflictError) as exc:
        services.case_close(actor=manager, case=case)
    assert exc.value.message == "台账当前为「已竣工」，不能销号（须为：已鉴定、已验收、保障安全）"
    assert exc.value.errors["state"] == "已竣工"


def test_close_date_is_neither_in_the_future_nor_before_the_acceptance_p19(house):
    accepted_on = TODAY - dt.timedelta(days=5)
    case = cases.dangerous_case(house, appraised_on=TODAY - dt.timedelta(days=20))
    case = cases.sign(cases.advance(case, CaseState.ACCEPTED, on=accepted_on))
    manager = cases.manager(case)
    with pytest.raises(DomainError) as exc:
        services.case_close(actor=manager, case=case, closed_on=TOMORROW)
    assert exc.value.errors["closed_on"] == "销号日期不能晚于今天"
    with pytest.raises(DomainError) as exc:
        services.case_close(actor=manager, case=case, closed_on=accepted_on - dt.timedelta(days=1))
    assert exc.value.errors["closed_on"] == f"销号日期不能早于验收日期（{accepted_on.isoformat()}）"
    assert services.case_close(actor=manager, case=case, closed_on=accepted_on).closed_on == accepted_on


def test_stale_close_form_is_refused(case, manager):
    case = cases.sign(cases.advance(case, CaseState.ACCEPTED))
    with pytest.raises(ConflictError) as exc:
        services.case_close(actor=manager, case=case, expected_version=case.version - 1)
    assert exc.value.errors["version"] == "台账已更新"
    assert "当前状态：已验收" in exc.value.message
    assert services.case_close(actor=manager, case=case, expected_version=case.version).state == CaseState.CLOSED


def test_scope_and_roles_of_the_end_moves(case, manager, shenmu_manager, village_staff):
    """Scope: 神木 cannot close or secure a 榆阳 case; roles: village staff cannot cancel, secure or close."""
    for move, values in (
        (services.case_close, {}),
        (services.case_secure, {"means": "rented", "secured_on": TODAY, "evidence": "租房协议一份"}),
        (services.case_cancel, {"reason": "误报"}),
    ):
        with pytest.raises(ScopeError):
            move(actor=shenmu_manager, case=case, **values)
        with pytest.raises(PermissionDenied):
            move(actor=village_staff, case=case, **values)
    assert Case.objects.get(pk=case.pk).state == CaseState.APPRAISED


def test_update_changes_only_description_and_measures(case, manager):
    case = services.case_update(actor=manager, case=case, measures="拆除危险窑脸，加固拱顶")
    assert case.measures == "拆除危险窑脸，加固拱顶" and history(case)[-1] == Action.CASE_CHANGED
    with pytest.raises(DomainError) as exc:
        services.case_update(actor=manager, case=case, grade="A")
    assert exc.value.errors == {"grade": "不能在此修改"}
