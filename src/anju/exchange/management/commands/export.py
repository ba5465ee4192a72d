"""`anju export KIND --division CODE -o FILE.xlsx`: workbooks for reporting upward and to other departments.

    anju export ledger --division CODE -o FILE.xlsx [--state S] [--source S] [--late] [--full-id] [--as USER]
    anju export rectification --division CODE -o FILE.xlsx [--as USER]
    anju export households --division CODE -o FILE.xlsx [--category C] [--grade G] [--structure S] [--idle 是|否]
                           [--target 是|否] [--q NAME] [--full-id] [--as USER]
    anju export statistics --division CODE -o FILE.xlsx [--as USER]

Each kind is one entry of `KINDS` (its arguments and its writer), so a new export is one more entry; the division,
the scope of `--as`, the output file and the progress bar are handled once here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from anju.accounts.permissions import has_action
from anju.cases.exports import ledger_cases, ledger_export, rectification_export
from anju.cases.models import CaseSource, CaseState
from anju.cases.selectors import CaseFilters
from anju.core.commands import AnjuCommand
from anju.core.scope import in_scope
from anju.divisions.models import Division
from anju.exchange.exports import export_households, households_export, statistics_export
from anju.registry.filters import HouseholdFilterForm
from anju.registry.models import Grade, Structure, TargetCategory


@dataclass(frozen=True)
class Run:
    """What every kind's writer gets: the resolved actor and division, the options, and the progress callback."""

    actor: Any
    division: Division
    options: dict[str, Any]
    output: str
    progress: Callable[[int], None]


@dataclass(frozen=True)
class Kind:
    help: str
    #: app action the actor needs (besides the division being in scope)
    action: str
    unit: str
    arguments: Callable[[CommandParser], None]
    #: rows the bar will count, or None when unknown
    total: Callable[[Run], int | None]
    write: Callable[[Run], int]
    done: str  # "{rows}" and "{output}" are filled in


def _choice(value: str, choices: list[tuple[str, Any]], what: str) -> str:
    """A state or source by its code or its Chinese label (`施工中` or `under_construction`)."""
    by_name = {str(label): code for code, label in choices} | {code: code for code, _label in choices}
    if value not in by_name:
        names = "、".join(str(label) for _code, label in choices)
        raise CommandError(_("未知{what}「{value}」，可选：{names}").format(what=what, value=value, names=names))
    return by_name[value]


def _ledger_arguments(parser: CommandParser) -> None:
    parser.add_argument("--state", metavar="S", help=_("只导出该状态（如 施工中）"))
    parser.add_argument("--source", metavar="S", help=_("只导出该问题来源（如 问题清单）"))
    parser.add_argument("--late", action="store_true", help=_("只导出逾期未完成的（P19）"))
    parser.add_argument("--full-id", action="store_true", help=_("导出完整身份证号码（需有查看权限，记入审计）"))


def _ledger_filters(run: Run) -> CaseFilters:
    options = run.options
    return CaseFilters(
        division=run.division.code,
        state=_choice(options["state"], CaseState.choices, _("状态")) if options.get("state") else "",
        source=_choice(options["source"], CaseSource.choices, _("问题来源")) if options.get("source") else "",
        late=bool(options.get("late")),
    )


def _ledger_write(run: Run) -> int:
    try:
        return ledger_export(
            actor=run.actor,
            filters=_ledger_filters(run),
            output=run.output,
            full_id=bool(run.options.get("full_id")),
            progress=run.progress,
        )
    except PermissionDenied as exc:
        raise CommandError(str(exc)) from exc


def _households_arguments(parser: CommandParser) -> None:
    parser.add_argument("--category", metavar="C", help=_("只导出该重点对象类型（如 特困人员）"))
    parser.add_argument("--grade", metavar="G", help=_("只导出有该安全等级房屋的农户（A、B、C、D、未鉴定）"))
    parser.add_argument("--structure", metavar="S", help=_("只导出有该结构房屋的农户（如 土窑洞）"))
    parser.add_argument("--idle", metavar="是|否", help=_("只导出有（是）或没有（否）闲置房屋的农户"))
    parser.add_argument("--target", metavar="是|否", help=_("只导出（是）或排除（否）重点对象户"))
    parser.add_argument("--q", metavar="TEXT", help=_("户主姓名（开头）或完整身份证号码"))
    parser.add_argument("--full-id", action="store_true", help=_("导出完整身份证号码（需有查看权限，记入审计）"))


def _optional(value: str | None, choices: list[tuple[str, Any]], what: str) -> str:
    return _choice(value.strip(), choices, what) if value and value.strip() else ""


def _yes_no(value: str | None, what: str) -> str:
    if not value:
        return ""
    answer = {"是": "1", "否": "0", "1": "1", "0": "0", "y": "1", "n": "0"}.get(value.strip().lower())
    if answer is None:
        raise CommandError(_("{what}应为「是」或「否」，收到「{value}」").format(what=what, value=value))
    return answer


def _households_filters(run: Run) -> dict[str, Any]:
    """The options as the household list page's filter form reads them (names or codes), cleaned by that form."""
    options = run.options
    active = TargetCategory.objects.filter(is_active=True)
    categories = [(c.code, c.name) for c in active] + [(c.code, s) for c in active for s in c.short_names]
    data = {
        "division": run.division.code,
        "category": _optional(options.get("category"), categories, _("重点对象类型")),
        "grade": _optional(options.get("grade"), Grade.choices, _("安全等级")),
        "structure": _optional(options.get("structure"), Structure.choices, _("房屋结构")),
        "idle": _yes_no(options.get("idle"), _("是否闲置")),
        "target": _yes_no(options.get("target"), _("重点对象")),
        "q": (options.get("q") or "").strip(),
    }
    form = HouseholdFilterForm(data)
    if not form.is_valid():
        raise CommandError("；".join(f"{form[name].label}：{' '.join(errors)}" for name, errors in form.errors.items()))
    return form.cleaned_data


def _households_write(run: Run) -> int:
    try:
        return households_export(
            actor=run.actor,
            filters=_households_filters(run),
            output=run.output,
            full_id=bool(run.options.get("full_id")),
            progress=run.progress,
        )
    except PermissionDenied as exc:
        raise CommandError(str(exc)) from exc


KINDS: dict[str, Kind] = {
    "ledger": Kind(
        help=_("危房台账（.xlsx）"),
        action="cases.view",
        unit=_("户"),
        arguments=_ledger_arguments,
        total=lambda run: ledger_cases(actor=run.actor, filters=_ledger_filters(run)).count(),
        write=_ledger_write,
        done=_("已导出台账 {rows} 条到 {output}"),
    ),
    "rectification": Kind(
        help=_("整改情况汇总（P1，报乡村振兴部门和上级住建部门，.xlsx）"),
        action="cases.view",
        unit=_("个区划"),
        arguments=lambda parser: None,
        total=lambda run: None,
        write=lambda run: rectification_export(
            actor=run.actor, division=run.division, output=run.output, progress=run.progress
        ),
        done=_("已导出整改情况汇总（{rows} 个区划及合计）到 {output}"),
    ),
    "households": Kind(
        help=_("农户与房屋（导入格式，一房一行，.xlsx）"),
        action="registry.view",
        unit=_("户"),
        arguments=_households_arguments,
        total=lambda run: export_households(actor=run.actor, filters=_households_filters(run)).count(),
        write=_households_write,
        done=_("已导出农户 {rows} 户到 {output}"),
    ),
    "statistics": Kind(
        help=_("分区划统计表（农户、重点对象、房屋等级与结构、危房、台账状态与逾期，.xlsx）"),
        action="registry.view",
        unit=_("个区划"),
        arguments=lambda parser: None,
        total=lambda run: None,
        write=lambda run: statistics_export(
            actor=run.actor, division=run.division, output=run.output, progress=run.progress
        ),
        done=_("已导出分区划统计表（{rows} 个区划及合计）到 {output}"),
    ),
}


class Command(AnjuCommand):
    help = _(
        "导出 Excel：ledger 危房台账；rectification 整改情况汇总（P1）；households 农户与房屋；statistics 分区划统计表"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        for name, kind in KINDS.items():
            parser_ = self.add_subcommand(sub, name, help=kind.help)
            parser_.add_argument("--division", required=True, metavar="CODE", help=_("区划代码（12位）"))
            parser_.add_argument("-o", "--output", required=True, metavar="FILE.xlsx", help=_("输出文件"))
            kind.arguments(parser_)

    def handle(self, *args: Any, **options: Any) -> None:
        kind = KINDS[options["kind"]]
        actor = self.actor(options)
        if actor is not None and not has_action(actor, kind.action):
            raise CommandError(_("用户「{username}」无权导出").format(username=actor.username))
        division = self._division(options["division"], actor)
        output = self._output(options["output"])
        quiet = options["verbosity"] == 0
        with tqdm(desc=kind.help, unit=kind.unit, file=sys.stderr, disable=quiet, dynamic_ncols=True) as bar:
            run = Run(actor=actor, division=division, options=options, output=output, progress=bar.update)
            bar.total = kind.total(run)
            rows = kind.write(run)
        if not quiet:
            self.stdout.write(self.style.SUCCESS(kind.done.format(rows=rows, output=output)))

    def _division(self, code: str, actor: Any) -> Division:
        code = code.strip()
        division = Division.objects.filter(code=code).first()
        if division is None:
            raise CommandError(_("区划代码{code}不存在").format(code=code))
        if actor is not None and not in_scope(division.code, actor.scope_prefix):
            raise CommandError(_("「{name}」不在您的管辖范围内").format(name=division.name))
        return division

    def _output(self, output: str) -> str:
        if not output.lower().endswith(".xlsx"):
            raise CommandError(_("输出文件应以 .xlsx 结尾"))
        if not Path(output).parent.is_dir():
            raise CommandError(_("输出目录不存在：{path}").format(path=Path(output).parent))
        return output
