"""What every anju command shares: the acting user (`--as`), one request id per run, error reports."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from anju.core.middleware import new_request_id


class AnjuCommand(BaseCommand):
    """Base of the project's commands: resolves `--as USERNAME` (default: the system actor).

    No system checks before each command: they import every page and API schema (1 s of the start of every
    `anju import` or `anju compare`). They run with `anju check`, before `anju migrate` (so in `make run`) and in
    the test suite (tests/test_system_checks.py).
    """

    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help=_("以该用户身份执行（默认：系统）"))
        return parser

    def add_subcommand(self, subparsers: Any, name: str, **kwargs: Any) -> Any:
        """A subcommand that also takes `--as` after its name (`anju import divisions F --as U`)."""
        parser = subparsers.add_parser(name, **kwargs)
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            default=argparse.SUPPRESS,
            help=_("以该用户身份执行（默认：系统）"),
        )
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        new_request_id()
        return super().execute(*args, **options)

    def actor(self, options: dict[str, Any]) -> Any:
        from anju.accounts.models import User

        username = options.get("as_user")
        if not username:
            return None
        user = User.objects.select_related("division").filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("用户「{username}」不存在或已停用").format(username=username))
        return user

    def report_errors(self, errors: list[Any], limit: int = 200) -> None:
        for error in errors[:limit]:
            self.stderr.write(str(error))
        if len(errors) > limit:
            self.stderr.write(_("……另有 {count} 处错误未显示").format(count=len(errors) - limit))
