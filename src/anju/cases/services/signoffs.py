"""四清一责任 (P2): 问题清, 鉴定清, 改造清, 验收清, each signed (签字背书) by the responsible person of the village,
the town and the county, bottom up. A signature is written once and never changed; close-out needs all twelve."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.permissions import ROLE_ACTIONS, Role
from anju.audit.actions import Action
from anju.core.checks import invalid, require, text
from anju.core.errors import ActionNotAllowed, ConflictError
from anju.responsibility.models import Assignment

from ..models import Case, CaseState, SignOff, SignOffKind, SignOffLevel
from ._common import lock, record

LEVELS = (SignOffLevel.VILLAGE, SignOffLevel.TOWN, SignOffLevel.COUNTY)
LEVEL_ROLE = {
    SignOffLevel.VILLAGE: Role.VILLAGE_STAFF,
    SignOffLevel.TOWN: Role.TOWN_STAFF,
    SignOffLevel.COUNTY: Role.COUNTY_MANAGER,
}
LEVEL_DIGITS = {SignOffLevel.VILLAGE: 12, SignOffLevel.TOWN: 9, SignOffLevel.COUNTY: 6}

_DONE = (CaseState.COMPLETED, CaseState.ACCEPTED, CaseState.SECURED)


def level_code(case_code: str, level: str) -> str:
    """The code of the case's village, town or county."""
    return case_code[: LEVEL_DIGITS[level]].ljust(12, "0")


def signable(case: Case, kind: str) -> bool:
    """When each clear can be attested: the problem once recorded, the appraisal once settled, renovation and
    acceptance once the works are done and accepted — or at once for a house found safe, or a household made
    safe by other means."""
    if case.state in (CaseState.CLOSED, CaseState.CANCELLED):
        return False
    safe_without_works = case.state == CaseState.APPRAISED and case.grade in ("A", "B")
    if kind == SignOffKind.PROBLEM:
        return True
    if kind == SignOffKind.APPRAISAL:
        return case.appraisal_id is not None
    if kind == SignOffKind.RENOVATION:
        return safe_without_works or case.state in _DONE
    return safe_without_works or case.state in (CaseState.ACCEPTED, CaseState.SECURED)


def missing_signoffs(case: Case) -> list[str]:
    """What is still unsigned, in order, e.g. ["改造清（县级）", "验收清（村级）", …]."""
    have = set(SignOff.objects.filter(case=case).values_list("kind", "level"))
    return [
        f"{kind.label}（{level.label}）"
        for kind in SignOffKind
        for level in LEVELS
        if (kind.value, level.value) not in have
    ]


def named_signers(case: Case) -> dict[str, int]:
    """P2, P18: level → the user named in the responsibility chain for the case's village, town or county, for
    the levels that have one who may sign (`cases.sign`, active). One query for the three levels."""
    codes = {level_code(case.division_id, level): level for level in LEVELS}
    rows = Assignment.objects.active().of_divisions().filter(division_id__in=sorted(codes), person__is_active=True)
    named = {}
    for code, person_id, roles in rows.values_list("division_id", "person_id", "person__roles"):
        if any("cases.sign" in ROLE_ACTIONS.get(role, ()) for role in roles or []):
            named[codes[code]] = person_id
    return named


def signer_level(actor: Any, case: Case) -> str | None:
    """The level at which `actor` signs for `case`, or None. P2: the responsible person of each level signs: where
    the chain (P18) names a person for the case's village, town or county, only that person signs that level;
    where it names nobody yet, a user of that division holding the level's role does. A person named for two
    levels signs the lower one: each level is attested by someone else."""
    named = named_signers(case)
    code = actor.division_id or ""
    for level in LEVELS:
        if level in named:
            if named[level] == actor.pk:
                return level
        elif code == level_code(case.division_id, level) and LEVEL_ROLE[level] in (actor.roles or []):
            return level
    return None


@transaction.atomic(durable=True)
def signoff_sign(*, actor: Any, case: Case, kind: str, comment: str = "") -> SignOff:
    """P2: the responsible person of one level signs one of the four clears of a case. The village signs first,
    then the town, then the county; a signature cannot be changed or signed twice."""
    require(actor, "cases.sign", case.division_id)
    if kind not in SignOffKind.values:
        raise invalid({"kind": _("请选择签字事项（问题清、鉴定清、改造清、验收清）")})
    case = lock(case)
    label = SignOffKind(kind).label
    level = signer_level(actor, case)
    if level is None:
        raise ActionNotAllowed(
            _(
                "只有该户所在村、乡镇、县的责任人才能为「{kind}」签字（已在包抓责任体系中指定责任人的，由该责任人签字；"
                "尚未指定的，由该级对应岗位人员签字）"
            ).format(kind=label),
            errors={"kind": _("您不是该台账的签字责任人")},
        )
    if not signable(case, kind):
        raise ConflictError(
            _("台账当前为「{state}」，还不能签「{kind}」").format(state=case.get_state_display(), kind=label),
            errors={"kind": _("尚不能签字")},
        )
    signed = set(SignOff.objects.filter(case=case, kind=kind).values_list("level", flat=True))
    if level in signed:
        raise ConflictError(
            _("「{kind}」{level}已签字，签字不能修改").format(kind=label, level=SignOffLevel(level).label),
            errors={"kind": _("本级已签字")},
        )
    below = LEVELS[: LEVELS.index(level)]
    waiting = [SignOffLevel(lv).label for lv in below if lv not in signed]
    if waiting:
        raise ConflictError(
            _("「{kind}」须先由{levels}签字").format(kind=label, levels="、".join(str(w) for w in waiting)),
            errors={"kind": _("下级尚未签字")},
        )
    comment = text(comment, 500)
    try:
        with transaction.atomic():
            signoff = SignOff.objects.create(
                case=case,
                division_id=case.division_id,
                kind=kind,
                level=level,
                signer=actor,
                signer_name=actor.get_full_name(),
                signed_at=timezone.now(),
                comment=comment,
            )
    except IntegrityError as exc:  # a signature of the same level raced this one
        raise ConflictError(_("「{kind}」本级已签字").format(kind=label), errors={"kind": _("本级已签字")}) from exc
    record(
        actor=actor,
        case=case,
        action=Action.SIGNOFF_SIGNED,
        moved=False,
        after={"kind": kind, "level": level, "signer": actor.pk, "comment": comment},
        extra={"signoff": signoff.pk, "signer_name": signoff.signer_name},
    )
    return signoff
