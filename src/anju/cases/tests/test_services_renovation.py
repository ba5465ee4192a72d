"""Renovation moves and their guards, straight against the services (P4, P17, P19–P22). Each refusal is checked by
its Chinese message and the field it marks, and the case is left where it was."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseState, Craftsman, Renovation, SubsidyPayment
from anju.cases.services import renovation as services
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.testing import cases, factories

from .services_world import *  # noqa: F403
from .services_world import TODAY, TOMORROW, YESTERDAY, safe_case

pytestmark = pytest.mark.django_db


def apply(case, actor, on=TODAY, consent_on=TODAY):
    return services.renovation_apply(
        actor=actor, case=case, applied_on=on, consent_on=consent_on, consent_by=case.household.head_name
    )


def planned(case, manager, method="reinforce"):
    apply(case, manager)
    cases.rate(TODAY.year, method)
    return services.case_plan(actor=manager, case=case, method=method, planned_on=TODAY)


def state_of(case) -> str:
    return Case.objects.get(pk=case.pk).state


# P20: the household applies and consents before the plan ------------------------------------------------------


def test_no_plan_without_application_p20(case, manager):
    """policy: P20 — the household applies and its will is recorded before the case enters the plan."""
    cases.rate(TODAY.year, "reinforce")
    with pytest.raises(DomainError) as exc:
        services.case_plan(actor=manager, case=case, method="reinforce")
    assert "尚未提出改造申请并确认改造意愿" in exc.value.errors["consent"]
    assert exc.value.message == "不能纳入改造计划，请检查标出的项目"
    assert state_of(case) == CaseState.APPRAISED and not Renovation.objects.filter(case=case).exists()


def test_no_plan_with_application_but_without_consent_p20(case, manager):
    """policy: P20 — an application alone is not the household's confirmed will."""
    cases.rate(TODAY.year, "reinforce")
    apply(case, manager, consent_on=None)
    with pytest.raises(DomainError) as exc:
        services.case_plan(actor=manager, case=case, method="reinforce")
    assert "consent" in exc.value.errors
    apply(case, manager)
    planned_case = services.case_plan(actor=manager, case=case, method="reinforce")
    assert planned_case.state == CaseState.PLANNED


def test_consent_needs_who_confirmed_and_not_before_application_p20(case, manager):
    with pytest.raises(DomainError) as exc:
        services.renovation_apply(actor=manager, case=case, applied_on=TODAY, consent_on=TODAY)
    assert exc.value.errors["consent_by"] == "请填写确认改造意愿的家庭成员姓名"
    with pytest.raises(DomainError) as exc:
        apply(case, manager, on=TODAY, consent_on=YESTERDAY)
    assert exc.value.errors["consent_on"] == "户意愿确认日期不能早于申请日期"


def test_safe_house_enters_the_plan_only_for_seismic_renovation_p21(house):
    """policy: P21 — a house appraised A/B is not dangerous: only 抗震改造 of an eligible household."""
    case = safe_case(house)
    manager = cases.manager(case)
    apply(case, manager)
    cases.rate(TODAY.year, "reinforce")
    with pytest.raises(DomainError) as exc:
        services.case_plan(actor=manager, case=case, method="reinforce")
    assert exc.value.errors["method"] == "鉴定为A级的房屋不是危房，只能纳入抗震改造"
    assert state_of(case) == CaseState.APPRAISED
    cases.rate(TODAY.year, "seismic", amount="8000.00")
    case = services.case_plan(actor=manager, case=case, method="seismic")
    assert case.state == CaseState.PLANNED and case.renovation.subsidy_amount == Decimal("8000.00")


def test_no_plan_without_a_subsidy_rate_p21(case, manager):
    """policy: P21 — the subsidy comes from the city's rates; no rate, no plan (and nothing half-written)."""
    apply(case, manager)
    with pytest.raises(DomainError) as exc:
        services.case_plan(actor=manager, case=case, method="rebuild")
    assert exc.value.errors["method"] == f"尚未配置{TODAY.year}年「拆除重建」的补助标准，请市级先在补助标准中设置"
    assert state_of(case) == CaseState.APPRAISED
    assert Renovation.objects.get(case=case).method == ""


def test_plan_stores_method_date_rate_and_amount_p21(case, manager):
    rate = cases.rate(TODAY.year, "rebuild", amount="35000.00")
    apply(case, manager)
    case = services.case_plan(actor=manager, case=case, method="rebuild", planned_on=TODAY)
    renovation = Renovation.objects.get(case=case)
    assert (renovation.method, renovation.planned_on) == ("rebuild", TODAY)
    assert renovation.subsidy_rate == rate and renovation.subsidy_amount == Decimal("35000.00")
    event = Event.objects.filter(action=Action.CASE_PLANNED, object_id=str(case.pk)).get()
    assert event.after["subsidy_amount"] == "35000.00" and event.before == {"state": "appraised"}


# P22, P17: design and a trained builder of the county before the works -------------------------------------------


def test_no_start_without_design_p22(case, manager):
    """policy: P22 — a basic structural design before building."""
    case = planned(case, manager)
    services.renovation_builder(actor=manager, case=case, builder=cases.craftsman(case))
    with pytest.raises(DomainError) as exc:
        services.case_start(actor=manager, case=case, started_on=TODAY)
    assert exc.value.errors["design"] == "尚无基本结构设计（图集或设计图），不能开工（P22）"
    assert state_of(case) == CaseState.PLANNED


def test_design_needs_the_atlas_number_or_a_file_p12(case, manager):
    with pytest.raises(DomainError) as exc:
        services.renovation_design(actor=manager, case=case, design_kind="atlas")
    assert exc.value.errors["design_reference"] == "请填写所采用的《陕西省农房设计图集》图号"
    with pytest.raises(DomainError) as exc:
        services.renovation_design(actor=manager, case=case, design_kind="custom")
    assert exc.value.errors["design_file"] == "请上传设计图"


def test_no_start_without_a_builder_p22(case, manager):
    case = planned(case, manager)
    services.renovation_design(actor=manager, case=case, design_kind="atlas", design_reference="陕农房-A1")
    with pytest.raises(DomainError) as exc:
        services.case_start(actor=manager, case=case, started_on=TODAY)
    assert exc.value.message == "尚未确定施工工匠，不能开工"
    assert exc.value.errors["builder"] == "请选择施工工匠"
    assert state_of(case) == CaseState.PLANNED


def test_builder_trained_only_last_year_is_refused_p17_p22(case, manager):
    """policy: P17, P22 — trained at least once a year: last year's training does not cover this year's job."""
    case = planned(case, manager)
    services.renovation_design(actor=manager, case=case, design_kind="atlas", design_reference="陕农房-A1")
    old_hand = Craftsman.objects.create(division_id=factories.YUYANG, name="老把式")
    cases.train(old_hand, TODAY.year - 1)  # registered here, active, trained — but last year only
    expected = f"{old_hand.name}未参加{TODAY.year}年度培训，不能承揽农房改造（P17、P22：未经培训的工匠不得承揽）"
    with pytest.raises(DomainError) as exc:
        services.renovation_builder(actor=manager, case=case, builder=old_hand)
    assert exc.value.message == expected and exc.value.errors["builder"] == expected
    # The start checks again, for the year of the start: a builder chosen while trained may have lapsed since.
    Renovation.objects.filter(case=case).update(builder=old_hand)
    with pytest.raises(DomainError) as exc:
        services.case_start(actor=manager, case=case, started_on=TODAY)
    assert exc.value.errors["builder"] == expected
    assert state_of(case) == CaseState.PLANNED


def test_inactive_builder_is_refused_p22(case, manager):
    case = planned(case, manager)
    services.renovation_design(actor=manager, case=case, design_kind="atlas", design_reference="陕农房-A1")
    builder = cases.craftsman(case)
    services.renovation_builder(actor=manager, case=case, builder=builder)
    Craftsman.objects.filter(pk=builder.pk).update(is_active=False)
    builder.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        services.case_start(actor=manager, case=case, started_on=TODAY)
    assert exc.value.errors["builder"] == f"{builder.name}不是本县登记的有效工匠"
    with pytest.raises(DomainError) as exc:
        services.renovation_builder(actor=manager, case=case, builder=builder)
    assert "不是本县登记的有效工匠" in exc.value.errors["builder"]
    assert state_of(case) == CaseState.PLANNED


def test_builder_of_another_county_is_refused_p22(case, manager):
    """policy: P22 — the craftsman is registered with the county of the house."""
    case = planned(case, manager)
    services.renovation_design(actor=manager, case=case, design_kind="atlas", design_reference="陕农房-A1")
    stranger = Craftsman.objects.create(division_id=factories.SHENMU, name="神木工匠")
    cases.train(stranger, TODAY.year)  # trained, active: only the county is wrong
    with pytest.raises(DomainError) as exc:
        services.renovation_builder(actor=manager, case=case, builder=stranger)
    assert exc.value.errors["builder"] == "神木工匠不是本县登记的有效工匠"
    Renovation.objects.filter(case=case).update(builder=stranger)
    with pytest.raises(DomainError) as exc:
        services.case_start(actor=manager, case=case, started_on=TODAY)
    assert exc.value.errors["builder"] == "神木工匠不是本县登记的有效工匠"
    assert state_of(case) == CaseState.PLANNED


def test_start_records_the_works_p12_p19(case, manager):
    case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
    renovation = Renovation.objects.get(case=case)
    assert renovation.started_on == TODAY and renovation.must_move_out
    event = Event.objects.get(action=Action.CASE_STARTED, object_id=str(case.pk))
    assert event.after["builder"] == renovation.builder_id and event.after["state"] == "under_construction"


# P22: site visits and fixes before completion; P20: the household signs the acceptance -------------------------


def test_no_completion_without_a_site_visit_p22(case, manager):
    """policy: P22 — county staff visit every site."""
    case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
    with pytest.raises(DomainError) as exc:
        services.case_complete(actor=manager, case=case, completed_on=TODAY)
    assert exc.value.errors["visits"] == "县级尚未到现场巡查，不能竣工（P22：逐户巡查）"
    assert state_of(case) == CaseState.UNDER_CONSTRUCTION


def test_no_completion_with_an_open_fix_p22(case, manager):
    """policy: P22 — the fixes the visit ordered are done before completion."""
    case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
    visit = services.site_visit_add(
        actor=manager, case=case, visited_on=TODAY, findings="圈梁未闭合", needs_fix=True, fix_due_on=TODAY
    )
    with pytest.raises(DomainError) as exc:
        services.case_complete(actor=manager, case=case, completed_on=TODAY)
    assert exc.value.errors["visits"] == "巡查发现的1个问题尚未整改完成，不能竣工"
    assert state_of(case) == CaseState.UNDER_CONSTRUCTION
    services.site_visit_fix(actor=manager, visit=visit, fixed_on=TODAY, fix_note="已补浇圈梁")
    case = services.case_complete(actor=manager, case=case, completed_on=TODAY)
    assert case.state == CaseState.COMPLETED


def test_a_fix_needs_its_due_date_and_is_done_once_p22(case, manager):
    case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
    with pytest.raises(DomainError) as exc:
        services.site_visit_add(actor=manager, case=case, visited_on=TODAY, findings="砂浆不饱满", needs_fix=True)
    assert exc.value.errors["fix_due_on"] == "需整改时请填写整改期限"
    visit = services.site_visit_add(actor=manager, case=case, visited_on=TODAY, findings="施工规范")
    with pytest.raises(ConflictError) as exc:
        services.site_visit_fix(actor=manager, visit=visit, fixed_on=TODAY, fix_note="无")
    assert exc.value.message == "该次巡查没有待整改的问题"


def test_no_acceptance_without_the_household_signature_p20(case, manager):
    """policy: P20 — the household takes part in the acceptance and signs it."""
    case = cases.advance(case, CaseState.COMPLETED)
    with pytest.raises(DomainError) as exc:
        services.case_accept(
            actor=manager, case=case, accepted_on=TODAY, acceptance_team="县住建局", household_signed=False
        )
    assert exc.value.errors["household_signed"] == "农户须参加验收并签字确认（P20）"
    assert exc.value.message == "不能验收，请检查标出的项目"
    assert state_of(case) == CaseState.COMPLETED
    assert Renovation.objects.get(case=case).accepted_on is None


def test_acceptance_grade_enters_the_house_history(case, manager):
    case = cases.advance(case, CaseState.COMPLETED)
    services.case_accept(
        actor=manager, case=case, accepted_on=TODAY, acceptance_team="县住建局、农户", household_signed=True,
        house_grade_after="B",
    )  # fmt: skip
    case.house.refresh_from_db()
    assert case.house.grade == "B"


# P4: the subsidy is paid after the acceptance, never above the subsidy, never dated before the acceptance --------


def test_no_payment_before_acceptance_p4(case, manager):
    """policy: P4 — project funds are supervised: money follows the accepted works."""
    case = cases.advance(case, CaseState.COMPLETED)
    with pytest.raises(ConflictError) as exc:
        services.subsidy_payment_add(actor=manager, case=case, paid_on=TODAY, amount="1000")
    assert exc.value.message == "补助资金须在竣工验收后拨付，台账当前为「已竣工」"
    assert exc.value.errors["state"] == "已竣工"
    assert not SubsidyPayment.objects.exists()


def test_payments_never_exceed_the_subsidy_in_total_p4(case, manager):
    """policy: P4, P21 — the total paid stays within the subsidy the plan fixed (20000)."""
    case = cases.advance(case, CaseState.ACCEPTED)
    services.subsidy_payment_add(actor=manager, case=case, paid_on=TODAY, amount="15000", account="6228480012345678")
    with pytest.raises(DomainError) as exc:
        services.subsidy_payment_add(actor=manager, case=case, paid_on=TODAY, amount="5000.01")
    assert exc.value.errors["amount"] == "累计拨付20000.01元将超过核定补助20000.00元"
    payment = services.subsidy_payment_add(actor=manager, case=case, paid_on=TODAY, amount="5000")
    assert SubsidyPayment.objects.filter(case=case).count() == 2
    assert SubsidyPayment.objects.get(amount=Decimal("15000")).account_masked == "************5678"
    assert Event.objects.filter(action=Action.SUBSIDY_PAID, object_id=str(case.pk)).count() == 2
    assert payment.amount == Decimal("5000.00")


def test_payment_dated_before_acceptance_is_refused_p4(house):
    case = cases.dangerous_case(house, appraised_on=TODAY - dt.timedelta(days=30))
    accepted_on = TODAY - dt.timedelta(days=10)
    case = cases.advance(case, CaseState.ACCEPTED, on=accepted_on)
    manager = cases.manager(case)
    with pytest.raises(DomainError) as exc:
        services.subsidy_payment_add(
            actor=manager, case=case, paid_on=accepted_on - dt.timedelta(days=1), amount="1000"
        )
    assert exc.value.errors["paid_on"] == f"拨付日期不能早于验收日期（{accepted_on.isoformat()}）"
    assert services.subsidy_payment_add(actor=manager, case=case, paid_on=accepted_on, amount="1000").pk


# Wrong state, stale form, future dates, scope and roles --------------------------------------------------------


def test_moves_from_a_wrong_state_name_the_state(case, manager):
    """P19: the moves follow the state machine; the refusal says where the case is and where it must be."""
    with pytest.raises(ConflictError) as exc:
        services.case_start(actor=manager, case=case, started_on=TODAY)
    assert exc.value.message == "台账当前为「已鉴定」，不能开工（须为：已纳入计划）"
    assert exc.value.errors["state"] == "已鉴定"
    with pytest.raises(ConflictError) as exc:
        services.case_complete(actor=manager, case=case, completed_on=TODAY)
    assert "不能登记竣工" in exc.value.message
    with pytest.raises(ConflictError) as exc:
        services.case_accept(actor=manager, case=case, accepted_on=TODAY, acceptance_team="x", household_signed=True)
    assert "不能竣工验收（须为：已竣工）" in exc.value.message
    case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
    with pytest.raises(ConflictError) as exc:
        services.case_plan(actor=manager, case=case, method="reinforce")
    assert exc.value.message == "台账当前为「施工中」，不能纳入改造计划（须为：已鉴定）"
    with pytest.raises(ConflictError) as exc:
        apply(case, manager)
    assert exc.value.errors["state"] == "施工中"


def test_stale_form_is_refused(case, manager):
    """Two people, one case: a form showing an older version cannot move it (P19)."""
    shown = case.version
    apply(case, manager)  # someone else records the application: the case moves on to version + 1
    cases.rate(TODAY.year, "reinforce")
    with pytest.raises(ConflictError) as exc:
        services.case_plan(actor=manager, case=case, method="reinforce", expected_version=shown)
    assert exc.value.message == "该台账已被他人更新（当前状态：已鉴定），请刷新页面后重试"
    assert exc.value.errors["version"] == "台账已更新"
    assert state_of(case) == CaseState.APPRAISED
    case = services.case_plan(actor=manager, case=case, method="reinforce", expected_version=shown + 1)
    assert case.state == CaseState.PLANNED and case.version == shown + 2


@pytest.mark.parametrize(
    ("state", "move", "field"),
    [
        (CaseState.APPRAISED, "apply", "applied_on"),
        (CaseState.APPRAISED, "plan", "planned_on"),
        (CaseState.PLANNED, "start", "started_on"),
        (CaseState.UNDER_CONSTRUCTION, "visit", "visited_on"),
        (CaseState.UNDER_CONSTRUCTION, "complete", "completed_on"),
        (CaseState.COMPLETED, "accept", "accepted_on"),
        (CaseState.ACCEPTED, "pay", "paid_on"),
    ],
)
def test_dates_in_the_future_are_refused(case, manager, state, move, field):
    """A move is recorded when it happened, never ahead of time (P19 deadlines are measured from these dates)."""
    case = cases.advance(case, state)
    if state == CaseState.PLANNED:
        services.renovation_design(actor=manager, case=case, design_kind="atlas", design_reference="陕农房-A1")
        services.renovation_builder(actor=manager, case=case, builder=cases.craftsman(case))
    cases.rate(TODAY.year, "reinforce")
    calls = {
        "apply": lambda: apply(case, manager, on=TOMORROW, consent_on=TOMORROW),
        "plan": lambda: services.case_plan(actor=manager, case=case, method="reinforce", planned_on=TOMORROW),
        "start": lambda: services.case_start(actor=manager, case=case, started_on=TOMORROW),
        "visit": lambda: services.site_visit_add(actor=manager, case=case, visited_on=TOMORROW, findings="正常"),
        "complete": lambda: services.case_complete(actor=manager, case=case, completed_on=TOMORROW),
        "accept": lambda: services.case_accept(
            actor=manager, case=case, accepted_on=TOMORROW, acceptance_team="县住建局", household_signed=True
        ),
        "pay": lambda: services.subsidy_payment_add(actor=manager, case=case, paid_on=TOMORROW, amount="100"),
    }
    with pytest.raises(DomainError) as exc:
        calls[move]()
    assert exc.value.errors[field].endswith("不能晚于今天")
    assert state_of(case) == state


def test_a_manager_of_another_county_cannot_move_the_case(case, shenmu_manager):
    """Scope: 神木's county manager may not touch a 榆阳 case (writes are refused, not hidden)."""
    cases.rate(TODAY.year, "reinforce")
    with pytest.raises(ScopeError) as exc:
        services.renovation_apply(actor=shenmu_manager, case=case, applied_on=TODAY, consent_on=None)
    assert exc.value.message == "不在您的管辖范围内"
    with pytest.raises(ScopeError):
        services.case_plan(actor=shenmu_manager, case=case, method="reinforce")
    assert state_of(case) == CaseState.APPRAISED


def test_village_staff_records_the_application_but_cannot_plan(case, village_staff):
    """Roles: the village records the household's application (cases.apply); the county plans (cases.manage)."""
    apply(case, village_staff)
    cases.rate(TODAY.year, "reinforce")
    with pytest.raises(PermissionDenied) as exc:
        services.case_plan(actor=village_staff, case=case, method="reinforce")
    assert str(exc.value) == "您的角色无权执行此操作"
    with pytest.raises(PermissionDenied):
        services.case_start(actor=village_staff, case=case, started_on=TODAY)
    with pytest.raises(PermissionDenied):
        services.renovation_design(actor=village_staff, case=case, design_kind="atlas", design_reference="陕农房-A1")
    assert state_of(case) == CaseState.APPRAISED


def test_transitional_housing_is_recorded_and_confirmed_p19(case, village_staff):
    """policy: P19 — transitional housing during the works must be safe: someone confirms it."""
    housing = services.transitional_add(
        actor=village_staff, case=case, kind="relatives", place="同村李某家", from_on=TODAY
    )
    assert not housing.safety_confirmed
    housing = services.transitional_confirm(actor=village_staff, housing=housing, confirmed_on=TODAY)
    assert housing.safety_confirmed and housing.confirmed_by == village_staff
    with pytest.raises(ConflictError) as exc:
        services.transitional_confirm(actor=village_staff, housing=housing)
    assert exc.value.message == "该过渡安置已确认安全"
