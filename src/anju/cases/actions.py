"""Which moves a user may make on a case now: one table read by the case page's 操作 panel (and reusable by the
move pages to decide what to offer).

Each row names the move's URL, the role action its service requires (`require(actor, …)`) and the states its
service accepts (`require_state`). A few guards the page can see without a query (P2 sign-offs, P20 consent, P22
design, builder and site visits) mark a move as `blocked` with the reason, so the user learns what is missing
before opening the form; the service still checks everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.accounts.permissions import has_action

from .models import Case, CaseOutcome, CaseState, SignOffKind, SignOffLevel
from .services.signoffs import LEVELS, signable, signer_level

S = CaseState
#: What `renovation.BEFORE_WORKS` accepts: the household's application, design and builder come before the works.
BEFORE_WORKS = (S.APPRAISED, S.PLANNED)
NOT_ENDED = tuple(s for s in S.values if s not in (S.CLOSED, S.CANCELLED))


@dataclass(frozen=True)
class Move:
    """One entry of the 操作 panel: reverse `url_name` with `kwargs`; `blocked` says why it cannot succeed yet."""

    url_name: str
    label: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    blocked: str = ""
    primary: bool = False
    danger: bool = False

    @property
    def url(self) -> str:
        return reverse(self.url_name, kwargs=self.kwargs)


@dataclass(frozen=True)
class MoveRule:
    name: str
    label: Any
    action: str
    states: tuple[str, ...]
    when: Callable[[Case], bool] = lambda case: True
    blocked: Callable[[Case], str] = lambda case: ""
    primary: bool = False
    danger: bool = False


def _renovation(case: Case) -> Any:
    """The case's renovation if it has one (`case_get` selects it, so this costs no query)."""
    try:
        return case.renovation
    except Case.renovation.RelatedObjectDoesNotExist:
        return None


def _plan_blocked(case: Case) -> str:
    renovation = _renovation(case)
    if renovation is None or renovation.applied_on is None or renovation.consent_on is None:
        return _("须先登记农户申请并确认改造意愿（P20）")
    return ""


def _start_blocked(case: Case) -> str:
    renovation = _renovation(case)
    missing = []
    if renovation is None or not renovation.design_kind:
        missing.append(_("结构设计"))
    if renovation is None or renovation.builder_id is None:
        missing.append(_("施工工匠"))
    return _("尚缺：{missing}（P22）").format(missing="、".join(missing)) if missing else ""


def _complete_blocked(case: Case) -> str:
    visits = list(case.visits.all())
    if not visits:
        return _("县级尚未到现场巡查（P22）")
    if any(v.needs_fix and v.fixed_on is None for v in visits):
        return _("巡查发现的问题尚未整改完成")
    return ""


def _close_blocked(case: Case) -> str:
    missing = 3 * len(SignOffKind) - len({(s.kind, s.level) for s in case.signoffs.all()})
    return _("四清签字尚缺{count}项（P2）").format(count=missing) if missing else ""


def _closable(case: Case) -> bool:
    return case.state != S.APPRAISED or not case.is_dangerous


def _payable(case: Case) -> bool:
    return case.state == S.ACCEPTED or (case.state == S.CLOSED and case.outcome == CaseOutcome.RENOVATED)


MOVES: tuple[MoveRule, ...] = (
    MoveRule("case_edit", gettext_lazy("修改问题描述与整改措施"), "cases.open", NOT_ENDED),
    MoveRule(
        "case_request_appraisal", gettext_lazy("申请鉴定"), "cases.open", (S.REGISTERED,),
        when=lambda c: c.house_id is not None, primary=True,
    ),
    MoveRule(
        "case_use_appraisal", gettext_lazy("采用已有鉴定"), "cases.manage", (S.REGISTERED, S.AWAITING_APPRAISAL),
        when=lambda c: c.house_id is not None,
    ),
    MoveRule("case_apply", gettext_lazy("登记农户申请及意愿"), "cases.apply", BEFORE_WORKS, primary=True),
    MoveRule("case_plan", gettext_lazy("纳入改造计划"), "cases.manage", (S.APPRAISED,), blocked=_plan_blocked,
             primary=True),
    MoveRule("case_design", gettext_lazy("登记结构设计"), "cases.manage", BEFORE_WORKS),
    MoveRule("case_builder", gettext_lazy("确定施工工匠"), "cases.manage", BEFORE_WORKS),
    MoveRule("case_start", gettext_lazy("开工"), "cases.manage", (S.PLANNED,), blocked=_start_blocked, primary=True),
    MoveRule("case_visit", gettext_lazy("登记施工巡查"), "cases.visit", (S.UNDER_CONSTRUCTION, S.COMPLETED)),
    MoveRule("case_complete", gettext_lazy("登记竣工"), "cases.manage", (S.UNDER_CONSTRUCTION,),
             blocked=_complete_blocked, primary=True),
    MoveRule("case_accept", gettext_lazy("竣工验收"), "cases.manage", (S.COMPLETED,), primary=True),
    MoveRule("case_payment", gettext_lazy("登记补助拨付"), "cases.manage", (S.ACCEPTED, S.CLOSED), when=_payable),
    MoveRule("case_transitional", gettext_lazy("登记过渡安置"), "cases.apply",
             (S.APPRAISED, S.PLANNED, S.UNDER_CONSTRUCTION)),
    MoveRule("case_photo", gettext_lazy("上传照片"), "cases.apply", tuple(s for s in S.values if s != S.CANCELLED)),
    MoveRule("case_secure", gettext_lazy("其他方式保障安全"), "cases.manage", BEFORE_WORKS,
             when=lambda c: c.is_dangerous),
    MoveRule("case_close", gettext_lazy("销号"), "cases.manage", (S.APPRAISED, S.ACCEPTED, S.SECURED),
             when=_closable, blocked=_close_blocked, primary=True),
    MoveRule("case_cancel", gettext_lazy("撤销台账"), "cases.manage", (S.REGISTERED, S.AWAITING_APPRAISAL, S.APPRAISED),
             danger=True),
)  # fmt: skip


def _sign_moves(user: Any, case: Case) -> list[Move]:
    """P2: one entry per clear the user's level may sign now; the level below must have signed first."""
    if not has_action(user, "cases.sign"):
        return []
    level = signer_level(user, case)
    if level is None:
        return []
    signed = {(s.kind, s.level) for s in case.signoffs.all()}
    moves = []
    for kind in SignOffKind:
        if (kind.value, level) in signed or not signable(case, kind.value):
            continue
        waiting = [SignOffLevel(lv).label for lv in LEVELS[: LEVELS.index(level)] if (kind.value, lv) not in signed]
        moves.append(
            Move(
                "cases:case_sign",
                _("签字：{kind}（{level}）").format(kind=kind.label, level=SignOffLevel(level).label),
                {"pk": case.pk, "kind": kind.value},
                blocked=_("须先由{levels}签字").format(levels="、".join(str(w) for w in waiting)) if waiting else "",
                primary=True,
            )
        )
    return moves


def case_moves(user: Any, case: Case) -> list[Move]:
    """The moves `user` may make on `case` (which they can see) in its current state, in the order of the work.

    Reads only what `selectors.case_get` loaded (renovation, visits, transitional housing, sign-offs).
    """
    moves = [
        Move(f"cases:{rule.name}", str(rule.label), {"pk": case.pk}, rule.blocked(case), rule.primary, rule.danger)
        for rule in MOVES
        if case.state in rule.states and has_action(user, rule.action) and rule.when(case)
    ]
    moves += _sign_moves(user, case)
    if has_action(user, "cases.visit"):
        moves += [
            Move("cases:visit_fix", _("登记整改完成（{date}巡查）").format(date=v.visited_on.isoformat()), {"pk": v.pk})
            for v in case.visits.all()
            if v.needs_fix and v.fixed_on is None
        ]
    if has_action(user, "cases.apply"):
        moves += [
            Move("cases:transitional_confirm", _("确认过渡安置安全：{place}").format(place=h.place), {"pk": h.pk})
            for h in case.transitional_housing.all()
            if not h.safety_confirmed
        ]
    return moves


def may_move(user: Any, case: Case, url_name: str) -> bool:
    """Whether `url_name` (e.g. "cases:case_plan") is offered to `user` for `case` now."""
    return any(m.url_name == url_name for m in case_moves(user, case))
