"""`anju appraisal …`: suspected dangers and appraisals from the command line, through the same services (P8, P17).

anju appraisal requests [--status pending|open|assigned|done|cancelled] [--overdue] [--division CODE] --as U
anju appraisal report HOUSE_ID "疑似危险情况" [--date YYYY-MM-DD] --as U
anju appraisal assign REQUEST_ID APPRAISER [--date YYYY-MM-DD] --as U
anju appraisal record HOUSE_ID --component cave_arch=c … --prevention full|partial|none [--site-dangerous]
    [--final-grade C --reason …] [--request ID] [--date YYYY-MM-DD] [--conclusion …] --as U
anju appraisal pdf APPRAISAL_ID --output FILE --as U
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.core.commands import AnjuCommand
from anju.core.errors import DomainError
from anju.inspections import selectors_appraisals as selectors
from anju.inspections.filters_appraisals import RequestFilterForm
from anju.inspections.models import AppraisalRequest
from anju.inspections.reports import appraisal_report_pdf
from anju.inspections.services import appraisals as services
from anju.registry.models import House


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise CommandError(_("日期格式应为 YYYY-MM-DD：{value}").format(value=value))
    return parsed


class Command(AnjuCommand):
    help = _("疑似危房与鉴定：requests 列表；report 上报；assign 指派；record 录入鉴定；pdf 导出鉴定报告")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        listing = self.add_subcommand(sub, "requests", help=_("鉴定申请列表（按鉴定期限排序）"))
        listing.add_argument("--status", default="", help=_("pending（未完成）、open、assigned、done、cancelled"))
        listing.add_argument("--overdue", action="store_true", help=_("只列超期未鉴定的"))
        listing.add_argument("--division", default="", help=_("区划代码"))
        report = self.add_subcommand(sub, "report", help=_("上报疑似危房（P8）"))
        report.add_argument("house_id", type=int)
        report.add_argument("description")
        report.add_argument("--date", default=None, help=_("上报日期（默认今天）"))
        assign = self.add_subcommand(sub, "assign", help=_("指派鉴定人员（须经本年度培训，P17）"))
        assign.add_argument("request_id", type=int)
        assign.add_argument("appraiser", help=_("鉴定人员的用户名"))
        assign.add_argument("--date", default=None, help=_("指派日期（默认今天）"))
        record = self.add_subcommand(sub, "record", help=_("录入鉴定结果"))
        record.add_argument("house_id", type=int)
        record.add_argument(
            "--component", action="append", default=[], metavar="CODE=GRADE", help=_("构件等级，如 cave_arch=c")
        )
        record.add_argument("--prevention", required=True, choices=["full", "partial", "none"], help=_("防灾措施"))
        record.add_argument("--site-dangerous", action="store_true", help=_("场地危险"))
        record.add_argument("--final-grade", default=None, help=_("与计算等级不同时须给出 --reason"))
        record.add_argument("--reason", default="", help=_("调整等级理由"))
        record.add_argument("--request", type=int, default=None, help=_("所答复的鉴定申请编号"))
        record.add_argument("--date", default=None, help=_("鉴定日期（默认今天）"))
        record.add_argument("--conclusion", default="", help=_("鉴定结论及处理建议"))
        pdf = self.add_subcommand(sub, "pdf", help=_("导出鉴定报告 PDF"))
        pdf.add_argument("appraisal_id", type=int)
        pdf.add_argument("--output", "-o", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        if actor is None:
            raise CommandError(_("请用 --as 指定执行人：鉴定申请和鉴定都按其角色和辖区进行"))
        try:
            getattr(self, options["subcommand"])(actor, options)
        except DomainError as exc:
            raise CommandError(" ".join([exc.message, *exc.errors.values()])) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc) or _("您的角色无权执行此操作")) from exc
        except Http404 as exc:
            raise CommandError(_("对象不存在，或不在您的管辖范围内")) from exc

    def requests(self, actor: Any, options: dict[str, Any]) -> None:
        form = RequestFilterForm(
            data={
                "status": options["status"],
                "overdue": "1" if options["overdue"] else "",
                "division": options["division"],
            }
        )
        if not form.is_valid():
            raise CommandError(" ".join(" ".join(v) for v in form.errors.values()))
        today = dt.date.today()
        rows = selectors.request_list(actor=actor, filters=form.cleaned_data, today=today)
        for r in rows:
            late = (today - r.due_on).days
            state = _("超期{days}天").format(days=late) if late > 0 and r.status in ("open", "assigned") else ""
            self.stdout.write(
                "\t".join(
                    [
                        str(r.pk),
                        r.division.name,
                        r.house.household.head_name,
                        r.get_status_display(),
                        r.due_on.isoformat(),
                        r.appraiser.get_full_name() if r.appraiser else "—",
                        state,
                    ]
                )
            )
        counts = selectors.request_counts(actor=actor, filters=form.cleaned_data, today=today)
        self.stdout.write(
            _("未完成 {pending}，其中超期 {overdue}；合计 {total}").format(
                pending=counts["pending"], overdue=counts["overdue"], total=counts["total"]
            )
        )

    def report(self, actor: Any, options: dict[str, Any]) -> None:
        house = get_object_or_404(House.objects.visible_to(actor), pk=options["house_id"])
        req = services.request_open(
            actor=actor, house=house, description=options["description"], reported_on=_date(options["date"])
        )
        self.stdout.write(
            self.style.SUCCESS(_("已上报（编号 {id}），鉴定期限 {due}").format(id=req.pk, due=req.due_on.isoformat()))
        )

    def assign(self, actor: Any, options: dict[str, Any]) -> None:
        req = get_object_or_404(AppraisalRequest.objects.visible_to(actor), pk=options["request_id"])
        appraiser = User.objects.select_related("division").filter(username=options["appraiser"]).first()
        if appraiser is None:
            raise CommandError(_("用户「{name}」不存在").format(name=options["appraiser"]))
        services.request_assign(actor=actor, request=req, appraiser=appraiser, assigned_on=_date(options["date"]))
        self.stdout.write(self.style.SUCCESS(_("已指派 {name}").format(name=appraiser.get_full_name())))

    def record(self, actor: Any, options: dict[str, Any]) -> None:
        house = get_object_or_404(House.objects.visible_to(actor), pk=options["house_id"])
        components = {}
        for item in options["component"]:
            code, sep, grade = item.partition("=")
            if not sep:
                raise CommandError(_("构件应写作 代码=等级，如 cave_arch=c：{item}").format(item=item))
            components[code.strip()] = grade.strip()
        req = None
        if options["request"]:
            req = get_object_or_404(AppraisalRequest.objects.visible_to(actor), pk=options["request"])
        appraisal = services.appraisal_record(
            actor=actor,
            house=house,
            request=req,
            appraised_on=_date(options["date"]) or dt.date.today(),
            site_dangerous=options["site_dangerous"],
            disaster_prevention=options["prevention"],
            components=components,
            final_grade=options["final_grade"],
            override_reason=options["reason"],
            conclusion=options["conclusion"],
        )
        flag = _("（调整等级，待复核）") if appraisal.flagged_for_review else ""
        self.stdout.write(
            self.style.SUCCESS(
                _("已录入鉴定（编号 {id}）：计算等级 {computed}，鉴定等级 {final}{flag}").format(
                    id=appraisal.pk, computed=appraisal.computed_grade, final=appraisal.final_grade, flag=flag
                )
            )
        )

    def pdf(self, actor: Any, options: dict[str, Any]) -> None:
        appraisal = selectors.appraisal_get(actor=actor, pk=options["appraisal_id"])
        path = Path(options["output"])
        path.write_bytes(appraisal_report_pdf(appraisal))
        self.stdout.write(self.style.SUCCESS(_("已导出鉴定报告：{path}").format(path=path)))
