"""`anju monitoring export [--division CODE] [--reason R] -o FILE.xlsx`: the P7 monitoring list as a workbook."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from anju.core.commands import AnjuCommand
from anju.core.scope import in_scope
from anju.divisions.models import Division
from anju.policy.exports import monitoring_export
from anju.policy.rules.monitoring import REASONS


class Command(AnjuCommand):
    help = _("动态监测对象（P7）：export 导出名单为 Excel")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        export = self.add_subcommand(sub, "export", help=_("导出名单（.xlsx）"))
        export.add_argument("--division", metavar="CODE", help=_("区划代码（默认：全部，或 --as 用户的辖区）"))
        export.add_argument("--reason", choices=list(REASONS), help=_("只导出该纳入原因"))
        export.add_argument("-o", "--output", required=True, metavar="FILE.xlsx", help=_("输出文件"))

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        filters: dict[str, Any] = {}
        code = (options.get("division") or "").strip()
        if code:
            division = Division.objects.filter(code=code).first()
            if division is None:
                raise CommandError(_("区划代码{code}不存在").format(code=code))
            if actor is not None and not in_scope(division.code, actor.scope_prefix):
                raise CommandError(_("「{name}」不在您的管辖范围内").format(name=division.name))
            filters["division"] = division
        if options.get("reason"):
            filters["reason"] = options["reason"]
        output = options["output"]
        if not output.lower().endswith(".xlsx"):
            raise CommandError(_("输出文件应以 .xlsx 结尾"))
        quiet = options["verbosity"] == 0
        with tqdm(desc=_("导出动态监测对象"), unit=_("户"), file=sys.stderr, disable=quiet, dynamic_ncols=True) as bar:
            rows = monitoring_export(actor=actor, filters=filters, output=output, progress=bar.update)
        if not quiet:
            self.stdout.write(self.style.SUCCESS(_("已导出 {rows} 户到 {output}").format(rows=rows, output=output)))
