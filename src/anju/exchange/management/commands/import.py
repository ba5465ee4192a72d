"""`anju import KIND FILE`: load a spreadsheet through the import engine (`exchange.pipeline.run_import`).

    anju import households FILE [--dry-run] [--skip-invalid] [--errors OUT.xlsx] [--as USER]
    anju import divisions FILE [--dry-run] [--skip-invalid] [--errors OUT.xlsx] [--as USER]
    anju import problems FILE [--dry-run] [--skip-invalid] [--errors OUT.xlsx] [--as USER]

All-or-nothing by default: a file with any bad row writes nothing, every bad row is listed (the first 200 here, all
of them in the `--errors` workbook) and the command exits non-zero. `--skip-invalid` writes the good rows.
A progress bar runs on stderr (校验 = pass 1, 写入 = pass 2); the summary line is on stdout.
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
from anju.exchange.models import ImportMode
from anju.exchange.pipeline import ImportResult, run_import

KINDS = {
    "households": _("导入农户与房屋（户主身份证号码为准：新号新增，已有则更新）"),
    "divisions": _("导入行政区划（NBS 12位代码：code,name,level,parent_code）"),
    "problems": _("导入问题清单（P1）：每行开立一件台账，来源为问题清单；系统中没有的农户先新建并标注待核实"),
}
PHASES = {"check": _("校验"), "write": _("写入")}


class Command(AnjuCommand):
    help = _("导入数据文件（.xlsx、.xls、.csv）：households 农户与房屋；divisions 行政区划；problems 问题清单")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        for kind, help_text in KINDS.items():
            parser_ = self.add_subcommand(sub, kind, help=help_text)
            parser_.add_argument("file")
            parser_.add_argument("--dry-run", action="store_true", help=_("只校验，不写入"))
            parser_.add_argument("--skip-invalid", action="store_true", help=_("跳过错误行，写入其余正确的行"))
            parser_.add_argument("--errors", metavar="OUT.xlsx", help=_("把所有错误行写入该 Excel 文件"))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("文件不存在：{path}").format(path=path))
        errors_path = self._errors_path(options.get("errors"))
        quiet = options["verbosity"] == 0
        bars: dict[str, tqdm] = {}

        def progress(phase: str, rows: int) -> None:
            if phase not in bars:
                for bar in bars.values():
                    bar.close()
                bars[phase] = tqdm(
                    desc=PHASES.get(phase, phase), unit=_("行"), file=sys.stderr, disable=quiet, dynamic_ncols=True
                )
            bars[phase].update(rows)

        mode = ImportMode.SKIP_INVALID if options["skip_invalid"] else ImportMode.ALL_OR_NOTHING
        try:
            result = run_import(
                kind=options["kind"],
                path=path,
                actor=self.actor(options),
                dry_run=options["dry_run"],
                mode=mode,
                errors_path=errors_path,
                progress=progress,
            )
        except (DomainError, PermissionDenied) as exc:
            raise CommandError(getattr(exc, "message", None) or str(exc)) from exc
        finally:
            for bar in bars.values():
                bar.close()
        self._report(result, errors_path, quiet)

    def _errors_path(self, value: str | None) -> Path | None:
        if not value:
            return None
        path = Path(value)
        if path.suffix.lower() != ".xlsx":
            raise CommandError(_("错误清单文件应以 .xlsx 结尾"))
        if not path.parent.is_dir():
            raise CommandError(_("输出目录不存在：{path}").format(path=path.parent))
        return path

    def _report(self, result: ImportResult, errors_path: Path | None, quiet: bool) -> None:
        run = result.run
        if result.error_count:
            self.report_errors(result.errors, limit=len(result.errors))
            hidden = result.error_count - len(result.errors)
            if hidden > 0:
                self.stderr.write(_("……另有 {count} 处错误未显示").format(count=hidden))
            if errors_path is not None:
                self.stderr.write(_("全部错误已写入 {path}").format(path=errors_path))
        counts = _("共 {total} 行：新增 {created}，更新 {updated}，未变化 {unchanged}，错误 {invalid}").format(
            total=run.total, created=run.created, updated=run.updated, unchanged=run.unchanged, invalid=run.invalid
        )
        if result.error_count and run.mode == ImportMode.ALL_OR_NOTHING:
            message = _(
                "{counts}。共 {count} 处错误，未写入任何数据（改正后重新导入，或用 --skip-invalid 只写入正确的行）"
            )
            raise CommandError(message.format(counts=counts, count=result.error_count))
        if quiet:
            return
        if run.dry_run:
            verb = _("校验完成（未写入）")
        elif result.error_count:
            verb = _("导入完成（已跳过错误行）")
        else:
            verb = _("导入完成")
        self.stdout.write(self.style.SUCCESS(f"{verb}：{counts}"))
        if result.details.get("alerts_deferred"):
            self.stdout.write(
                _(
                    "本次导入涉及 {count} 户，预警（P7 等）不在导入后立即重算，将在每日定时运行的 anju alerts refresh "
                    "时更新；需要立即更新请运行 anju alerts refresh"
                ).format(count=result.details["alerts_deferred"])
            )
        if run.kind == "problems" and result.written and run.message:
            self.stdout.write(run.message)
