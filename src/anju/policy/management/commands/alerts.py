"""`anju alerts refresh [--rule ID] [--date YYYY-MM-DD]`: evaluate the policy rules and record the alerts."""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from anju.accounts.permissions import require_action
from anju.core.commands import AnjuCommand
from anju.policy.rules import Rule, all_rules
from anju.policy.services import alerts_refresh


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("日期格式应为 YYYY-MM-DD：{value}").format(value=value)) from exc


class Command(AnjuCommand):
    help = _("预警：refresh 按政策规则全面刷新预警（新增、更新、消除）")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        refresh = self.add_subcommand(sub, "refresh", help=_("全面刷新预警"))
        refresh.add_argument(
            "--rule",
            action="append",
            dest="rules",
            metavar="ID",
            help=_("只刷新该规则（可多次指定），如 P5.annual_check"),
        )
        refresh.add_argument("--date", help=_("按该日期计算（默认今天），格式 YYYY-MM-DD"))

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        if actor is not None:
            try:
                require_action(actor, "policy.refresh")
            except Exception as exc:
                raise CommandError(_("用户「{username}」无权刷新预警").format(username=actor.username)) from exc
        known = {r.id: r for r in all_rules()}
        wanted = options.get("rules")
        unknown = sorted(set(wanted or []) - set(known))
        if unknown:
            raise CommandError(
                _("未知规则：{unknown}。可用规则：{known}").format(unknown="、".join(unknown), known="、".join(known))
            )
        today = _date(options["date"]) if options.get("date") else None
        quiet = options["verbosity"] == 0
        bars: dict[str, tqdm] = {}

        def progress(rule: Rule, done: int) -> None:
            bar = bars.get(rule.id)
            if bar is None:
                for other in bars.values():
                    other.close()
                bar = bars[rule.id] = tqdm(
                    desc=f"{rule.id} {rule.title}", unit=_("条"), file=sys.stderr, disable=quiet, dynamic_ncols=True
                )
            bar.update(done)

        started = time.monotonic()
        try:
            report = alerts_refresh(today=today, rule_ids=wanted, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        if quiet:
            return
        head = (_("规则"), _("新增"), _("更新"), _("消除"), _("未处理"), _("用时"))
        rows = [head] + [
            (rule_id, f"{r.opened:,}", f"{r.updated:,}", f"{r.resolved:,}", f"{r.open:,}", f"{r.seconds:.1f}s")
            for rule_id, r in report.rules.items()
        ]
        total_open = sum(report.open_by_rule.values())
        elapsed = time.monotonic() - started
        rows.append(
            (
                _("合计"), f"{report.opened:,}", f"{report.updated:,}", f"{report.resolved:,}", f"{total_open:,}",
                f"{elapsed:.1f}s",
            )
        )  # fmt: skip
        widths = [max(_width(row[i]) for row in rows) for i in range(len(head))]
        for row in rows:
            cells = [row[0] + " " * (widths[0] - _width(row[0]))]
            cells += [" " * (widths[i] - _width(row[i])) + row[i] for i in range(1, len(head))]
            self.stdout.write("  ".join(cells))
        self.stdout.write(
            self.style.SUCCESS(
                _("预警已刷新（按 {day} 计算，用时 {elapsed:.1f} 秒）").format(
                    day=report.today.isoformat(), elapsed=elapsed
                )
            )
        )


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))
