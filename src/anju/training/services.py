"""Writes on the training ledger (P17, P22): sessions and their attendees, each in one transaction with its event.

The county (training.manage) records sessions it or one of its towns held; attendees are staff users of the
organiser's subtree and craftsmen registered with its county. `training_record` is the one-step form the older
yearly records had ("X was trained in year Y"): it files the person into a session of that day and topic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.cases.models import Craftsman
from anju.core.checks import invalid, require
from anju.core.errors import ConflictError, ScopeError
from anju.core.scope import code_prefix, in_scope
from anju.divisions.models import Division
from anju.divisions.services import level_of_code

from .models import Attendance, Session, SessionKind

ORGANISER_LEVELS = ("city", "county", "town")
MAX_MATERIALS_BYTES = 50 * 1024 * 1024
MATERIAL_TYPES = (".pdf", ".doc", ".docx", ".ppt", ".pptx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png", ".zip")
FIELDS = ("held_on", "topic", "kind", "trainer", "hours", "place")


def _require_scope(actor: Any, code: str, field: str) -> None:
    """training.manage over `code`; actor None is the installation itself (the demo data), as in `user_create`."""
    if actor is not None:
        require(actor, "training.manage", code, field)


def _prefix(code: str) -> str:
    return code_prefix(code, level_of_code(code))


def user_may_attend(session: Session, user: User) -> bool:
    """Staff of the organiser's subtree."""
    return bool(user.division_id) and in_scope(user.division_id, _prefix(session.division_id))


def craftsman_may_attend(session: Session, craftsman: Craftsman) -> bool:
    """Craftsmen are registered with a county and work in its towns, so a town's session trains its county's."""
    code = craftsman.division_id
    return in_scope(code, _prefix(session.division_id)) or code == session.division_id[:6] + "000000"


def _clean(values: dict[str, Any], *, signed: bool) -> dict[str, Any]:
    """The session's fields checked and normalised; `signed` = someone is signed in, so the day cannot be ahead."""
    errors: dict[str, str] = {}
    held_on = values.get("held_on")
    today = timezone.localdate()
    if not isinstance(held_on, dt.date):
        errors["held_on"] = _("请填写培训日期")
    elif held_on.year < 2000 or held_on > today + dt.timedelta(days=366):
        errors["held_on"] = _("培训日期不合理")
    elif signed and held_on > today:
        errors["held_on"] = _("已有人员签到，培训日期不能晚于今天")
    topic = (values.get("topic") or "").strip()[:200]
    if not topic:
        errors["topic"] = _("请填写培训内容")
    kind = values.get("kind") or SessionKind.GENERAL
    if kind not in SessionKind.values:
        errors["kind"] = _("请选择培训类别")
    try:
        hours = Decimal(str(values.get("hours") or 0)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        hours = None
    if hours is None or not Decimal(0) <= hours <= Decimal(100):
        errors["hours"] = _("学时应在0到100之间")
    if errors:
        raise invalid(errors)
    return {
        "held_on": held_on,
        "topic": topic,
        "kind": kind,
        "trainer": (values.get("trainer") or "").strip()[:64],
        "hours": hours,
        "place": (values.get("place") or "").strip()[:200],
    }


def _check_materials(materials: Any) -> None:
    name = str(getattr(materials, "name", "")).lower()
    if not name.endswith(MATERIAL_TYPES):
        raise invalid({"materials": _("培训材料应为PDF、Word、PPT、Excel、图片或ZIP文件")})
    if (getattr(materials, "size", 0) or 0) > MAX_MATERIALS_BYTES:
        raise invalid({"materials": _("培训材料不能超过50MB")})


def _check_organiser(code: str) -> None:
    division = Division.objects.filter(code=code).first()
    if division is None or division.level not in ORGANISER_LEVELS:
        raise invalid({"division": _("培训组织单位应为市、县（市、区）或乡镇（街道）")})


def _people(session: Session, users: list[User], craftsmen: list[Craftsman]) -> tuple[list[User], list[Craftsman]]:
    """The attendees, refused by name when one lies outside the organiser's reach."""
    outside = [u.get_full_name() for u in users if not user_may_attend(session, u)]
    outside += [c.name for c in craftsmen if not craftsman_may_attend(session, c)]
    if outside:
        message = _("以下人员不在培训组织单位的范围内：{names}").format(names="、".join(outside))
        raise ScopeError(message, errors={"attendees": message})
    return list({u.pk: u for u in users}.values()), list({c.pk: c for c in craftsmen}.values())


def _roster(session: Session) -> dict[str, list[int]]:
    rows = list(session.attendances.values_list("user_id", "craftsman_id"))
    return {
        "users": sorted(u for u, _c in rows if u),
        "craftsmen": sorted(c for _u, c in rows if c),
    }


def _session_create(
    *,
    actor: Any,
    division_code: str,
    users: list[User] | None = None,
    craftsmen: list[Craftsman] | None = None,
    signed_in: bool = True,
    materials: Any = None,
    is_sample: bool = False,
    **values: Any,
) -> Session:
    """P17: a training session held by the county or town `division_code`, with its attendees (signed in unless
    `signed_in` is False: a session planned ahead lists people who have not come yet); `values` are held_on,
    topic, kind, trainer, hours, place. Inside the caller's transaction: `session_create` is the service."""
    _require_scope(actor, division_code, "division")
    _check_organiser(division_code)
    users, craftsmen = users or [], craftsmen or []
    data = _clean(values, signed=signed_in and bool(users or craftsmen))
    if materials:
        _check_materials(materials)
    session = Session(division_id=division_code, created_by=actor if getattr(actor, "pk", None) else None, **data)
    session.is_sample = is_sample
    users, craftsmen = _people(session, users, craftsmen)
    if materials:
        session.materials = materials
    session.save()
    Attendance.objects.bulk_create(
        [Attendance(session=session, user=u, signed_in=signed_in) for u in users]
        + [Attendance(session=session, craftsman=c, signed_in=signed_in) for c in craftsmen]
    )
    event_record(
        actor=actor,
        action=Action.TRAINING_SESSION_CREATED,
        obj=session,
        after=data | _roster(session) | {"materials": session.materials.name or ""},
    )
    return session


#: P17: `_session_create` in a transaction of its own (the views, the API and the demo call this)
session_create = transaction.atomic(durable=True)(_session_create)


@transaction.atomic(durable=True)
def session_update(
    *,
    actor: Any,
    session: Session,
    users: list[User] | None = None,
    craftsmen: list[Craftsman] | None = None,
    materials: Any = None,
    **values: Any,
) -> Session:
    """Correct a session; given `users`/`craftsmen` replace its list (new people are signed in once the day has
    come, those kept keep their sign-in). The organiser does not change: a session held elsewhere is another one."""
    _require_scope(actor, session.division_id, "division")
    session = Session.objects.select_for_update().get(pk=session.pk)
    before = {f: getattr(session, f) for f in FIELDS} | _roster(session)
    current = {f: getattr(session, f) for f in FIELDS}
    data = _clean(current | values, signed=session.attendances.filter(signed_in=True).exists())
    joins_signed = data["held_on"] <= timezone.localdate()  # nobody signs in before the day
    if materials:
        _check_materials(materials)
    if users is not None or craftsmen is not None:
        users, craftsmen = _people(session, users or [], craftsmen or [])
        session.attendances.exclude(user__in=users).filter(user__isnull=False).delete()
        session.attendances.exclude(craftsman__in=craftsmen).filter(craftsman__isnull=False).delete()
        have_users = set(session.attendances.values_list("user_id", flat=True))
        have_craftsmen = set(session.attendances.values_list("craftsman_id", flat=True))
        Attendance.objects.bulk_create(
            [Attendance(session=session, user=u, signed_in=joins_signed) for u in users if u.pk not in have_users]
            + [
                Attendance(session=session, craftsman=c, signed_in=joins_signed)
                for c in craftsmen
                if c.pk not in have_craftsmen
            ]
        )
    for field, value in data.items():
        setattr(session, field, value)
    if materials:
        session.materials = materials
    session.save()
    after = {f: getattr(session, f) for f in FIELDS} | _roster(session)
    changed = {k for k in after if after[k] != before[k]}
    if materials:
        changed.add("materials")
        after["materials"] = session.materials.name
    event_record(
        actor=actor,
        action=Action.TRAINING_SESSION_CHANGED,
        obj=session,
        before={k: before.get(k) for k in changed},
        after={k: after[k] for k in changed},
    )
    return session


@transaction.atomic(durable=True)
def attendee_add(
    *,
    actor: Any,
    session: Session,
    user: User | None = None,
    craftsman: Craftsman | None = None,
    signed_in: bool = True,
) -> Attendance:
    """Put one person on the session's list, or change whether they signed in (see `_attendee_add`)."""
    return _attendee_add(actor=actor, session=session, user=user, craftsman=craftsman, signed_in=signed_in)


def _attendee_add(
    *,
    actor: Any,
    session: Session,
    user: User | None = None,
    craftsman: Craftsman | None = None,
    signed_in: bool = True,
) -> Attendance:
    """Put one person on the session's list, or change whether they signed in (P17: only the signed-in count)."""
    _require_scope(actor, session.division_id, "session")
    if (user is None) == (craftsman is None):
        raise invalid({"person": _("请指定一名参训人员（工作人员或建筑工匠）")})
    if signed_in and session.held_on > timezone.localdate():
        raise invalid({"signed_in": _("培训尚未举行，不能签到")})
    _people(session, [user] if user else [], [craftsman] if craftsman else [])
    # Two managers adding the same person at once: the second waits here, then finds the first one's row.
    Session.objects.select_for_update().get(pk=session.pk)
    person = {"user": user} if user else {"craftsman": craftsman}
    attendance = Attendance.objects.filter(session=session, **person).first()
    name = user.get_full_name() if user else craftsman.name
    if attendance is not None and attendance.signed_in == signed_in:
        raise ConflictError(_("{name}已在本场培训名单中").format(name=name), errors={"person": _("已在名单中")})
    before = None if attendance is None else {"signed_in": attendance.signed_in}
    if attendance is None:
        attendance = Attendance.objects.create(session=session, signed_in=signed_in, **person)
    else:
        attendance.signed_in = signed_in
        attendance.save(update_fields=["signed_in"])
    event_record(
        actor=actor,
        action=Action.TRAINING_ATTENDEE_ADDED,
        obj=session,
        before=before,
        after={"name": name, "user": getattr(user, "pk", None), "craftsman": getattr(craftsman, "pk", None)}
        | {"signed_in": signed_in},
    )
    return attendance


@transaction.atomic(durable=True)
def attendee_remove(*, actor: Any, attendance: Attendance) -> None:
    """Take one person off a session's list (recorded by mistake)."""
    session = attendance.session
    _require_scope(actor, session.division_id, "session")
    person = attendance.person
    name = person.get_full_name() if isinstance(person, User) else person.name
    attendance.delete()
    event_record(
        actor=actor,
        action=Action.TRAINING_ATTENDEE_REMOVED,
        obj=session,
        before={"name": name, "user": attendance.user_id, "craftsman": attendance.craftsman_id},
    )


def organiser_for(code: str) -> str:
    """The division that trains a person of `code`: their county (the city for city staff)."""
    county = code[:6] + "000000"
    return code[:4] + "00000000" if county[4:6] == "00" else county


@transaction.atomic(durable=True)
def training_record(
    *,
    actor: Any,
    user: User | None = None,
    craftsman: Craftsman | None = None,
    year: int,
    trained_on: dt.date | None = None,
    topic: str = "",
) -> Attendance:
    """P17: "`person` took part in the training of `year`" in one step (the command, the craftsmen page): files
    them, signed in, into the county's session of that day and topic, opened with them if there is none yet (one
    audit event either way: the session created, or the attendee added)."""
    person_code = (user.division_id if user else craftsman.division_id) or ""
    organiser = organiser_for(person_code) if person_code else ""
    if actor is not None:
        require_action(actor, "training.manage")
    if not person_code or (actor is not None and not in_scope(person_code, actor.scope_prefix)):
        field = "user" if user else "craftsman"
        raise ScopeError(_("该人员不在您的管辖范围内"), errors={field: _("该人员不在您的管辖范围内")})
    today = timezone.localdate()
    if not isinstance(year, int) or not 2000 <= year <= today.year:
        raise invalid({"year": _("培训年度应在2000到{year}之间").format(year=today.year)})
    if trained_on is not None and trained_on.year != year:
        raise invalid({"trained_on": _("培训日期应在{year}年内").format(year=year)})
    held_on = trained_on or (today if year == today.year else dt.date(year, 12, 31))
    topic = (topic or "").strip()[:200] or _("{year}年度培训").format(year=year)
    if actor is not None and not in_scope(organiser, actor.scope_prefix):
        organiser = actor.division_id
    session = Session.objects.filter(division_id=organiser, held_on=held_on, topic=topic).first()
    if session is not None:
        return _attendee_add(actor=actor, session=session, user=user, craftsman=craftsman)
    session = _session_create(
        actor=actor,
        division_code=organiser,
        held_on=held_on,
        topic=topic,
        kind=_kind_for(user, craftsman),
        users=[user] if user else [],
        craftsmen=[craftsman] if craftsman else [],
    )
    return session.attendances.get()


def _kind_for(user: User | None, craftsman: Craftsman | None) -> str:
    if craftsman is not None:
        return SessionKind.CRAFTSMAN
    if "appraiser" in (user.roles or []):
        return SessionKind.APPRAISAL
    return SessionKind.CHECK
