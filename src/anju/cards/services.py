"""P13 policy cards: the city edits the two texts and sets the year's round; villages, towns and counties record
who received a card. Every write is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import DomainError, ScopeError
from anju.core.scope import in_scope
from anju.divisions.models import Division
from anju.registry.models import Household

from .models import Audience, CardDistribution, CardRound, CardTemplate
from .printing import MAX_CARDS, build_cards, cards_pdf
from .selectors import Recipient, is_staff, recipients, renovated_household_ids

#: Recipients one request may record (a village's list fits; larger batches are split by the page).
MAX_BATCH = 500


def _text(value: str, field: str, label: str, limit: int, errors: dict[str, str]) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = _("请填写{label}").format(label=label)
    elif len(value) > limit:
        errors[field] = _("{label}不能超过{n}字").format(label=label, n=limit)
    return value


@transaction.atomic
def template_save(*, actor: Any, audience: str, title: str, body: str, feedback: str) -> CardTemplate:
    """A new version of the card text for `audience` (the city: cards.configure); older versions stay, since
    distributions name the version they handed out."""
    require_action(actor, "cards.configure")
    if audience not in Audience.values:
        raise DomainError(_("明白卡对象无效"), errors={"audience": _("明白卡对象无效")})
    errors: dict[str, str] = {}
    title = _text(title, "title", _("标题"), 60, errors)
    body = _text(body, "body", _("政策要点"), 1500, errors)
    feedback = _text(feedback, "feedback", _("反映问题渠道 / 接待要求"), 500, errors)
    if errors:
        raise DomainError(_("输入有误，请检查标出的字段"), errors=errors)
    last = CardTemplate.objects.select_for_update().filter(audience=audience).order_by("-version").first()
    template = CardTemplate.objects.create(
        audience=audience,
        version=(last.version + 1) if last else 1,
        title=title,
        body=body,
        feedback=feedback,
        created_by=actor,
    )
    event_record(
        actor=actor,
        action=Action.CARD_TEMPLATE_SAVED,
        obj=template,
        after={"audience": audience, "version": template.version, "title": title},
    )
    return template


@transaction.atomic
def round_set(*, actor: Any, year: int, deadline: dt.date, note: str = "") -> CardRound:
    """The year's round and its deadline (P13); after the deadline the uncovered are alerts."""
    require_action(actor, "cards.configure")
    if not 2000 <= int(year) <= 2100:
        raise DomainError(_("年度无效"), errors={"year": _("年度无效")})
    if deadline.year not in (year, year + 1):
        message = _("截止日期应在{year}年或次年").format(year=year)
        raise DomainError(message, errors={"deadline": message})
    card_round, created = CardRound.objects.update_or_create(
        year=year, defaults={"deadline": deadline, "note": (note or "").strip()[:200], "created_by": actor}
    )
    event_record(
        actor=actor,
        action=Action.CARD_ROUND_SET,
        obj=card_round,
        after={"year": year, "deadline": deadline, "created": created},
    )
    return card_round


def current_template(audience: str) -> CardTemplate:
    template = CardTemplate.objects.filter(audience=audience).order_by("-version").first()
    if template is None:
        raise DomainError(_("尚未设置{card}的内容，请市级先编辑模板").format(card=Audience(audience).label))
    return template


@transaction.atomic
def cards_distribute(
    *,
    actor: Any,
    audience: str,
    recipient_ids: list[int],
    distributed_on: dt.date,
    signed: bool = False,
    note: str = "",
) -> list[CardDistribution]:
    """Record that households (audience household: households that had a renovation) or staff members received the
    current card on `distributed_on`. All or nothing; anyone already recorded, outside the actor's subtree or not
    entitled is named in the refusal."""
    require_action(actor, "cards.distribute")
    if audience not in Audience.values:
        raise DomainError(_("明白卡对象无效"), errors={"audience": _("明白卡对象无效")})
    ids = sorted({int(i) for i in recipient_ids})
    if not ids:
        raise DomainError(_("请选择发放对象"), errors={"recipients": _("请选择发放对象")})
    if len(ids) > MAX_BATCH:
        message = _("一次最多登记{n}人，请分批登记").format(n=MAX_BATCH)
        raise DomainError(message, errors={"recipients": message})
    if distributed_on is None or distributed_on > timezone.localdate():
        message = _("发放日期不能为空，也不能晚于今天")
        raise DomainError(message, errors={"distributed_on": message})
    template = current_template(audience)
    prefix = actor.scope_prefix
    if audience == Audience.HOUSEHOLD:
        found = dict(Household.objects.filter(pk__in=ids).values_list("pk", "division_id"))
        entitled = renovated_household_ids(ids)
        done = set(CardDistribution.objects.filter(household_id__in=ids).values_list("household_id", flat=True))
    else:
        people = {u.pk: u for u in User.objects.filter(pk__in=ids)}
        found = {pk: u.division_id for pk, u in people.items()}
        entitled = {pk for pk, u in people.items() if is_staff(u)}
        done = set(CardDistribution.objects.filter(person_id__in=ids).values_list("person_id", flat=True))
    outside = [i for i in ids if i not in found or not in_scope(found[i] or "", prefix)]
    if outside:
        raise ScopeError(_("有{n}个对象不存在或不在您的管辖范围内").format(n=len(outside)))
    problems = []
    if not_entitled := [i for i in ids if i not in entitled]:
        reason = _("尚未完成危房改造") if audience == Audience.HOUSEHOLD else _("不是住房建设工作人员")
        problems.append(
            _("{n}个对象{reason}（编号{ids}）").format(n=len(not_entitled), reason=reason, ids=_ids(not_entitled))
        )
    if already := [i for i in ids if i in done]:
        problems.append(_("{n}个对象已登记发放（编号{ids}）").format(n=len(already), ids=_ids(already)))
    if problems:
        message = "；".join(problems)
        raise DomainError(message, errors={"recipients": message})
    rows = [
        CardDistribution(
            audience=audience,
            household_id=i if audience == Audience.HOUSEHOLD else None,
            person_id=i if audience == Audience.STAFF else None,
            division_id=found[i],
            template=template,
            distributed_on=distributed_on,
            signed=signed,
            note=(note or "").strip()[:200],
            distributed_by=actor,
        )
        for i in ids
    ]
    CardDistribution.objects.bulk_create(rows)
    event_record(
        actor=actor,
        action=Action.CARDS_DISTRIBUTED,
        division_code=actor.division_id or "",
        extra={"audience": audience, "count": len(ids), "ids": ids, "version": template.version, "signed": signed},
    )
    return rows


def _ids(ids: list[int]) -> str:
    shown = "、".join(str(i) for i in ids[:10])
    return shown + ("…" if len(ids) > 10 else "")


def print_recipients(actor: Any, audience: str, division: Division, *, missing_only: bool) -> list[Recipient]:
    """The people a print of `division`'s cards covers (only those still without one with `missing_only`);
    refused in Chinese when there is none, more than MAX_CARDS, or no current card text. The page checks it
    before answering, the print (at once or as a background job) again when it runs."""
    require_action(actor, "cards.distribute")
    people = recipients(actor, audience, division.prefix, missing_only=missing_only)
    if not people:
        raise DomainError(_("该区划没有需要打印的明白卡。"))
    if len(people) > MAX_CARDS:
        raise DomainError(
            _("一次最多打印{max}张，{name}共{n}张，请按乡镇或村分批打印。").format(
                max=MAX_CARDS, name=division.name, n=len(people)
            )
        )
    current_template(audience)
    return people


def cards_print(
    *,
    actor: Any,
    audience: str,
    division: Division,
    missing_only: bool,
    output: str | Path | IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> int:
    """P13: the cards of `print_recipients`, two A5 cards on each A4 sheet, as a PDF into `output`; audited
    (what was printed, for whom, in which version). Returns the number of cards, also told to `progress` once
    written (the PDF is laid out in one piece)."""
    people = print_recipients(actor, audience, division, missing_only=missing_only)
    template = current_template(audience)
    cards = build_cards(audience, [(p.pk, p.name, p.division_id) for p in people])
    content = cards_pdf(template, cards, per_sheet=2)
    if isinstance(output, str | Path):
        Path(output).write_bytes(content)
    else:
        output.write(content)
    if progress:
        progress(len(cards))
    event_record(
        actor=actor,
        action=Action.CARDS_PRINTED,
        division_code=division.code,
        extra={"audience": audience, "count": len(cards), "version": template.version},
    )
    return len(cards)
