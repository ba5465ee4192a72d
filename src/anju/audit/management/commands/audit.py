"""`anju audit verify`: exits non-zero and names the first broken event when the chain was tampered with."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from anju.audit.services import chain_verify
from anju.core.commands import AnjuCommand


class Command(AnjuCommand):
    help = _("审计日志：verify 校验哈希链是否完整")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help=_("校验哈希链"))

    def handle(self, *args, **options):
        problem = chain_verify()
        if problem:
            raise CommandError(_("审计链校验失败：{problem}").format(problem=problem.message))
        self.stdout.write(self.style.SUCCESS(_("审计链完整")))
