"""`anju export KIND --division CODE -o FILE.xlsx`: workbooks for reporting upward and to other departments.

    anju export ledger --division CODE -o FILE.xlsx [--state S] [--source S] [--late] [--full-id] [--as USER]
    anju export rectification --division CODE -o FILE.xlsx [--as USER]

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
}


class Command(AnjuCommand):
    help = _("导出 Excel：ledger 危房台账；rectification 整改情况汇总（P1）")

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
