"""四清一责任 (P2): who may sign, in which order, when, only once, and that a signature is never changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import CaseState, SignOff
from anju.cases.services.signoffs import level_code, missing_signoffs, signable, signer_level, signoff_sign
from anju.core.errors import ActionNotAllowed, ConflictError, DomainError, ScopeError
from anju.divisions.models import Division
from anju.responsibility.tests.world import assign
from anju.testing import cases, factories

from .services_world import *  # noqa: F403
from .services_world import registered, safe_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(case):
    return cases.signers(case)


def test_village_town_county_sign_bottom_up_and_the_audit_records_it_p2(case, people):
    """policy: P2 — each clear is signed by the responsible person of the village, the town and the county."""
    for level in ("village", "town", "county"):
        signoff = signoff_sign(actor=people[level], case=case, kind="problem", comment="问题属实")
        assert (signoff.level, signoff.signer, signoff.division_id) == (level, people[level], case.division_id)
    events = Event.objects.filter(action=Action.SIGNOFF_SIGNED, object_type="cases.case", object_id=str(case.pk))
    assert [e.after["level"] for e in events.order_by("id")] == ["village", "town", "county"]
    assert events.first().after == {"kind": "problem", "level": "village", "signer": people["village"].pk,
                                    "comment": "问题属实"}  # fmt: skip
    assert "问题清（村级）" not in missing_signoffs(case) and len(missing_signoffs(case)) == 9


def test_town_cannot_sign_before_the_village_nor_county_before_the_town_p2(case, people):
    """policy: P2 — bottom up: the level above attests what the level below signed."""
    with pytest.raises(ConflictError) as exc:
        signoff_sign(actor=people["county"], case=case, kind="problem")
    assert exc.value.message == "「问题清」须先由村级、乡镇级签字"
    assert exc.value.errors["kind"] == "下级尚未签字"
    signoff_sign(actor=people["village"], case=case, kind="problem")
    with pytest.raises(ConflictError) as exc:
        signoff_sign(actor=people["county"], case=case, kind="problem")
    assert exc.value.message == "「问题清」须先由乡镇级签字"
    assert not SignOff.objects.filter(level="county").exists()


def test_a_level_signs_once_p2(case, people):
    signoff_sign(actor=people["village"], case=case, kind="problem")
    with pytest.raises(ConflictError) as exc:
        signoff_sign(actor=people["village"], case=case, kind="problem", comment="再签一次")
    assert exc.value.message == "「问题清」村级已签字，签字不能修改"
    assert exc.value.errors["kind"] == "本级已签字"
    assert SignOff.objects.filter(case=case).count() == 1


def test_only_the_case_own_people_with_the_level_role_sign_p2_p18(case, village):
    """policy: P2, P18 — the responsible person of the household's own village, town and county."""
    neighbour = factories.user("v2_staff", factories.village(factories.YUYANG_TOWN, 2).code, "village_staff")
    with pytest.raises(ScopeError):
        signoff_sign(actor=neighbour, case=case, kind="problem")
    other_town = factories.user("t2_staff", factories.YUYANG_TOWN_2, "town_staff")
    with pytest.raises(ScopeError):
        signoff_sign(actor=other_town, case=case, kind="problem")
    shenmu = factories.user("sm_manager", factories.SHENMU, "county_manager")
    with pytest.raises(ScopeError):
        signoff_sign(actor=shenmu, case=case, kind="problem")
    # In scope but not holding the role of the level they sit at: a village role at the town office.
    wrong_role = factories.user("town_as_village", factories.YUYANG_TOWN, "village_staff")
    assert signer_level(wrong_role, case) is None
    with pytest.raises(ActionNotAllowed) as exc:
        signoff_sign(actor=wrong_role, case=case, kind="problem")
    assert exc.value.message.startswith("只有该户所在村、乡镇、县的责任人才能为「问题清」签字（已在包抓责任体系中指定")
    assert exc.value.errors["kind"] == "您不是该台账的签字责任人"
    assert not SignOff.objects.exists()


def test_admin_and_appraiser_cannot_sign(case):
    """Roles: the system administrator keeps the system, it does not attest cases (cases.sign)."""
    for person in (
        factories.user("admin1", "610800000000", "admin"),
        factories.user("appraiser1", factories.YUYANG, "appraiser"),
    ):
        with pytest.raises(PermissionDenied):
            signoff_sign(actor=person, case=case, kind="problem")
    assert not SignOff.objects.exists()


def test_unknown_kind_is_refused(case, people):
    with pytest.raises(DomainError) as exc:
        signoff_sign(actor=people["village"], case=case, kind="money")
    assert "kind" in exc.value.errors


def test_appraisal_clear_waits_for_the_appraisal_p2(house):
    """policy: P2 — 鉴定清 attests an appraisal: not before there is one."""
    case = registered(house)
    people = cases.signers(case)
    signoff_sign(actor=people["village"], case=case, kind="problem")  # the problem is clear once recorded
    with pytest.raises(ConflictError) as exc:
        signoff_sign(actor=people["village"], case=case, kind="appraisal")
    assert exc.value.message == "台账当前为「登记」，还不能签「鉴定清」"
    assert exc.value.errors["kind"] == "尚不能签字"
    assert not signable(case, "appraisal")


def test_renovation_and_acceptance_clears_wait_for_the_works_p2(case, people):
    """policy: P2 — 改造清 once the works are completed, 验收清 once they are accepted."""
    signoff_sign(actor=people["village"], case=case, kind="appraisal")
    for state in (CaseState.APPRAISED, CaseState.PLANNED, CaseState.UNDER_CONSTRUCTION):
        case = cases.advance(case, state)
        for kind, label in (("renovation", "改造清"), ("acceptance", "验收清")):
            with pytest.raises(ConflictError) as exc:
                signoff_sign(actor=people["village"], case=case, kind=kind)
            assert exc.value.message == f"台账当前为「{case.get_state_display()}」，还不能签「{label}」"
    case = cases.advance(case, CaseState.COMPLETED)
    signoff_sign(actor=people["village"], case=case, kind="renovation")
    with pytest.raises(ConflictError):
        signoff_sign(actor=people["village"], case=case, kind="acceptance")
    case = cases.advance(case, CaseState.ACCEPTED)
    signoff_sign(actor=people["village"], case=case, kind="acceptance")
    assert SignOff.objects.filter(case=case).count() == 3


def test_a_safe_case_is_signed_all_at_once_p2(house):
    """policy: P2 — a house appraised A/B has nothing to renovate: all four clears can be signed at once."""
    case = safe_case(house)
    assert all(signable(case, kind) for kind in ("problem", "appraisal", "renovation", "acceptance"))
    case = cases.sign(case)
    assert SignOff.objects.filter(case=case).count() == 12 and missing_signoffs(case) == []


def test_closed_and_cancelled_cases_are_not_signed(case, people):
    cancelled = cases.manager(case)
    from anju.cases.services.cases import case_cancel

    case = case_cancel(actor=cancelled, case=case, reason="重复登记")
    with pytest.raises(ConflictError) as exc:
        signoff_sign(actor=people["village"], case=case, kind="problem")
    assert exc.value.message == "台账当前为「已撤销」，还不能签「问题清」"


def test_a_signature_is_never_changed_nor_deleted_p2(case, people):
    """policy: P2 — a signature (签字背书) is a record: corrections are new events, never edits."""
    signoff = signoff_sign(actor=people["village"], case=case, kind="problem", comment="属实")
    signoff.comment = "改过的意见"
    with pytest.raises(ValidationError) as exc:
        signoff.save()
    assert exc.value.messages == ["签字记录不能修改"]
    with pytest.raises(ValidationError) as exc:
        signoff.delete()
    assert exc.value.messages == ["签字记录不能删除"]
    with pytest.raises(ValidationError) as exc:
        SignOff.objects.filter(case=case).delete()
    assert exc.value.messages == ["签字记录不能删除"]
    assert SignOff.objects.get(pk=signoff.pk).comment == "属实"


# -- P2 with the responsibility chain (P18) ---------------------------------------------------------------------


def _name(code: str, who):
    return assign(Division.objects.get(code=code), who)


def test_a_named_responsible_person_signs_the_level_instead_of_the_role_p2_p18(case, people):
    """policy: P2, P18 — the responsible person of each level signs: once the chain names the village's person,
    only that person signs the village level; the other levels keep the role rule while nobody is named there."""
    village_code = level_code(case.division_id, "village")
    officer = factories.user("baocun", level_code(case.division_id, "town"), "town_staff")
    _name(village_code, officer)
    assert signer_level(people["village"], case) is None
    with pytest.raises(ActionNotAllowed) as exc:
        signoff_sign(actor=people["village"], case=case, kind="problem")
    assert "已在包抓责任体系中指定责任人的，由该责任人签字" in exc.value.message
    assert signer_level(officer, case) == "village"
    assert signoff_sign(actor=officer, case=case, kind="problem").level == "village"
    assert signoff_sign(actor=people["town"], case=case, kind="problem").level == "town"  # town: nobody named


def test_a_person_named_for_two_levels_signs_the_lower_one_p2_p18(case, people):
    """policy: P2 — each level is attested by someone else: a town staff named for the village and the town signs
    the village level; the town level then waits for someone else."""
    officer = factories.user("baozhen", level_code(case.division_id, "town"), "town_staff")
    _name(level_code(case.division_id, "village"), officer)
    _name(level_code(case.division_id, "town"), officer)
    signoff_sign(actor=officer, case=case, kind="problem")
    with pytest.raises(ConflictError):
        signoff_sign(actor=officer, case=case, kind="problem")
    with pytest.raises(ActionNotAllowed):
        signoff_sign(actor=people["town"], case=case, kind="problem")


def test_a_named_person_who_may_not_sign_leaves_the_role_rule_p2_p18(case, people):
    """A city supervisor named for the county (staff of the level above) holds no cases.sign: the county manager
    still signs, or the county level could never be signed."""
    _name(level_code(case.division_id, "county"), factories.user("dudao", "610800000000", "city_supervisor"))
    for level in ("village", "town", "county"):
        assert signoff_sign(actor=people[level], case=case, kind="problem").level == level
