"""`anju import problems FILE`: a problem list (P1) opens ledger cases in one batch (DESIGN.md "Problem lists").

Every row is one household (keyed by its head's ID hash; a household twice in one list is an error naming the
first row) and opens a case with source 问题清单, the list's household type, description and transfer date,
opened today in state 登记, the village's responsible person (P18) and the household's categories as a snapshot —
the rules of `cases.services.cases.case_open`, in bulk. The case's house is the household's house when it has
exactly one, else none (the village links it later).

Against the ledger (a re-import opens nothing twice, a corrected file updates in place):
- a problem-list case of the household with the same description (any state, closed included) → unchanged, or
  updated when only its household type or transfer date differs and it is still open;
- else an open problem-list case of the household → updated: the corrected description, type and date;
- else a new case; but when the household's house already has an open case of another source, the row is an
  error naming that case (as `case_open` refuses it: one open case per house — the problem is handled there).
A household not in the registry yet is created (head name, ID cipher/hash/mask as the registry stores them, size 1
as a placeholder) and flagged twice for its village: the household's note 「问题清单导入，待核实家庭人口」 and the
case's 来源编号 「…新建农户待核实」. The run's message counts them (新建农户).
The registry is the authority on where a known household lives (its case goes there); the ID's head name must
match the registry's. The list's village and a known household's village must both lie in the actor's subtree.

History: besides the run's one audit event, every case gets its own 登记台账 (or 修改台账) event, appended to the
hash chain in bulk, naming the run, file and row, so the case page shows where the case came from.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.audit.services import event_build, events_append
from anju.cases.models import OPEN_STATES, Case, CaseSource, CaseState, HouseholdType
from anju.core import bulk, idnumber
from anju.core.scope import in_scope
from anju.policy.responsibility import ResponsibilityMap
from anju.policy.services import alerts_refresh_on_commit
from anju.registry.models import House, Household, HouseholdCategory

from .. import values
from ..pipeline import CREATED, UNCHANGED, UPDATED, Column, Context, Row, Spec
from ..places import PlaceResolver
from .households import COLUMNS as HOUSEHOLD_COLUMNS
from .households import (
    HOUSEHOLD_DEFAULTS,
    HOUSEHOLD_FIELDS,
    NEW_HOUSEHOLD,
    check_place,
    head_keys,
    registered_households,
)

#: P1: the four household types a problem list names (the codes `case_open` accepts for 问题清单)
TYPES = {
    code: str(label)
    for code, label in HouseholdType.choices
    if code
    in (HouseholdType.UNSTABLE, HouseholdType.EDGE, HouseholdType.SUDDEN_HARDSHIP, HouseholdType.OTHER_REGISTERED)
}
TYPE_ALIASES = {label.removesuffix("户"): code for code, label in TYPES.items()} | {
    "脱贫不稳定": HouseholdType.UNSTABLE.value,
    "边缘户": HouseholdType.EDGE.value,
    "边缘易致贫": HouseholdType.EDGE.value,
    "突发严重困难": HouseholdType.SUDDEN_HARDSHIP.value,
    "建档立卡户": HouseholdType.OTHER_REGISTERED.value,
}
NEW_HOUSEHOLD_NOTE = "问题清单导入，待核实家庭人口"
NEW_CASE = [
    "id",
    "division",
    "household",
    "house",
    "source",
    "source_ref",
    "household_type",
    "categories",
    "description",
    "measures",
    "opened_on",
    "transferred_on",
    "opened_by",
    "state",
    "outcome",
    "version",
    "responsible",
    "responsible_name",
    "grade",
    "secured_means",
    "secured_evidence",
    "cancel_reason",
    "is_sample",
    "created_at",
    "updated_at",
]
CHANGED = ("description", "household_type", "transferred_on")
STATE_LABELS = dict(CaseState.choices)
SOURCE_LABELS = dict(CaseSource.choices)


def _description(cell: Any) -> str:
    text = values.clean_text(cell)
    if len(text) > 1000:
        raise ValueError(_("问题描述不能超过1000个字"))
    return text


def _transferred_on(cell: Any) -> dt.date:
    return values.parse_date(cell, not_after=timezone.localdate())


def _household_column(key: str) -> Column:
    return next(c for c in HOUSEHOLD_COLUMNS if c.key == key)


COLUMNS = (
    *(_household_column(k) for k in ("division_code", "county", "town", "village", "head_name", "id_number")),
    Column(
        "household_type",
        "户类型",
        aliases=("农户类型", "户别", "对象类型", "监测对象类型"),
        required=True,
        parse=lambda cell: values.parse_choice(cell, TYPES, TYPE_ALIASES),
    ),
    Column(
        "description",
        "问题描述",
        aliases=("存在问题", "问题", "住房安全问题", "问题情况", "具体问题"),
        required=True,
        parse=_description,
    ),
    Column(
        "transferred_on", "移交日期", aliases=("移交时间", "交办日期", "移交日"), required=True, parse=_transferred_on
    ),
)


class ProblemsImporter:
    kind: ClassVar[str] = "problems"
    spec: ClassVar[Spec] = Spec(columns=COLUMNS, one_of=((("division_code",), ("county", "town", "village")),))
    permissions: ClassVar[tuple[str, ...]] = ("cases.open", "registry.add")
    action: ClassVar[Action] = Action.PROBLEMS_IMPORTED
    key_column: ClassVar[str] = "id_number"

    def start(self, ctx: Context) -> None:
        self.places = PlaceResolver()
        self.prefix = ctx.actor.scope_prefix if ctx.actor is not None else ""

    def keys(self, rows: list[Row]) -> list[str | None]:
        return head_keys(rows)

    # pass 1 ---------------------------------------------------------------------------------------------------

    def validate(self, rows: list[Row], ctx: Context) -> None:
        for row in rows:
            self._place(row, ctx)
        clean = [row for row in rows if row.ok]
        if not clean:
            return
        with bulk.key_probes():
            known = registered_households([row.key for row in clean])
        household_ids = [h["id"] for h in known.values()]
        houses: dict[int, list[int]] = defaultdict(list)
        for household_id, house_id in (
            House.objects.filter(household_id__in=household_ids).order_by("id").values_list("household_id", "id")
        ):
            houses[household_id].append(house_id)
        listed: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for case in (
            Case.objects.filter(household_id__in=household_ids, source=CaseSource.PROBLEM_LIST)
            .order_by("-opened_on", "-id")
            .values("id", "household_id", "state", "description", *CHANGED[1:])
        ):
            listed[case["household_id"]].append(case)
        only_houses = [ids[0] for ids in houses.values() if len(ids) == 1]
        busy = {
            c["house_id"]: c
            for c in Case.objects.filter(house_id__in=only_houses, state__in=OPEN_STATES).values(
                "id", "house_id", "source", "state"
            )
        }
        for row in clean:
            current = known.get(row.key)
            if current is None:
                self._new_household(row)
                continue
            if self.prefix and not in_scope(current["division_id"], self.prefix):
                row.fail(
                    self.spec.column("id_number"),
                    _("该身份证号码已登记为户主，所在村不在您的管辖范围内，请联系所在地核实"),
                    idnumber.mask(row.values["id_number"]),
                )
                continue
            if values.clean_text(current["head_name"]) != row.values["head_name"]:
                row.fail(
                    self.spec.column("head_name"),
                    _("该身份证号码在系统中登记的户主为「{name}」，与表中姓名不一致，请核实身份证号码或姓名").format(
                        name=current["head_name"]
                    ),
                )
                continue
            own = houses.get(current["id"], [])
            self._classify(row, current, own[0] if len(own) == 1 else None, listed[current["id"]], busy)

    def _place(self, row: Row, ctx: Context) -> None:
        """The list's village: it must exist and lie in the actor's subtree."""
        check_place(row, ctx, self.spec, self.places, self.prefix)

    def _new_household(self, row: Row) -> None:
        v = row.values
        number = v["id_number"]
        row.outcome = CREATED
        row.payload = (
            "new",
            row.number,
            v["village_code"],
            v["head_name"],
            (idnumber.encrypt(number), row.key, idnumber.mask(number)),
            v["household_type"],
            v["description"],
            v["transferred_on"],
        )

    def _classify(
        self,
        row: Row,
        household: dict[str, Any],
        house_id: int | None,
        listed: list[dict[str, Any]],
        busy: dict[int, dict[str, Any]],
    ) -> None:
        v = row.values
        wanted = {"description": v["description"], "household_type": v["household_type"]}
        wanted["transferred_on"] = v["transferred_on"]
        same = next((c for c in listed if values.clean_text(c["description"]) == v["description"]), None)
        open_ = next((c for c in listed if c["state"] in OPEN_STATES), None)
        case = same if same is not None else open_
        if case is not None:
            changes = {f: wanted[f] for f in CHANGED if wanted[f] != case[f]}
            if not changes or case["state"] not in OPEN_STATES:
                row.outcome = UNCHANGED  # the same problem, already in the ledger (closed ones are not reopened)
                return
            row.outcome = UPDATED
            before = {f: case[f] for f in changes}
            row.payload = ("update", row.number, case["id"], household["division_id"], household["id"], changes, before)
            return
        if house_id is not None and house_id in busy:
            other = busy[house_id]
            row.fail(
                self.spec.column("id_number"),
                _("该户房屋已有未销号的台账#{id}（{source}，{state}），问题请在原台账中处理，不能重复登记").format(
                    id=other["id"], source=SOURCE_LABELS[other["source"]], state=STATE_LABELS[other["state"]]
                ),
                idnumber.mask(v["id_number"]),
            )
            return
        row.outcome = CREATED
        row.payload = (
            "open",
            row.number,
            household["division_id"],
            household["id"],
            house_id,
            v["household_type"],
            v["description"],
            v["transferred_on"],
        )

    def complete(self, ctx: Context) -> list:
        return []

    # pass 2 ---------------------------------------------------------------------------------------------------

    def write(self, batches: Iterator[list[tuple[int, str, Any]]], ctx: Context) -> dict[str, Any]:
        writer = _Writer(ctx)
        for items in batches:
            writer.add([payload for _n, _outcome, payload in items])
        alerts_refresh_on_commit(household_ids=writer.touched)  # P7: an open case changes the household's alerts
        totals = writer.totals
        ctx.run.message = _("开立台账 {opened} 件，修改 {updated} 件；其中新建农户 {new} 户（待核实家庭人口）").format(
            opened=totals["cases_opened"], updated=totals["cases_updated"], new=totals["households_created"]
        )
        return totals


class _Writer:
    """Households, cases, case updates and the cases' events of each spool batch, one statement per table."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.households_layout = bulk.columns_for(Household, [*NEW_HOUSEHOLD, "to_verify"])
        self.cases_layout = bulk.columns_for(Case, NEW_CASE)
        self.now = timezone.now()
        self.db_now = connection.ops.adapt_datetimefield_value(self.now)
        self.today = connection.ops.adapt_datefield_value(ctx.today)
        self.actor_id = ctx.actor.pk if getattr(ctx.actor, "pk", None) else None
        stem = Path(ctx.run.file_name).stem
        self.origin = stem if len(stem) <= 60 else f"{stem[:59]}…"
        self.touched: set[int] = set()
        self.totals = {"cases_opened": 0, "cases_updated": 0, "households_created": 0}

    def add(self, payloads: list[tuple]) -> None:
        news = [p for p in payloads if p[0] == "new"]
        opens = [p for p in payloads if p[0] == "open"]
        updates = [p for p in payloads if p[0] == "update"]
        people = ResponsibilityMap({p[2] for p in news + opens})
        categories = self._categories([p[3] for p in opens])
        households: list[tuple] = []
        cases: list[tuple] = []  # (row, village, household, house, type, description, transferred_on, new)
        first_household = bulk.reserve_ids(Household, len(news)) if news else 0
        extra = self.households_layout[1]
        for offset, (_op, number, village, head_name, ids, *problem) in enumerate(news):
            household_id = first_household + offset
            fields = HOUSEHOLD_DEFAULTS | {"head_name": head_name, "size": 1, "note": NEW_HOUSEHOLD_NOTE}
            row = (household_id, village, *(fields[f] for f in HOUSEHOLD_FIELDS), *ids, False, *[self.db_now] * 2)
            row += (True,)  # to_verify: the village checks the household (size 1 is a placeholder)
            households.append((*row, *extra))
            cases.append((number, village, household_id, None, *problem, True))
        cases += [
            (number, village, household, house, *problem, False)
            for _op, number, village, household, house, *problem in opens
        ]
        bulk.insert_rows(Household, self.households_layout[0], households)
        events = self._open(cases, people, categories) + self._update(updates)
        events_append(events)
        self.totals["households_created"] += len(news)

    def _categories(self, household_ids: list[int]) -> dict[int, list[str]]:
        """The snapshot `case_open` takes: the household's current categories, in their list order."""
        found: dict[int, list[str]] = defaultdict(list)
        for household_id, name in (
            HouseholdCategory.objects.filter(household_id__in=household_ids, ended_on__isnull=True)
            .order_by("household_id", "category__sort_order", "id")
            .values_list("household_id", "category__name")
        ):
            found[household_id].append(name)
        return found

    def _open(self, cases: list[tuple], people: ResponsibilityMap, categories: dict[int, list[str]]) -> list[Event]:
        if not cases:
            return []
        first = bulk.reserve_ids(Case, len(cases))
        rows, events = [], []
        extra = self.cases_layout[1]
        for offset, (number, village, household, house, kind, description, transferred_on, new) in enumerate(cases):
            case_id = first + offset
            person = people.for_code(village)
            ref = _("{file} 第{row}行").format(file=self.origin, row=number)
            if new:
                ref = _("{ref}；新建农户待核实").format(ref=ref)
            rows.append(
                (
                    case_id,
                    village,
                    household,
                    house,
                    CaseSource.PROBLEM_LIST.value,
                    ref,
                    kind,
                    json.dumps(categories.get(household, []), ensure_ascii=False),
                    description,
                    "",
                    self.today,
                    connection.ops.adapt_datefield_value(transferred_on),
                    self.actor_id,
                    CaseState.REGISTERED.value,
                    "",
                    1,
                    person.user_id,
                    person.name,
                    "",
                    "",
                    "",
                    "",
                    False,
                    self.db_now,
                    self.db_now,
                    *extra,
                )
            )
            after = {
                "household": household,
                "house": house,
                "source": CaseSource.PROBLEM_LIST.value,
                "household_type": kind,
                "description": description,
                "measures": "",
                "opened_on": self.ctx.today,
                "transferred_on": transferred_on,
                "state": CaseState.REGISTERED.value,
            }
            events.append(self._event(Action.CASE_OPENED, case_id, village, None, after, number, new_household=new))
            self.touched.add(household)
        bulk.insert_rows(Case, self.cases_layout[0], rows)
        self.totals["cases_opened"] += len(rows)
        return events

    def _update(self, updates: list[tuple]) -> list[Event]:
        """A corrected list: the open case takes the list's description, household type and transfer date. The
        version moves, so a form opened before the import cannot overwrite it (as `case_update`)."""
        if not updates:
            return []
        qn = connection.ops.quote_name
        table = qn(Case._meta.db_table)
        events = []
        for _op, number, case_id, village, household, changes, before in updates:
            events.append(
                self._event(Action.CASE_CHANGED, case_id, village, before, changes, number, fields=list(changes))
            )
            self.touched.add(household)
        with connection.cursor() as cursor:
            for fields, group in _by_fields(updates).items():
                sets = ", ".join(f"{qn(f)} = %s" for f in (*fields, "updated_at"))
                cursor.executemany(
                    f"UPDATE {table} SET {sets}, {qn('version')} = {qn('version')} + 1 WHERE id = %s",
                    [(*(_db(changes[f]) for f in fields), self.db_now, case_id) for case_id, changes in group],
                )
        self.totals["cases_updated"] += len(updates)
        return events

    def _event(
        self,
        action: Action,
        case_id: int,
        village: str,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        number: int,
        **extra: Any,
    ) -> Event:
        run = self.ctx.run
        return event_build(
            actor=self.ctx.actor if self.actor_id else None,
            action=action,
            object_type=Case._meta.label_lower,
            object_id=case_id,
            object_repr=_("台账#{id}").format(id=case_id),
            division_code=village,
            before=before,
            after=after,
            extra={"import_run": run.pk, "file": run.file_name, "sha256": run.file_sha256, "row": number} | extra,
            created_at=self.now,
        )


def _by_fields(updates: list[tuple]) -> dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]]:
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for _op, _number, case_id, _village, _household, changes, _before in updates:
        groups[tuple(f for f in CHANGED if f in changes)].append((case_id, changes))
    return groups


def _db(value: Any) -> Any:
    return connection.ops.adapt_datefield_value(value) if isinstance(value, dt.date) else value
