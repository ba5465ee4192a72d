"""Households, their target categories and members; houses and their grade history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped


class SecurityMethod(models.TextChoices):
    OWN = "own", _("自有住房")
    RELATIVES = "relatives", _("投亲靠友")
    RENTED = "rented", _("租住借住")
    PUBLIC_RENTAL = "public_rental", _("集体公租房")
    OTHER = "other", _("其他")


class Structure(models.TextChoices):
    BRICK_CONCRETE = "brick_concrete", _("砖混")
    BRICK_WOOD = "brick_wood", _("砖木")
    EARTH_WOOD = "earth_wood", _("土木")
    RAW_EARTH = "raw_earth", _("生土")
    STONE = "stone", _("石砌")
    TIMBER = "timber", _("木结构")
    EARTH_CAVE = "earth_cave", _("土窑洞")
    STONE_CAVE = "stone_cave", _("石窑洞")
    BRICK_CAVE = "brick_cave", _("砖窑洞")
    FRAME = "frame", _("框架")
    OTHER = "other", _("其他")


CAVE_STRUCTURES = (Structure.EARTH_CAVE, Structure.STONE_CAVE, Structure.BRICK_CAVE)
EARTH_STRUCTURES = (Structure.EARTH_WOOD, Structure.RAW_EARTH, *CAVE_STRUCTURES)


class Grade(models.TextChoices):
    """Safety grades of 《农村住房安全性鉴定技术导则》; C and D are dangerous houses (危房)."""

    A = "A", _("A级")
    B = "B", _("B级")
    C = "C", _("C级")
    D = "D", _("D级")
    UNRATED = "U", _("未鉴定")


DANGEROUS_GRADES = (Grade.C, Grade.D)


class GradeSource(models.TextChoices):
    APPRAISAL = "appraisal", _("鉴定")
    IMPORT = "import", _("导入")
    MANUAL = "manual", _("手工录入")
    DEMO = "demo", _("演示数据")
    ACCEPTANCE = "acceptance", _("竣工验收")


class Department(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", _("民政部门")
    RURAL_REVITALISATION = "rural_revitalisation", _("乡村振兴部门")
    OTHER = "other", _("其他部门")


class TargetCategory(models.Model):
    """Reference data: the key target groups and who certifies them (editable as policy changes)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80, unique=True)
    short_names = models.JSONField(_("常用简称"), default=list, blank=True)
    department = models.CharField(_("认定部门"), max_length=30, choices=Department.choices)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("重点对象类型")

    def __str__(self) -> str:
        return self.name


class Household(Scoped):
    """A rural household, keyed by its head's ID number (one head ID = one household)."""

    head_name = models.CharField(_("户主姓名"), max_length=64)
    id_cipher = models.CharField(_("身份证号码（密文）"), max_length=120)
    id_hash = models.CharField(_("身份证号码（keyed hash）"), max_length=64, unique=True)
    id_masked = models.CharField(_("身份证号码"), max_length=18)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    size = models.PositiveSmallIntegerField(
        _("家庭人口"),
        validators=[
            MinValueValidator(1, _("家庭人口应在1到30之间")),
            MaxValueValidator(30, _("家庭人口应在1到30之间")),
        ],
    )
    group_name = models.CharField(_("村民小组"), max_length=32, blank=True)
    security_method = models.CharField(
        _("住房保障方式"), max_length=20, choices=SecurityMethod.choices, default=SecurityMethod.OWN
    )
    note = models.CharField(_("备注"), max_length=500, blank=True)
    #: Registered from another department's list (a P1 problem list) and not yet checked at the household:
    #: the village verifies it and clears the flag when it saves the household.
    to_verify = models.BooleanField(_("待核实"), default=False)
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("农户")
        ordering = ["division_id", "id"]
        indexes = [
            models.Index(fields=["division", "id"], name="household_scope_idx"),
            models.Index(fields=["head_name"], name="household_name_idx"),
            models.Index(fields=["division", "id"], condition=Q(to_verify=True), name="household_to_verify_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gte=1, size__lte=30),
                name="household_size_1_30",
                violation_error_message=_("家庭人口应在1到30之间"),
            ),
            models.CheckConstraint(
                condition=Q(security_method__in=SecurityMethod.values),
                name="household_security_method",
                violation_error_message=_("住房保障方式无效"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.head_name}（{self.id_masked}）"


class HouseholdCategory(Scoped):
    """A household's membership of a target category, certified on a date, possibly ended."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="categories")
    category = models.ForeignKey(TargetCategory, on_delete=models.PROTECT, related_name="+")
    certified_on = models.DateField(_("认定日期"), null=True, blank=True)
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("重点对象认定")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "category"],
                condition=Q(ended_on__isnull=True),
                name="household_category_one_active",
                violation_error_message=_("该农户已有同一类型的有效认定"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(certified_on__isnull=True)
                | Q(ended_on__gte=models.F("certified_on")),
                name="household_category_end_after_start",
                violation_error_message=_("终止日期不能早于认定日期"),
            ),
        ]
        indexes = [models.Index(fields=["category", "ended_on", "household"], name="hhcat_active_idx")]

    def __str__(self) -> str:
        return self.category.name


class Member(Scoped):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=64)
    relation = models.CharField(_("与户主关系"), max_length=16)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)

    class Meta:
        verbose_name = _("家庭成员")

    def __str__(self) -> str:
        return self.name


class House(Scoped):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="houses")
    structure = models.CharField(_("房屋结构"), max_length=20, choices=Structure.choices)
    build_year = models.PositiveSmallIntegerField(_("建造年份"), null=True, blank=True)
    storeys = models.PositiveSmallIntegerField(
        _("层数"),
        default=1,
        validators=[MinValueValidator(1, _("层数应在1到10之间")), MaxValueValidator(10, _("层数应在1到10之间"))],
    )
    floor_area = models.DecimalField(
        _("建筑面积（㎡）"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"), _("建筑面积必须大于0"))],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(73, _("经度应在73到136之间")), MaxValueValidator(136, _("经度应在73到136之间"))],
    )
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=8,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(3, _("纬度应在3到54之间")), MaxValueValidator(54, _("纬度应在3到54之间"))],
    )
    is_idle = models.BooleanField(_("是否闲置"), default=False)
    grade = models.CharField(_("安全等级"), max_length=1, choices=Grade.choices, default=Grade.UNRATED)
    graded_on = models.DateField(_("鉴定日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    is_sample = models.BooleanField(_("示例数据"), default=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("房屋")
        ordering = ["division_id", "id"]
        indexes = [
            models.Index(fields=["division", "grade"], name="house_scope_grade_idx"),
            models.Index(fields=["grade", "structure"], name="house_grade_structure_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__in=Grade.values),
                name="house_grade_valid",
                violation_error_message=_("安全等级应为A、B、C、D或未鉴定"),
            ),
            models.CheckConstraint(
                condition=Q(structure__in=Structure.values),
                name="house_structure_valid",
                violation_error_message=_("房屋结构无效"),
            ),
            models.CheckConstraint(
                condition=Q(floor_area__isnull=True) | Q(floor_area__gt=0),
                name="house_area_positive",
                violation_error_message=_("建筑面积必须大于0"),
            ),
            models.CheckConstraint(
                condition=Q(storeys__gte=1, storeys__lte=10),
                name="house_storeys_1_10",
                violation_error_message=_("层数应在1到10之间"),
            ),
            models.CheckConstraint(
                condition=Q(grade=Grade.UNRATED) | Q(graded_on__isnull=False),
                name="house_graded_has_date",
                violation_error_message=_("已鉴定的房屋必须填写鉴定日期"),
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=73, longitude__lte=136),
                name="house_longitude_in_china",
                violation_error_message=_("经度应在73到136之间"),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=3, latitude__lte=54),
                name="house_latitude_in_china",
                violation_error_message=_("纬度应在3到54之间"),
            ),
        ]

    def __str__(self) -> str:
        return gettext("{structure}房屋 #{id}").format(structure=self.get_structure_display(), id=self.pk)

    @property
    def is_dangerous(self) -> bool:
        return self.grade in DANGEROUS_GRADES


class GradeRecord(Scoped):
    """One entry of a house's grade history; the house's current grade is the latest by date."""

    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="grade_history")
    grade = models.CharField(_("安全等级"), max_length=1, choices=Grade.choices)
    graded_on = models.DateField(_("鉴定日期"))
    source = models.CharField(_("来源"), max_length=20, choices=GradeSource.choices)
    appraiser = models.CharField(_("鉴定人"), max_length=64, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("等级记录")
        ordering = ["house_id", "-graded_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__in=Grade.values),
                name="grade_record_valid",
                violation_error_message=_("安全等级应为A、B、C、D或未鉴定"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.grade} {self.graded_on}"
