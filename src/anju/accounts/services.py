"""Writes on accounts: users and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core.errors import AuthenticationFailed, DomainError

from .models import ApiToken, User
from .permissions import Role, require_action


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    division_code: str,
    roles: list[str],
    full_name: str = "",
) -> User:
    """Create a user with one division and its roles (actor None = installation / demo)."""
    if actor is not None:
        require_action(actor, "accounts.manage")
    unknown = [r for r in roles if r not in Role.values]
    if unknown or not roles:
        raise DomainError(
            _("角色无效"), errors={"roles": _("未知角色：{roles}").format(roles="、".join(unknown) or _("（空）"))}
        )
    if User.objects.filter(username=username).exists():
        raise DomainError(
            _("用户名已存在"), errors={"username": _("用户名「{username}」已存在").format(username=username)}
        )
    user = User(username=username, full_name=full_name, division_id=division_code, roles=list(roles))
    user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise DomainError(_("用户信息有误"), errors={k: v[0] for k, v in exc.message_dict.items()}) from exc
    user.save()
    event_record(
        actor=actor,
        action=Action.USER_CREATED,
        obj=user,
        division_code=division_code,
        after={"username": username, "roles": roles, "division": division_code},
    )
    return user


@transaction.atomic
def token_issue(*, user: User) -> str:
    """A new bearer token for `user`; the raw value is returned once and never stored."""
    raw = "anju_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.digest(raw),
        expires_at=timezone.now() + timedelta(days=settings.ANJU_API_TOKEN_DAYS),
    )
    event_record(actor=user, action=Action.TOKEN_ISSUED, obj=user, division_code=user.division_id or "")
    return raw


def token_for_credentials(*, request: HttpRequest, username: str, password: str) -> str:
    """Password → token, through the same authentication (and lockout) as the login page."""
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        raise AuthenticationFailed(_("用户名或密码错误"), errors={"password": _("用户名或密码错误")})
    return token_issue(user=user)


def token_user(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user__division")
        .filter(key_hash=ApiToken.digest(raw), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
