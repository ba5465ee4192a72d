"""Data exchange with other departments (P1, P6): import runs with their history, department comparisons with
their result rows, and the registration tasks a comparison hands to villages.

A run belongs to the division of the person who started it (a county's imports are seen by the county and the
city, not by the neighbouring county).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anju.core.scope import Scoped, division_field
from anju.registry.models import Department, Household


class ImportKind(models.TextChoices):
    HOUSEHOLDS = "households", _("农户")
    PROBLEMS = "problems", _("问题清单")
    DIVISIONS = "divisions", _("行政区划")


class RunStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    REFUSED = "refused", _("有错误，未写入")
    FAILED = "failed", _("失败")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("有错误则全部不写入")
    SKIP_INVALID = "skip_invalid", _("跳过错误行，写入其余")


class ExportKind(models.TextChoices):
    HOUSEHOLDS = "households", _("农户与房屋")
    STATISTICS = "statistics", _("分区划统计表")
    LEDGER = "ledger", _("危房台账")
    RECTIFICATION = "rectification", _("整改情况汇总")
    MONITORING = "monitoring", _("动态监测对象")
    CARDS = "cards", _("明白卡")


class ExportJob(Scoped):
    """One large web export written by a background job (DESIGN: long jobs show progress in the web page): what
    was asked (kind and parameters as the click gave them), how far it is, and the workbook under MEDIA_ROOT (never
    served as a static file; the file is deleted after `export_jobs.KEEP_FOR`). Belongs to its creator's division."""

    kind = models.CharField(_("类型"), max_length=20, choices=ExportKind.choices)
    parameters = models.JSONField(_("条件"), default=dict)
    full_id = models.BooleanField(_("含完整身份证号"), default=False)
    status = models.CharField(_("状态"), max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING)
    rows_done = models.PositiveIntegerField(_("已导出"), default=0)
    rows_total = models.PositiveIntegerField(_("共计"), null=True, blank=True)
    file = models.FileField(_("文件"), upload_to="exports/%Y/%m/", blank=True, max_length=255)
    file_name = models.CharField(_("文件名"), max_length=255)
    message = models.CharField(_("说明"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("导出时间"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="export_job_mine_idx")]

    def __str__(self) -> str:
        return self.file_name


class ImportRun(Scoped):
    """One import of one file: who, when, which file (name, size, SHA-256), how, and what it did."""

    kind = models.CharField(_("类型"), max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_size = models.BigIntegerField(_("文件大小"), default=0)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    dry_run = models.BooleanField(_("仅校验"), default=False)
    mode = models.CharField(_("方式"), max_length=20, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    status = models.CharField(_("状态"), max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING)
    total = models.PositiveIntegerField(_("数据行"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变化"), default=0)
    invalid = models.PositiveIntegerField(_("错误行"), default=0)
    progress_done = models.PositiveIntegerField(_("已处理"), default=0)
    message = models.CharField(_("说明"), max_length=1000, blank=True)
    errors_file = models.FileField(_("错误清单"), upload_to="import-errors/%Y/%m/", blank=True)
    upload = models.FileField(_("上传的文件"), upload_to="imports/%Y/%m/", blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入记录")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["division", "-started_at"], name="import_run_scope_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


class ComparisonSet(models.TextChoices):
    """The five result sets of a department comparison (DESIGN.md "Department lists"), and the near-miss IDs."""

    NOT_IN_REGISTRY = "not_in_registry", _("名单有、系统无")
    CATEGORY_MISSING = "category_missing", _("两边都有、系统缺少该类型")
    NO_LONGER_LISTED = "no_longer_listed", _("系统有该类型、名单已无")
    NAME_DIFFERS = "name_differs", _("身份证号相同、姓名不同")
    HOUSE_UNSAFE = "house_unsafe", _("名单内、房屋为C/D级或未鉴定")
    LIKELY_TYPO = "likely_typo", _("疑似身份证号录入错误")


class Comparison(Scoped):
    """One department list compared with the registry (P6): the file, the counts per set, the workbook."""

    source = models.CharField(_("来源部门"), max_length=30, choices=Department.choices)
    source_label = models.CharField(_("来源说明"), max_length=50, blank=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64)
    total = models.PositiveIntegerField(_("名单人数"), default=0)
    counts = models.JSONField(_("各类结果数"), default=dict)
    status = models.CharField(_("状态"), max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING)
    message = models.CharField(_("说明"), max_length=1000, blank=True)
    report_file = models.FileField(_("比对结果"), upload_to="comparisons/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("比对时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("部门数据比对")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name}"


class ComparisonItem(Scoped):
    """One finding of a comparison, kept so that it can be applied (with an audit event) after review."""

    # Indexed only through comparison_item_idx (every query starts from the comparison): each index costs a
    # million-row comparison time in writing (docs/BENCHMARKS.md); the app never deletes a household or a
    # division, so the scan Django's on_delete would make then is left to that rare admin act. No foreign key
    # constraints either: the comparison writes these rows from keys it has just read in the same transaction,
    # and checking 200,000 findings three times over cost it a second on SQLite and three at PostgreSQL's
    # commit. Deletes still cascade / set null / protect through Django's on_delete.
    comparison = models.ForeignKey(
        Comparison, on_delete=models.CASCADE, related_name="items", db_index=False, db_constraint=False
    )
    division = division_field(db_index=False, db_constraint=False)
    result = models.CharField(_("结果"), max_length=30, choices=ComparisonSet.choices)
    row = models.PositiveIntegerField(_("名单行号"), null=True, blank=True)
    name = models.CharField(_("名单姓名"), max_length=64, blank=True)
    id_masked = models.CharField(_("身份证号码"), max_length=18, blank=True)
    id_hash = models.CharField(max_length=64, blank=True)
    id_cipher = models.CharField(max_length=120, blank=True)
    category_code = models.CharField(_("类别"), max_length=40, blank=True)
    certified_on = models.DateField(_("认定日期"), null=True, blank=True)
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comparison_items",
        db_index=False,
        db_constraint=False,
    )
    detail = models.CharField(_("说明"), max_length=500, blank=True)
    applied_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("比对结果")
        ordering = ["comparison_id", "result", "id"]
        indexes = [models.Index(fields=["comparison", "result", "division"], name="comparison_item_idx")]

    def __str__(self) -> str:
        return f"{self.get_result_display()} {self.name}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    DONE = "done", _("已登记")
    DISMISSED = "dismissed", _("已核实无需登记")


class RegistrationTask(Scoped):
    """A person on a department's list who is not in the registry: the village checks and registers them (P6)."""

    name = models.CharField(_("姓名"), max_length=64)
    id_masked = models.CharField(_("身份证号码"), max_length=18)
    id_hash = models.CharField(max_length=64, db_index=True)
    id_cipher = models.CharField(max_length=120)
    category_code = models.CharField(_("类别"), max_length=40, blank=True)
    source = models.CharField(_("来源部门"), max_length=30, choices=Department.choices)
    comparison = models.ForeignKey(Comparison, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    status = models.CharField(_("状态"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    note = models.CharField(_("处理说明"), max_length=500, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("待登记农户")
        ordering = ["status", "-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_hash"],
                condition=Q(status="open"),
                name="registration_task_one_open_per_person",
                violation_error_message=_("此人已有待处理的登记任务"),
            )
        ]
        indexes = [models.Index(fields=["division", "status"], name="registration_task_scope_idx")]

    def __str__(self) -> str:
        return self.name
