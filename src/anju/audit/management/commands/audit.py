"""`anju audit verify`: exits non-zero and names the first broken event when the chain was tampered with."""

from django.core.management.base import CommandError

from anju.audit.services import chain_verify
from anju.core.commands import AnjuCommand


class Command(AnjuCommand):
    help = "审计日志：verify 校验哈希链是否完整"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="校验哈希链")

    def handle(self, *args, **options):
        problem = chain_verify()
        if problem:
            raise CommandError(f"审计链校验失败：{problem.message}")
        self.stdout.write(self.style.SUCCESS("审计链完整"))
