"""`anju import KIND FILE`: load a file through the owning app's service (all-or-nothing by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from anju.core.commands import AnjuCommand
from anju.core.errors import DomainError
from anju.divisions.services import division_import


class Command(AnjuCommand):
    help = _("导入数据文件。divisions：统计用区划代码（code,name,level,parent_code）")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="kind", required=True)
        divisions = self.add_subcommand(sub, "divisions", help=_("导入行政区划（NBS 12位代码）"))
        divisions.add_argument("file")
        divisions.add_argument("--dry-run", action="store_true", help=_("只校验，不写入"))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("文件不存在：{path}").format(path=path))
        try:
            report = division_import(actor=self.actor(options), path=path, dry_run=options["dry_run"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if report.errors:
            self.report_errors(report.errors)
            raise CommandError(_("共 {count} 处错误，未写入任何数据").format(count=len(report.errors)))
        verb = _("校验通过（未写入）") if options["dry_run"] else _("导入完成")
        self.stdout.write(
            self.style.SUCCESS(
                _("{verb}：共 {total} 行，新增 {created}，更新 {updated}，未变 {unchanged}").format(
                    verb=verb,
                    total=report.total,
                    created=report.created,
                    updated=report.updated,
                    unchanged=report.unchanged,
                )
            )
        )
