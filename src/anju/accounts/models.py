"""Users hold one division (their scope) and one or more roles."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import code_prefix

from .permissions import Role


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    division = models.ForeignKey(
        "divisions.Division",
        to_field="code",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("所属行政区划"),
    )
    roles = models.JSONField(_("角色"), default=list, blank=True)

    class Meta:
        verbose_name = _("用户")

    def get_full_name(self) -> str:
        return self.full_name or self.username

    @property
    def scope_prefix(self) -> str:
        """The code prefix of the user's subtree; empty string never matches (fail closed)."""
        if not self.division_id:
            return "~"
        return code_prefix(self.division_id, self.division.level)

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.roles if r in Role.values]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak does not leak tokens."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")

    def __str__(self) -> str:
        return gettext("{user} 的令牌（{date}）").format(user=self.user, date=f"{self.created_at:%Y-%m-%d}")

    @staticmethod
    def digest(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
