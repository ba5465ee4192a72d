"""`anju demo`: the deterministic demo data set (sample villages, demo users, synthetic households)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from anju.cases.models import CaseState
from anju.core.commands import AnjuCommand
from anju.core.errors import DomainError
from anju.demo.services import DEFAULT_CHUNK, DEFAULT_HOUSEHOLDS, DEFAULT_SEED, demo_households_count, demo_run


class Command(AnjuCommand):
    help = _("生成演示数据：示例行政村、各角色演示用户和虚构农户房屋（同一种子生成的数据完全相同，均标记为示例）")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households",
            type=int,
            default=DEFAULT_HOUSEHOLDS,
            help=_("农户数（默认 {default}）").format(default=DEFAULT_HOUSEHOLDS),
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=_("随机种子（默认 {default}）").format(default=DEFAULT_SEED)
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=_("已有演示农户时不再生成（仍确保区划和演示用户存在），供 make run 反复执行"),
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK,
            help=_("每批写入的农户数（默认 {default}）").format(default=DEFAULT_CHUNK),
        )

    def handle(self, *args: Any, households: int, seed: int, if_empty: bool, chunk_size: int, **options: Any) -> None:
        if households < 0:
            raise CommandError(_("农户数不能为负数"))
        if chunk_size < 1:
            raise CommandError(_("每批写入的农户数至少为 1"))
        quiet = options["verbosity"] == 0
        will_load = not demo_households_count() and households > 0
        bar = tqdm(
            total=households,
            unit=_("户"),
            desc=_("生成演示农户"),
            file=sys.stderr,
            disable=quiet or not will_load,
            dynamic_ncols=True,
        )
        started = time.monotonic()
        try:
            report = demo_run(
                households=households, seed=seed, if_empty=if_empty, chunk_size=chunk_size, progress=bar.update
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        elapsed = time.monotonic() - started
        if quiet:
            return

        if report.villages_created:
            self.stdout.write(_("新增示例行政村 {count} 个").format(count=report.villages_created))
        if report.skipped:
            self.stdout.write(_("已有演示农户 {count} 户，未重复生成（--if-empty）").format(count=report.existing))
        elif report.households:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "已生成演示农户 {households} 户、房屋 {houses} 栋、"
                        "等级记录 {grade_records} 条、重点对象认定 {categories} 条"
                        "（种子 {seed}，用时 {elapsed:.1f} 秒）"
                    ).format(
                        households=report.households,
                        houses=report.houses,
                        grade_records=report.grade_records,
                        categories=report.categories,
                        seed=seed,
                        elapsed=elapsed,
                    )
                )
            )
            self.stdout.write(_("数据摘要 SHA-256：{digest}").format(digest=report.digest))
            self._print_loop(report)
        self._print_users(report.users)

    def _print_loop(self, report: Any) -> None:
        if report.campaign:
            verdicts = report.verdicts
            self.stdout.write(
                _(
                    "核查批次「{campaign}」：核查记录 {checks} 条"
                    "（未发现隐患 {ok}、需维修 {repair}、疑似危房 {suspected}），"
                    "房屋核查情况 {findings} 条"
                ).format(
                    campaign=report.campaign,
                    checks=report.checks,
                    ok=verdicts.get("no_danger", 0),
                    repair=verdicts.get("needs_repair", 0),
                    suspected=verdicts.get("suspected", 0),
                    findings=report.findings,
                )
            )
        if report.requests:
            r = report.requests
            self.stdout.write(
                _(
                    "鉴定申请：待指派 {open} 件、已指派 {assigned} 件、已鉴定 {done} 件；鉴定记录 {appraisals} 份"
                ).format(
                    open=r.get("open", 0),
                    assigned=r.get("assigned", 0),
                    done=r.get("done", 0),
                    appraisals=r.get("appraisals", 0),
                )
            )
        if report.cases:
            labels = dict(CaseState.choices)
            self.stdout.write(
                _("台账 {total} 件（{parts}）：逾期未完成 {late} 件，30天内到期 {soon} 件").format(
                    total=sum(report.cases.values()),
                    parts="、".join(f"{labels[state]} {count}" for state, count in report.cases.items()),
                    late=report.cases_late,
                    soon=report.cases_due_soon,
                )
            )
        if report.alerts:
            parts = "、".join(f"{rule} {count}" for rule, count in report.alerts.items())
            self.stdout.write(
                _("预警已刷新：未处理预警 {total} 条（{parts}）").format(total=sum(report.alerts.values()), parts=parts)
            )

    def _print_users(self, users: list) -> None:
        rows = [(_("用户名"), _("角色"), _("所属区划"), "")]
        for user, created in users:
            division = user.division
            path = []
            while division is not None and division.level != "city":
                path.append(division.name)
                division = division.parent
            if division is not None:
                path.append(division.name)
            rows.append(
                (user.username, "、".join(user.role_labels), " ".join(reversed(path)), _("（新建）") if created else "")
            )
        widths = [max(_width(r[i]) for r in rows) for i in range(3)]
        self.stdout.write("")
        self.stdout.write(_("演示用户："))
        for row in rows:
            cells = [row[i] + " " * (widths[i] - _width(row[i])) for i in range(3)]
            self.stdout.write(("  " + "  ".join(cells) + "  " + row[3]).rstrip())
        self.stdout.write(_("演示密码：{password}").format(password=settings.ANJU_DEMO_PASSWORD))


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
