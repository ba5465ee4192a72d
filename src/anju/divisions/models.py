"""The division tree, keyed by the 12-digit NBS statistical code (统计用区划代码)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import ScopedQuerySet, code_prefix


class Level(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（市、区）")
    TOWN = "town", _("乡镇（街道）")
    VILLAGE = "village", _("行政村（社区）")


LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWN, Level.VILLAGE]


class Division(models.Model):
    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        to_field="code",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级"),
    )
    is_sample = models.BooleanField(_("示例数据"), default=False, help_text=_("演示用的虚构村，正式数据导入前可删除"))

    scope_field: ClassVar[str] = "code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{12}$"), name="division_code_12_digits"),
            models.CheckConstraint(condition=models.Q(level__in=[lv.value for lv in Level]), name="division_level"),
        ]
        indexes = [models.Index(fields=["parent", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return code_prefix(self.code, self.level)

    @property
    def display_name(self) -> str:
        return gettext("{name}（示例）").format(name=self.name) if self.is_sample else self.name
