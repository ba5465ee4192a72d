"""What every ledger service shares: scope checks, the row lock that makes two moves of one case take turns, the
version check that refuses a stale form, and the one function that writes a move and its audit event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import ConflictError
from anju.policy.services import alerts_refresh_on_commit

from ..models import Case, CaseState

STATE_LABELS = dict(CaseState.choices)


def lock(case: Case, expected_version: int | None = None) -> Case:
    """The case, locked for this transaction: a second mover waits here, then sees the first one's result.

    `expected_version` is what the user's form showed; if someone moved the case since, the form is stale.
    """
    locked = Case.objects.select_for_update(of=("self",)).select_related("household", "house").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("该台账已被他人更新（当前状态：{state}），请刷新页面后重试").format(state=STATE_LABELS[locked.state]),
            errors={"version": _("台账已更新")},
        )
    return locked


def require_state(case: Case, states: Iterable[str], doing: str) -> None:
    """Refuse `doing` unless the case is in one of `states`, naming where it is."""
    states = tuple(states)
    if case.state not in states:
        raise ConflictError(
            _("台账当前为「{state}」，不能{doing}（须为：{allowed}）").format(
                state=STATE_LABELS[case.state], doing=doing, allowed="、".join(str(STATE_LABELS[s]) for s in states)
            ),
            errors={"state": STATE_LABELS[case.state]},
        )


def record(
    *,
    actor: Any,
    case: Case,
    action: Action,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    fields: Iterable[str] = (),
    moved: bool = True,
) -> Case:
    """Save the case (`fields` plus its version when `moved`), append the event to the case's history, and
    re-evaluate the household's alerts after commit. Every ledger service ends here."""
    update = list(fields)
    if moved:
        case.version += 1
        update.append("version")
    if update:
        case.save(update_fields=[*update, "updated_at"])
    event_record(actor=actor, action=action, obj=case, before=before, after=after, extra=extra)
    alerts_refresh_on_commit(household_ids=[case.household_id])
    return case
