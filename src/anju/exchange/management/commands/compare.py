"""`anju compare FILE --source 民政|乡村振兴|其他 [--division CODE] [-o REPORT.xlsx] [--as USER] [--apply SET …]`

Compares a department's list with the registry (P6), stores the findings and writes the report workbook (-o; the
findings stay in the database for the web page and --apply either way);
`--apply` then applies the chosen result sets at once (categories: add the missing categories; ended: end the
categories no longer listed; tasks: registration tasks for people not in the registry; all: the three).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from anju.core.commands import AnjuCommand
from anju.core.errors import DomainError
from anju.exchange.compare import Stage, comparison_run
from anju.exchange.models import ComparisonSet
from anju.exchange.services import comparison_apply_all

APPLY = {
    "categories": [ComparisonSet.CATEGORY_MISSING],
    "ended": [ComparisonSet.NO_LONGER_LISTED],
    "tasks": [ComparisonSet.NOT_IN_REGISTRY],
    "all": [ComparisonSet.CATEGORY_MISSING, ComparisonSet.NO_LONGER_LISTED, ComparisonSet.NOT_IN_REGISTRY],
}


class Command(AnjuCommand):
    help = _("部门数据比对（P6）：名单与系统比对，输出比对结果 Excel，可选择直接处理结果")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help=_("部门名单（.xlsx、.xls 或 .csv）"))
        parser.add_argument("--source", required=True, metavar="部门", help=_("来源部门：民政、乡村振兴或其他"))
        parser.add_argument("--division", metavar="CODE", help=_("比对范围的区划代码（默认：--as 用户的辖区）"))
        parser.add_argument("-o", "--output", metavar="REPORT.xlsx", help=_("比对结果文件（可选）"))
        parser.add_argument(
            "--apply",
            action="append",
            choices=list(APPLY),
            default=[],
            help=_("直接处理：categories 补录类别，ended 终止已不在名单的类别，tasks 生成待登记任务，all 全部"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("文件不存在：{path}").format(path=path))
        output = options["output"]
        if output and not output.lower().endswith(".xlsx"):
            raise CommandError(_("输出文件应以 .xlsx 结尾"))
        if output and not Path(output).resolve().parent.is_dir():
            raise CommandError(_("输出目录不存在：{path}").format(path=Path(output).parent))
        results = list(dict.fromkeys(r for name in options["apply"] for r in APPLY[name]))
        quiet = options["verbosity"] == 0
        bars: dict[str, tqdm] = {}

        def progress(stage: Stage) -> None:
            """A bar per step (读取 → 比对 → 生成结果表), each closed when the next begins."""
            if stage.label not in bars:
                for bar in bars.values():
                    bar.close()
                bars[stage.label] = tqdm(
                    desc=stage.label,
                    total=stage.total or None,
                    unit=stage.unit or _("步"),
                    file=sys.stderr,
                    disable=quiet,
                    dynamic_ncols=True,
                )
            bar = bars[stage.label]
            bar.update(stage.done - bar.n)

        try:
            try:
                outcome = comparison_run(
                    actor=actor,
                    path=path,
                    source=options["source"],
                    division_code=options.get("division"),
                    output=output,
                    progress=progress,
                )
            finally:
                for bar in bars.values():
                    bar.close()
            applied = {}
            if results:
                applied = comparison_apply_all(actor=actor, comparison=outcome.comparison, results=results)
        except (DomainError, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        if quiet:
            return
        comparison = outcome.comparison
        labels = dict(ComparisonSet.choices)
        scope = comparison.division.name
        self.stdout.write(_("名单 {rows} 行，比对范围：{scope}").format(rows=comparison.total, scope=scope))
        for result in ComparisonSet.values:
            self.stdout.write(f"  {labels[result]}：{comparison.counts.get(result, 0)}")
        if outcome.issues:
            self.stdout.write(_("  问题行：{count}（见结果文件「问题行」表）").format(count=len(outcome.issues)))
            self.report_errors(
                [_("第{row}行「{column}」{value}：{message}").format(**vars(i)) for i in outcome.issues], limit=20
            )
        names = {"items": _("结果"), "added": _("补录类别"), "ended": _("终止类别"), "tasks": _("生成待登记任务")}
        for result, counts in applied.items():
            done = "，".join(f"{names[key]} {value}" for key, value in counts.items())
            self.stdout.write(_("已处理「{set}」：{done}").format(set=labels[result], done=done))
        if output:
            self.stdout.write(self.style.SUCCESS(_("比对结果已写入 {output}").format(output=output)))
