"""Appending to and verifying the hash chain. Every service calls `event_record` in its transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.core.middleware import current_request_id

from .actions import Action
from .models import ChainHead, Event

GENESIS = "0" * 64
SYSTEM_NAME = "系统"


def _plain(value: Any) -> Any:
    """JSON-safe form that survives a database round trip unchanged (dates and decimals as text)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def event_hash(event: Event) -> str:
    payload = {
        "created_at": event.created_at.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "request_id": event.request_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "division_code": event.division_code,
        "before": event.before,
        "after": event.after,
        "extra": event.extra,
        "backfilled": event.backfilled,
        "prev_hash": event.prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, for the before/after of a change event."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def event_build(
    *,
    actor: Any,
    action: Action,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    division_code: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    backfilled: bool = False,
    created_at: dt.datetime | None = None,
) -> Event:
    """An event not yet on the chain: `events_append` (or `event_record`) puts it there. Without `obj`, the
    object is named by `object_type`/`object_id`/`object_repr` (bulk writers that hold ids, not instances)."""
    person = actor if getattr(actor, "pk", None) else None
    return Event(
        created_at=created_at or timezone.now(),
        actor=person,
        actor_name=(person.get_full_name() or person.username) if person is not None else SYSTEM_NAME,
        request_id=current_request_id(),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else object_type,
        object_id=str(obj.pk) if obj is not None else str(object_id),
        object_repr=str(obj)[:200] if obj is not None else object_repr[:200],
        division_code=division_code or getattr(obj, "division_code", "") or "",
        before=_plain(before),
        after=_plain(after),
        extra=_plain(extra),
        backfilled=backfilled,
    )


def events_append(events: list[Event]) -> None:
    """Append built events to the chain, in order, inside the caller's transaction: the chain head is locked once
    and ids are reserved in one block, so a bulk writer adds thousands of events in one insert."""
    from anju.core.bulk import reserve_ids

    if not events:
        return
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        first = reserve_ids(Event, len(events))
        previous = head.last_hash
        for offset, event in enumerate(events):
            event.pk, event.prev_hash = first + offset, previous
            event.hash = previous = event_hash(event)
        Event.objects.bulk_create(events, batch_size=500)
        head.last_id, head.last_hash = events[-1].pk, previous
        head.save(update_fields=["last_id", "last_hash"])


def event_record(
    *,
    actor: Any,
    action: Action,
    obj: models.Model | None = None,
    division_code: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    backfilled: bool = False,
) -> Event:
    """Append one event to the chain (inside the caller's transaction)."""
    event = event_build(
        actor=actor,
        action=action,
        obj=obj,
        division_code=division_code,
        before=before,
        after=after,
        extra=extra,
        backfilled=backfilled,
    )
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        event.prev_hash = head.last_hash
        event.hash = event_hash(event)
        event.save()
        head.last_id, head.last_hash = event.pk, event.hash
        head.save(update_fields=["last_id", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    message: str


def chain_verify() -> ChainProblem | None:
    """Walk the chain in id order; return the first broken event, or None when intact."""
    prev = GENESIS
    last_id = 0
    for event in Event.objects.order_by("id").iterator(chunk_size=5000):
        if event.prev_hash != prev:
            return ChainProblem(event.pk, _("事件 #{id} 的前序哈希不符：其前一条事件被删除或篡改").format(id=event.pk))
        if event_hash(event) != event.hash:
            return ChainProblem(event.pk, _("事件 #{id} 的内容与哈希不符：该事件被篡改").format(id=event.pk))
        prev, last_id = event.hash, event.pk
    head = ChainHead.objects.filter(pk=1).first()
    if head and (head.last_id != last_id or head.last_hash != prev):
        return ChainProblem(
            head.last_id,
            _("链尾应为事件 #{expected}，实际为 #{actual}：最新的事件被删除").format(
                expected=head.last_id, actual=last_id
            ),
        )
    return None
