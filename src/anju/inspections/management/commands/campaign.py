"""`anju campaign create-annual --year Y --as USER` and `anju campaign progress ID [--division CODE] --as USER`."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from anju.core.commands import AnjuCommand
from anju.core.errors import DomainError
from anju.inspections import selectors
from anju.inspections.services import campaigns as services


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(width - _width(text), 0)
    return space + text if right else text + space


class Command(AnjuCommand):
    help = _("核查批次：create-annual 创建年度核查（3月1日至4月30日，P5）；progress 查看各区划核查进度")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        annual = self.add_subcommand(sub, "create-annual", help=_("创建本人所属区划的年度核查"))
        annual.add_argument("--year", type=int, default=None, help=_("年度（默认今年）"))
        annual.add_argument("--division", default=None, help=_("核查范围的区划代码（默认本人所属区划）"))
        progress = self.add_subcommand(sub, "progress", help=_("各下级区划的核查进度"))
        progress.add_argument("campaign_id", type=int)
        progress.add_argument("--division", default=None, help=_("查看该区划的下级（默认本人可见的最高一级）"))

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        if actor is None:
            raise CommandError(_("请用 --as 指定执行人：核查批次的创建和查看都按其角色和辖区进行"))
        try:
            if options["subcommand"] == "create-annual":
                self.create_annual(actor, options)
            else:
                self.progress(actor, options)
        except DomainError as exc:
            raise CommandError(" ".join([exc.message, *exc.errors.values()])) from exc
        except Http404 as exc:
            raise CommandError(_("核查批次或区划不存在，或不在您的管辖范围内")) from exc

    def create_annual(self, actor: Any, options: dict[str, Any]) -> None:
        try:
            campaign = services.campaign_create_annual(
                actor=actor, year=options["year"], division_code=options["division"]
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("已创建「{name}」（编号 {id}）：{scope}，{start} 至 {end}").format(
                    name=campaign.name,
                    id=campaign.pk,
                    scope=campaign.division.name,
                    start=campaign.starts_on.isoformat(),
                    end=campaign.ends_on.isoformat(),
                )
            )
        )

    def progress(self, actor: Any, options: dict[str, Any]) -> None:
        campaign = selectors.campaign_get(actor=actor, pk=options["campaign_id"])
        division = selectors.progress_division(actor=actor, campaign=campaign, code=options["division"])
        progress = selectors.campaign_progress(actor=actor, campaign=campaign, division=division)
        late_label = _("逾期未核查") if progress["ended"] else _("尚未核查")
        headers = [_("区划"), _("应核查"), _("已核查"), _("覆盖率"), _("疑似危房"), _("需维修"), late_label]

        def cells(name: str, row: Any) -> list[str]:
            coverage = "—" if row.coverage is None else f"{row.coverage}%"
            return [name, str(row.targets), str(row.checked), coverage, str(row.suspected), str(row.needs_repair),
                    str(row.unchecked)]  # fmt: skip

        table = [cells(child.name, row) for child, row in progress["children"]]
        table.append(cells(_("合计（{name}）").format(name=division.name), progress["total"]))
        widths = [max(_width(r[i]) for r in [headers, *table]) for i in range(len(headers))]
        self.stdout.write(
            _("{name}：{start} 至 {end}").format(
                name=campaign.name, start=campaign.starts_on.isoformat(), end=campaign.ends_on.isoformat()
            )
        )
        for row in [headers, *table]:
            self.stdout.write("  ".join(_pad(v, widths[i], right=i > 0) for i, v in enumerate(row)))
