"""`anju training add USERNAME --year Y`: record that a person was trained (P17) — one step into the training
ledger; `anju training ledger --year Y --output F.xlsx`: export the ledger."""

from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.core.commands import AnjuCommand
from anju.core.errors import DomainError
from anju.training.exports import ledger_export
from anju.training.selectors import LedgerFilters
from anju.training.services import training_record


class Command(AnjuCommand):
    help = _("培训台账（P17：未经年度培训的人员不得参与核查、鉴定和改造）")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        add = self.add_subcommand(sub, "add", help=_("登记某人某年度已参加培训（记入培训台账）"))
        add.add_argument("username")
        add.add_argument("--year", type=int, default=None, help=_("培训年度（默认今年）"))
        add.add_argument("--topic", default="", help=_("培训内容"))
        add.add_argument("--date", default=None, help=_("培训日期 YYYY-MM-DD"))
        ledger = self.add_subcommand(sub, "ledger", help=_("导出培训台账（xlsx）"))
        ledger.add_argument("--year", type=int, default=None, help=_("年度（默认今年）"))
        ledger.add_argument("--division", default="", help=_("区划代码（默认执行用户的辖区）"))
        ledger.add_argument("--output", required=True, help=_("输出文件 .xlsx"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "ledger":
            self._ledger(options)
            return
        person = User.objects.filter(username=options["username"]).first()
        if person is None:
            raise CommandError(_("用户「{name}」不存在").format(name=options["username"]))
        trained_on = parse_date(options["date"]) if options["date"] else None
        if options["date"] and trained_on is None:
            raise CommandError(_("培训日期格式应为 YYYY-MM-DD"))
        year = options["year"] or (trained_on.year if trained_on else timezone.localdate().year)
        try:
            training_record(
                actor=self.actor(options), user=person, year=year, topic=options["topic"], trained_on=trained_on
            )
        except DomainError as exc:
            raise CommandError(" ".join([exc.message, *exc.errors.values()])) from exc
        self.stdout.write(
            self.style.SUCCESS(_("已登记：{name} {year}年度培训").format(name=person.get_full_name(), year=year))
        )

    def _ledger(self, options: dict[str, Any]) -> None:
        actor = self.actor(options)
        if actor is None:
            raise CommandError(_("导出培训台账须用 --as 指定用户（按其辖区导出）"))
        filters = LedgerFilters(year=options["year"] or timezone.localdate().year, division=options["division"])
        rows = ledger_export(actor=actor, filters=filters, output=options["output"])
        self.stdout.write(self.style.SUCCESS(_("已导出 {rows} 人：{path}").format(rows=rows, path=options["output"])))
