"""`anju token USERNAME`: print a new API bearer token for a user."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.services import token_issue
from anju.core.commands import AnjuCommand


class Command(AnjuCommand):
    help = _("为用户签发接口令牌（Bearer token）")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("用户「{username}」不存在或已停用").format(username=username))
        self.stdout.write(token_issue(user=user))
