"""Alert and monitoring-list endpoints: thin — parse, call a selector, return."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError

from . import selectors
from .filters import AlertFilterForm, MonitoringFilterForm
from .rules.monitoring import REASONS
from .schemas import AlertOut, MonitoringOut

alerts_router = Router(tags=[_("预警")])
monitoring_router = Router(tags=[_("动态监测对象")])


class AlertFilters(Schema):
    division: str | None = None
    rule: str | None = None
    severity: str | None = None
    status: str | None = None
    responsible: str | None = None
    due: str | None = None


class MonitoringFilters(Schema):
    division: str | None = None
    reason: str | None = None


def _cleaned(form_class: type, filters: Schema) -> dict[str, Any]:
    form = form_class(data={k: v for k, v in filters.dict().items() if v is not None})
    if not form.is_valid():
        raise DomainError(gettext("筛选条件有误"), errors={k: " ".join(v) for k, v in form.errors.items()})
    return form.cleaned_data


@alerts_router.get(
    "",
    response=list[AlertOut],
    url_name="alerts_list",
    description=_(
        "预警列表（默认只列未处理的）。筛选：division 区划代码、rule 规则编号、severity 级别、"
        "status open/resolved/all、responsible 用户编号或 me/none、due overdue（已超期）或天数（N天内到期）。"
    ),
)
@paginate(PageNumberPagination)
def alerts_list(request: HttpRequest, filters: Query[AlertFilters]):
    require_action(request.user, "policy.view")
    return selectors.alert_list(actor=request.user, filters=_cleaned(AlertFilterForm, filters))


@alerts_router.get("/{int:pk}", response=AlertOut, url_name="alerts_detail")
def alerts_detail(request: HttpRequest, pk: int):
    require_action(request.user, "policy.view")
    return selectors.alert_get(actor=request.user, pk=pk)


def _monitoring_item(household) -> dict[str, Any]:
    reasons = selectors.monitoring_reasons(household)
    town = household.division.parent
    return {
        "id": household.pk,
        "head_name": household.head_name,
        "id_number": household.id_masked,
        "division_code": household.division_id,
        "village": household.division.name,
        "town": town.name if town else None,
        "county": town.parent.name if town and town.parent else None,
        "categories": [c.category.name for c in household.active_categories],
        "houses": household.house_list,
        "reasons": [
            {"reason": a.reason, "label": str(REASONS.get(a.reason, a.reason)), "message": a.message} for a in reasons
        ],
        "responsible_name": next((a.responsible_name for a in reasons if a.responsible_name), ""),
    }


class _MonitoringPage(PageNumberPagination):
    """Pages of households, each turned into its list entry (reasons in priority order)."""

    def paginate_queryset(self, queryset, pagination, request=None, **params):
        page = super().paginate_queryset(queryset, pagination, request=request, **params)
        page["items"] = [_monitoring_item(h) for h in page["items"]]
        return page


@monitoring_router.get(
    "",
    response=list[MonitoringOut],
    url_name="monitoring_list",
    description=_("动态监测对象名单（P7），每户一条并列出全部纳入原因。筛选：division 区划代码、reason 纳入原因。"),
)
@paginate(_MonitoringPage)
def monitoring_list(request: HttpRequest, filters: Query[MonitoringFilters]):
    require_action(request.user, "policy.view")
    return selectors.monitoring_list(actor=request.user, filters=_cleaned(MonitoringFilterForm, filters))
