"""`anju training add USERNAME --year Y`: record a person's yearly training (P17) until the training ledger lands."""

from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.services import training_record
from anju.core.commands import AnjuCommand
from anju.core.errors import DomainError


class Command(AnjuCommand):
    help = _("培训记录（P17：未经年度培训的人员不得参与核查和鉴定）")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        add = self.add_subcommand(sub, "add", help=_("登记某人某年度已参加培训"))
        add.add_argument("username")
        add.add_argument("--year", type=int, default=None, help=_("培训年度（默认今年）"))
        add.add_argument("--topic", default="", help=_("培训内容"))
        add.add_argument("--date", default=None, help=_("培训日期 YYYY-MM-DD"))

    def handle(self, *args: Any, **options: Any) -> None:
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
