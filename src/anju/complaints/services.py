"""Every write of complaints (信访, P14) and publicity and public opinion (宣传、舆情, P15).

A complaint moves 受理 → 办理中 (assigned) → 已答复 (replied) → 已办结 (closed with the complainant's satisfaction);
each move locks the row and checks the version the user's form showed, so two people cannot both move one
complaint. Every write is one audit event; the full phone number of a complainant is shown only through
`complaint_reveal_phone`, which is audited like a registry ID number.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from anju.accounts.permissions import has_action, require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core import idnumber
from anju.core.checks import check_date, invalid, require, text
from anju.core.errors import ConflictError
from anju.core.scope import in_scope
from anju.divisions.models import Division, Level
from anju.policy.services import alerts_refresh_on_commit

from .models import (
    AWAITING_REPLY,
    Category,
    Channel,
    Complaint,
    ComplaintState,
    Hotline,
    OpinionIncident,
    OpinionSource,
    PublicityActivity,
    PublicityKind,
    ReplyMethod,
    ReviewResult,
    Satisfaction,
    Severity,
)

#: P14: days from receipt (受理) to the reply. 信访工作条例 (2022) art. 32: a petition is settled within 60 days
#: of acceptance — letters and visits; the hotline (12345 / 监督举报电话) and online petitions promise a reply in 15
#: days. A county with other commitments sets `ANJU_COMPLAINT_REPLY_DAYS = {"hotline": 10, …}` in settings.
DEFAULT_REPLY_DAYS = {Channel.HOTLINE: 15, Channel.ONLINE: 15, Channel.LETTER: 60, Channel.VISIT: 60}
STATE_LABELS = dict(ComplaintState.choices)
PHONE_CHARS = re.compile(r"^\+?[0-9][0-9\-]{5,19}$")
#: Fields of a complaint that `complaint_update` may change, and only before it is closed.
EDITABLE = ("complainant_name", "phone", "content", "category", "household", "case")


# -- shared steps -------------------------------------------------------------------------------------------------


def _division(code: str, field: str = "division_code") -> Division:
    division = Division.objects.filter(code=(code or "").strip()).first()
    if division is None:
        raise invalid({field: _("区划代码{code}不存在").format(code=code)})
    return division


def reply_days(channel: str) -> int:
    """P14: the reply period of `channel` (settings override the defaults channel by channel)."""
    configured = getattr(settings, "ANJU_COMPLAINT_REPLY_DAYS", None) or {}
    return int(configured.get(channel, DEFAULT_REPLY_DAYS[channel]))


def reply_deadline(channel: str, received_on: dt.date) -> dt.date:
    """P14: the last day on which the reply is on time (the deadline day itself is not late)."""
    return received_on + dt.timedelta(days=reply_days(channel))


def normalize_phone(raw: str) -> str:
    """Full-width digits to half-width, spaces and brackets dropped: 138 0000 1234 → 13800001234."""
    value = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"[\s()（）]", "", value)


def mask_phone(phone: str) -> str:
    """138****1234: a mobile keeps its network prefix and last four, a landline only its last four."""
    digits = phone.replace("-", "").lstrip("+")
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def _phone_fields(raw: str) -> tuple[dict[str, str], dict[str, str]]:
    """(model fields, errors) of a complainant's phone: stored encrypted (PIPL), shown masked."""
    phone = normalize_phone(raw)
    if not phone:
        return {"phone_cipher": "", "phone_masked": ""}, {}
    if not PHONE_CHARS.match(phone):
        return {}, {"phone": _("联系电话格式不正确（应为6至20位数字）")}
    return {"phone_cipher": idnumber.encrypt(phone), "phone_masked": mask_phone(phone)}, {}


def _lock(complaint: Complaint, expected_version: int | None = None) -> Complaint:
    """The complaint, locked for this transaction; a form that showed an older version is refused (409)."""
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("该信访件已被他人更新（当前状态：{state}），请刷新页面后重试").format(state=STATE_LABELS[locked.state]),
            errors={"version": _("信访件已更新")},
        )
    return locked


def _require_state(complaint: Complaint, states: tuple[str, ...], doing: str) -> None:
    if complaint.state not in states:
        raise ConflictError(
            _("信访件当前为「{state}」，不能{doing}（须为：{allowed}）").format(
                state=STATE_LABELS[complaint.state],
                doing=doing,
                allowed="、".join(str(STATE_LABELS[s]) for s in states),
            ),
            errors={"state": str(STATE_LABELS[complaint.state])},
        )


def _save(
    *,
    actor: Any,
    complaint: Complaint,
    action: Action,
    fields: list[str],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Complaint:
    """Save `fields` and a new version, append the event, and re-evaluate the household's alerts (P14)."""
    complaint.version += 1
    complaint.save(update_fields=[*fields, "version", "updated_at"])
    event_record(actor=actor, action=action, obj=complaint, before=before, after=after, extra=extra)
    alerts_refresh_on_commit(household_ids=[complaint.household_id])
    return complaint


def _check_links(division: Division, household: Any, case: Any) -> dict[str, str]:
    """The linked household and case lie in the complaint's division, and the case is the household's."""
    errors: dict[str, str] = {}
    prefix = division.code[: {"city": 4, "county": 6, "town": 9}.get(division.level, 12)]
    if household is not None and not household.division_id.startswith(prefix):
        errors["household"] = _("该农户不在所选区划内")
    if case is not None:
        if not case.division_id.startswith(prefix):
            errors["case"] = _("该台账不在所选区划内")
        elif household is not None and case.household_id != household.pk:
            errors["case"] = _("该台账不是所选农户的台账")
    return errors


# -- hotline ------------------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def hotline_set(
    *, actor: Any, division_code: str, number: str, published_on: dt.date | None, published_where: str
) -> Hotline:
    """P14: a county publishes its complaint hotline (where and since when); a new number replaces the old one,
    and the event keeps both."""
    division = _division(division_code)
    require(actor, "complaints.handle", division.code, "division_code")
    number = unicodedata.normalize("NFKC", number or "").strip()[:40]
    published_where = text(published_where, 200)
    errors = check_date(published_on, "published_on", _("公布日期"))
    if division.level != Level.COUNTY:
        errors["division_code"] = _("监督举报电话按县（市、区）公布，请选择县级区划")
    if sum(c.isdigit() for c in number) < 5:
        errors["number"] = _("请填写举报电话号码")
    if not published_where:
        errors["published_where"] = _("请填写公布渠道（如县政府网站、公示栏、明白卡）")
    if errors:
        raise invalid(errors)
    hotline = Hotline.objects.select_for_update().filter(division_id=division.code).first()
    values = {"number": number, "published_on": published_on, "published_where": published_where}
    before = None
    if hotline is None:
        hotline = Hotline.objects.create(division_id=division.code, **values)
    else:
        before = {k: getattr(hotline, k) for k in values}
        for field, value in values.items():
            setattr(hotline, field, value)
        hotline.save()
    event_record(actor=actor, action=Action.HOTLINE_SET, obj=hotline, before=before, after=values)
    return hotline


# -- complaints ---------------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def complaint_register(
    *,
    actor: Any,
    division_code: str,
    channel: str,
    received_on: dt.date | None,
    complainant_name: str,
    content: str,
    category: str,
    phone: str = "",
    household: Any = None,
    case: Any = None,
    is_review: bool = False,
) -> Complaint:
    """P14: a complaint is received (受理) in the division it concerns; its reply deadline follows from the channel
    (`reply_deadline`). A historic complaint registered for the look-back (回头看) is flagged `is_review`."""
    division = _division(division_code)
    require(actor, "complaints.handle", division.code, "division_code")
    for obj, field in ((household, "household"), (case, "case")):
        if obj is not None and not in_scope(obj.division_id, actor.scope_prefix):
            require(actor, "complaints.handle", obj.division_id, field)
    complainant_name, content = text(complainant_name, 64), text(content, 2000)
    errors = check_date(received_on, "received_on", _("受理日期"))
    if channel not in Channel.values:
        errors["channel"] = _("请选择来源渠道")
    if category not in Category.values:
        errors["category"] = _("请选择问题类别")
    if not complainant_name:
        errors["complainant_name"] = _("请填写信访人姓名（匿名的填写“匿名”）")
    if not content:
        errors["content"] = _("请填写反映内容")
    phone_fields, phone_errors = _phone_fields(phone)
    errors |= phone_errors | _check_links(division, household, case)
    if errors:
        raise invalid(errors)
    complaint = Complaint.objects.create(
        division_id=division.code,
        channel=channel,
        received_on=received_on,
        complainant_name=complainant_name,
        content=content,
        category=category,
        household=household,
        case=case,
        is_review=is_review,
        reply_due_on=reply_deadline(channel, received_on),
        created_by=actor if getattr(actor, "pk", None) else None,
        **phone_fields,
    )
    event_record(
        actor=actor,
        action=Action.COMPLAINT_RECEIVED,
        obj=complaint,
        after={
            "channel": channel,
            "received_on": received_on,
            "category": category,
            "household": household.pk if household else None,
            "case": case.pk if case else None,
            "reply_due_on": complaint.reply_due_on,
            "is_review": is_review,
        },
    )
    alerts_refresh_on_commit(household_ids=[complaint.household_id])
    return complaint


@transaction.atomic(durable=True)
def complaint_update(
    *, actor: Any, complaint: Complaint, expected_version: int | None = None, **changes: Any
) -> Complaint:
    """Correct who complained, what about, and the links to a household or ledger case, until it is closed."""
    require(actor, "complaints.handle", complaint.division_id)
    complaint = _lock(complaint, expected_version)
    _require_state(complaint, (*AWAITING_REPLY, ComplaintState.REPLIED), _("修改"))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise invalid({k: _("不能在此修改") for k in unknown})
    for field in ("household", "case"):
        obj = changes.get(field)
        if obj is not None and not in_scope(obj.division_id, actor.scope_prefix):
            require(actor, "complaints.handle", obj.division_id, field)
    errors: dict[str, str] = {}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    fields: list[str] = []
    if "phone" in changes:
        phone = normalize_phone(changes.pop("phone"))
        phone_fields, errors = _phone_fields(phone)
        if not errors and phone != _phone_of(complaint):
            before["phone"], after["phone"] = complaint.phone_masked, phone_fields["phone_masked"]
            complaint.phone_cipher, complaint.phone_masked = phone_fields["phone_cipher"], phone_fields["phone_masked"]
            fields += ["phone_cipher", "phone_masked"]
    limits = {"complainant_name": 64, "content": 2000}
    for field, value in changes.items():
        if field in limits:
            value = text(value, limits[field])
            if not value:
                errors[field] = _("此项不能为空")
        elif field == "category" and value not in Category.values:
            errors[field] = _("请选择问题类别")
        old = getattr(complaint, field)
        if old != value:
            before[field] = old.pk if hasattr(old, "pk") else old
            after[field] = value.pk if hasattr(value, "pk") else value
            setattr(complaint, field, value)
            fields.append(field)
    errors |= _check_links(complaint.division, complaint.household, complaint.case)
    if errors:
        raise invalid(errors)
    if not fields:
        raise invalid({"content": _("没有要修改的内容")}, _("没有要修改的内容"))
    return _save(
        actor=actor, complaint=complaint, action=Action.COMPLAINT_CHANGED, fields=fields, before=before, after=after
    )


def _decrypt(cipher: str) -> str:
    return idnumber.decrypt(cipher) if cipher else ""


def _phone_of(complaint: Complaint) -> str:
    return _decrypt(complaint.phone_cipher)


@transaction.atomic(durable=True)
def complaint_assign(
    *,
    actor: Any,
    complaint: Complaint,
    handler: Any,
    assigned_on: dt.date | None = None,
    reply_due_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """P14: the complaint is given to a handler (交办), who must be able to see and handle it; the reply deadline
    stays what the channel gives unless the assigner sets another one (an approved extension is audited)."""
    require(actor, "complaints.handle", complaint.division_id)
    complaint = _lock(complaint, expected_version)
    _require_state(complaint, AWAITING_REPLY, _("交办"))
    assigned_on = assigned_on or dt.date.today()
    errors = check_date(assigned_on, "assigned_on", _("交办日期"))
    if not errors and assigned_on < complaint.received_on:
        errors["assigned_on"] = _("交办日期不能早于受理日期")
    can_handle = (
        handler is not None
        and handler.is_active
        and handler.division_id
        and has_action(handler, "complaints.handle")
        and in_scope(complaint.division_id, handler.scope_prefix)
    )
    if not can_handle:
        errors["handler"] = _("承办人须是辖区包含该信访件、可办理信访的在岗人员")
    if reply_due_on is not None and reply_due_on < complaint.received_on:
        errors["reply_due_on"] = _("答复期限不能早于受理日期")
    if errors:
        raise invalid(errors)
    before = {
        "state": complaint.state,
        "handler": complaint.handler_id,
        "reply_due_on": complaint.reply_due_on,
    }
    complaint.state = ComplaintState.HANDLING
    complaint.handler, complaint.handler_name = handler, handler.get_full_name() or handler.username
    complaint.assigned_on = assigned_on
    complaint.reply_due_on = reply_due_on or complaint.reply_due_on
    return _save(
        actor=actor,
        complaint=complaint,
        action=Action.COMPLAINT_ASSIGNED,
        fields=["state", "handler", "handler_name", "assigned_on", "reply_due_on"],
        before=before,
        after={
            "state": complaint.state,
            "handler": handler.pk,
            "handler_name": complaint.handler_name,
            "assigned_on": assigned_on,
            "reply_due_on": complaint.reply_due_on,
        },
    )


@transaction.atomic(durable=True)
def complaint_reply(
    *,
    actor: Any,
    complaint: Complaint,
    reply_text: str,
    reply_method: str,
    replied_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """P14: the complainant is answered (答复): what was found and done, how and when they were told."""
    require(actor, "complaints.handle", complaint.division_id)
    complaint = _lock(complaint, expected_version)
    _require_state(complaint, (ComplaintState.HANDLING,), _("答复"))
    replied_on = replied_on or dt.date.today()
    reply_text = text(reply_text, 2000)
    errors = check_date(replied_on, "replied_on", _("答复日期"))
    if not errors and replied_on < complaint.received_on:
        errors["replied_on"] = _("答复日期不能早于受理日期")
    if len(reply_text) < 4:
        errors["reply_text"] = _("请填写答复内容（调查核实情况和处理意见）")
    if reply_method not in ReplyMethod.values:
        errors["reply_method"] = _("请选择答复方式")
    if errors:
        raise invalid(errors)
    before = {"state": complaint.state}
    complaint.state, complaint.reply_text, complaint.reply_method, complaint.replied_on = (
        ComplaintState.REPLIED,
        reply_text,
        reply_method,
        replied_on,
    )
    return _save(
        actor=actor,
        complaint=complaint,
        action=Action.COMPLAINT_REPLIED,
        fields=["state", "reply_text", "reply_method", "replied_on"],
        before=before,
        after={
            "state": complaint.state,
            "replied_on": replied_on,
            "reply_method": reply_method,
            "late": replied_on > complaint.reply_due_on,
        },
    )


@transaction.atomic(durable=True)
def complaint_close(
    *,
    actor: Any,
    complaint: Complaint,
    satisfaction: str,
    closed_on: dt.date | None = None,
    close_note: str = "",
    expected_version: int | None = None,
) -> Complaint:
    """P14: closed (办结) with the complainant's satisfaction; a dissatisfied complainant's close says what was
    done about it (复查, explanation), so no dissatisfied complaint closes silently."""
    require(actor, "complaints.handle", complaint.division_id)
    complaint = _lock(complaint, expected_version)
    _require_state(complaint, (ComplaintState.REPLIED,), _("办结"))
    closed_on = closed_on or dt.date.today()
    close_note = text(close_note, 1000)
    errors = check_date(closed_on, "closed_on", _("办结日期"))
    if not errors and complaint.replied_on and closed_on < complaint.replied_on:
        errors["closed_on"] = _("办结日期不能早于答复日期（{date}）").format(date=complaint.replied_on.isoformat())
    if satisfaction not in Satisfaction.values:
        errors["satisfaction"] = _("请选择信访人满意度")
    elif satisfaction == Satisfaction.DISSATISFIED and len(close_note) < 4:
        errors["close_note"] = _("信访人不满意的，请说明后续处理情况（如复查、解释说明）")
    if errors:
        raise invalid(errors)
    before = {"state": complaint.state}
    complaint.state, complaint.satisfaction, complaint.closed_on, complaint.close_note = (
        ComplaintState.CLOSED,
        satisfaction,
        closed_on,
        close_note,
    )
    return _save(
        actor=actor,
        complaint=complaint,
        action=Action.COMPLAINT_CLOSED,
        fields=["state", "satisfaction", "closed_on", "close_note"],
        before=before,
        after={"state": complaint.state, "satisfaction": satisfaction, "closed_on": closed_on},
    )


@transaction.atomic(durable=True)
def complaint_review(
    *,
    actor: Any,
    complaint: Complaint,
    review_note: str,
    review_result: str,
    reviewed_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """P14 回头看: a closed complaint is looked at again — was the problem really solved? A result of 仍需整改 is
    the cue to open a ledger case (`complaint_open_case`)."""
    require(actor, "complaints.handle", complaint.division_id)
    complaint = _lock(complaint, expected_version)
    _require_state(complaint, (ComplaintState.CLOSED,), _("回头看"))
    reviewed_on = reviewed_on or dt.date.today()
    review_note = text(review_note, 1000)
    errors = check_date(reviewed_on, "reviewed_on", _("回头看日期"))
    if not errors and complaint.closed_on and reviewed_on < complaint.closed_on:
        errors["reviewed_on"] = _("回头看日期不能早于办结日期")
    if len(review_note) < 4:
        errors["review_note"] = _("请填写回头看情况（核实了什么、群众意见）")
    if review_result not in ReviewResult.values:
        errors["review_result"] = _("请选择回头看结果")
    if errors:
        raise invalid(errors)
    before = {"review_result": complaint.review_result, "review_note": complaint.review_note}
    complaint.is_review, complaint.review_note, complaint.review_result, complaint.reviewed_on = (
        True,
        review_note,
        review_result,
        reviewed_on,
    )
    return _save(
        actor=actor,
        complaint=complaint,
        action=Action.COMPLAINT_REVIEWED,
        fields=["is_review", "review_note", "review_result", "reviewed_on"],
        before=before,
        after={"review_result": review_result, "review_note": review_note, "reviewed_on": reviewed_on},
    )


def complaint_open_case(*, actor: Any, complaint: Complaint, description: str = "", house: Any = None) -> Any:
    """P14, P19: a complaint about a household's housing opens a ledger case (source 信访) through the ledger's own
    `case_open`, with all its guards; the complaint then links to it.

    `case_open` runs in its own (durable) transaction, so this service is two steps. The case carries the
    complaint's number (`source_ref`), so if linking failed after the case was opened, trying again links that case
    instead of opening a second one.
    """
    from anju.cases.models import CaseSource
    from anju.cases.services.cases import case_open_for

    require(actor, "complaints.handle", complaint.division_id)
    require_action(actor, "cases.open")
    if complaint.case_id:
        message = _("该信访件已关联台账#{id}").format(id=complaint.case_id)
        raise ConflictError(message, errors={"case": message})
    if complaint.household_id is None:
        raise invalid({"household": _("请先关联农户，再登记台账")}, _("信访件未关联农户，不能登记台账"))
    ref = _("信访件#{id}").format(id=complaint.pk)
    case = case_open_for(
        actor=actor,
        household=complaint.household,
        house=house,
        source=CaseSource.COMPLAINT,
        source_ref=ref,
        description=text(description, 1000) or complaint.content[:1000],
    )
    return _link_case(actor=actor, complaint=complaint, case=case)


@transaction.atomic(durable=True)
def _link_case(*, actor: Any, complaint: Complaint, case: Any) -> Any:
    complaint = _lock(complaint)
    if complaint.case_id and complaint.case_id != case.pk:
        message = _("该信访件已关联台账#{id}").format(id=complaint.case_id)
        raise ConflictError(message, errors={"case": message})
    complaint.case = case
    _save(
        actor=actor,
        complaint=complaint,
        action=Action.COMPLAINT_CASE_OPENED,
        fields=["case"],
        after={"case": case.pk},
    )
    return case


def complaint_reveal_phone(*, actor: Any, complaint: Complaint) -> str:
    """The complainant's full phone number, for those who handle complaints; every full view is an audit event
    (PIPL), as for registry ID numbers."""
    require(actor, "complaints.handle", complaint.division_id)
    event_record(actor=actor, action=Action.COMPLAINT_PHONE_VIEWED, obj=complaint)
    return _phone_of(complaint)


# -- publicity and public opinion (P15) ---------------------------------------------------------------------------


def _photo(file: Any) -> str:
    from anju.inspections.services.photos import photo_facts, stored_name

    return stored_name(photo_facts(file, field="photo"), file)


@transaction.atomic(durable=True)
def publicity_record(
    *,
    actor: Any,
    division_code: str,
    held_on: dt.date | None,
    kind: str,
    title: str,
    audience: int | None = 0,
    notes: str = "",
    photo: Any = None,
) -> PublicityActivity:
    """P15: a publicity activity is on record (宣传台账): where, when, how, to how many people."""
    division = _division(division_code)
    require(actor, "complaints.publicity", division.code, "division_code")
    errors = _check_activity(held_on, kind, text(title, 200), audience)
    if errors:
        raise invalid(errors)
    activity = PublicityActivity.objects.create(
        division_id=division.code,
        held_on=held_on,
        kind=kind,
        title=text(title, 200),
        audience=audience or 0,
        notes=text(notes, 2000),
        photo=_photo(photo) if photo else "",
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    event_record(
        actor=actor,
        action=Action.PUBLICITY_RECORDED,
        obj=activity,
        after={"held_on": held_on, "kind": kind, "title": activity.title, "audience": activity.audience},
    )
    return activity


def _check_activity(held_on: dt.date | None, kind: str, title: str, audience: int | None) -> dict[str, str]:
    errors = check_date(held_on, "held_on", _("日期"))
    if kind not in PublicityKind.values:
        errors["kind"] = _("请选择宣传形式")
    if not title:
        errors["title"] = _("请填写宣传主题")
    if audience is not None and not 0 <= audience <= 1_000_000:
        errors["audience"] = _("受众人数应在0至1000000之间")
    return errors


@transaction.atomic(durable=True)
def publicity_update(*, actor: Any, activity: PublicityActivity, **changes: Any) -> PublicityActivity:
    """Correct a publicity record (date, form, title, audience, notes, photo)."""
    require(actor, "complaints.publicity", activity.division_id)
    activity = PublicityActivity.objects.select_for_update().get(pk=activity.pk)
    unknown = set(changes) - {"held_on", "kind", "title", "audience", "notes", "photo"}
    if unknown:
        raise invalid({k: _("不能在此修改") for k in unknown})
    values = {k: getattr(activity, k) for k in ("held_on", "kind", "title", "audience", "notes")}
    for field in values:
        if field in changes:
            value = changes[field]
            values[field] = text(value, 200 if field == "title" else 2000) if field in ("title", "notes") else value
    errors = _check_activity(values["held_on"], values["kind"], values["title"], values["audience"])
    if errors:
        raise invalid(errors)
    before, after = {}, {}
    for field, value in values.items():
        if getattr(activity, field) != value:
            before[field], after[field] = getattr(activity, field), value
            setattr(activity, field, value)
    if changes.get("photo"):
        activity.photo = _photo(changes["photo"])
        after["photo"] = activity.photo.name
    if not after:
        raise invalid({"title": _("没有要修改的内容")}, _("没有要修改的内容"))
    activity.save()
    event_record(actor=actor, action=Action.PUBLICITY_CHANGED, obj=activity, before=before, after=after)
    return activity


@transaction.atomic(durable=True)
def incident_record(
    *,
    actor: Any,
    division_code: str,
    found_on: dt.date | None,
    source: str,
    summary: str,
    severity: str = Severity.LOW,
    source_detail: str = "",
) -> OpinionIncident:
    """P15: a public-opinion incident found (舆情监测); from the next day on an unanswered one is an alert."""
    division = _division(division_code)
    require(actor, "complaints.publicity", division.code, "division_code")
    summary = text(summary, 2000)
    errors = check_date(found_on, "found_on", _("发现日期"))
    if source not in OpinionSource.values:
        errors["source"] = _("请选择舆情来源")
    if severity not in Severity.values:
        errors["severity"] = _("请选择舆情等级")
    if not summary:
        errors["summary"] = _("请填写舆情摘要")
    if errors:
        raise invalid(errors)
    incident = OpinionIncident.objects.create(
        division_id=division.code,
        found_on=found_on,
        source=source,
        source_detail=text(source_detail, 200),
        summary=summary,
        severity=severity,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    event_record(
        actor=actor,
        action=Action.INCIDENT_RECORDED,
        obj=incident,
        after={"found_on": found_on, "source": source, "severity": severity},
    )
    return incident


@transaction.atomic(durable=True)
def incident_respond(
    *, actor: Any, incident: OpinionIncident, response: str, responded_on: dt.date | None = None
) -> OpinionIncident:
    """P15: the response to an incident (回应处置); a later response replaces the text and the event keeps both."""
    require(actor, "complaints.publicity", incident.division_id)
    incident = OpinionIncident.objects.select_for_update().get(pk=incident.pk)
    if incident.closed_on:
        raise ConflictError(_("该舆情已办结，不能再回应"), errors={"state": _("已办结")})
    responded_on = responded_on or dt.date.today()
    response = text(response, 2000)
    errors = check_date(responded_on, "responded_on", _("回应日期"))
    if not errors and responded_on < incident.found_on:
        errors["responded_on"] = _("回应日期不能早于发现日期")
    if len(response) < 4:
        errors["response"] = _("请填写回应处置情况")
    if errors:
        raise invalid(errors)
    before = {"response": incident.response, "responded_on": incident.responded_on}
    incident.response, incident.responded_on = response, responded_on
    incident.save(update_fields=["response", "responded_on"])
    event_record(
        actor=actor,
        action=Action.INCIDENT_RESPONDED,
        obj=incident,
        before=before,
        after={"response": response, "responded_on": responded_on},
    )
    return incident


@transaction.atomic(durable=True)
def incident_close(*, actor: Any, incident: OpinionIncident, closed_on: dt.date | None = None) -> OpinionIncident:
    """P15: an incident answered and calmed down is closed (办结); one never answered cannot be."""
    require(actor, "complaints.publicity", incident.division_id)
    incident = OpinionIncident.objects.select_for_update().get(pk=incident.pk)
    if incident.closed_on:
        raise ConflictError(_("该舆情已办结"), errors={"state": _("已办结")})
    if incident.responded_on is None:
        raise ConflictError(_("该舆情尚未回应，须先回应再办结"), errors={"response": _("尚未回应")})
    closed_on = closed_on or dt.date.today()
    errors = check_date(closed_on, "closed_on", _("办结日期"))
    if not errors and closed_on < incident.responded_on:
        errors["closed_on"] = _("办结日期不能早于回应日期")
    if errors:
        raise invalid(errors)
    incident.closed_on = closed_on
    incident.save(update_fields=["closed_on"])
    event_record(actor=actor, action=Action.INCIDENT_CLOSED, obj=incident, after={"closed_on": closed_on})
    return incident
