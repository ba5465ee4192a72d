"""The single NinjaAPI mounted at /api/v1/: bearer auth, pagination, and one error format.

Every 4xx is `{"detail": "…", "errors": [{"field", "message"}]}` in Chinese (DESIGN.md "HTTP").
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from anju.accounts.api import router as accounts_router
from anju.accounts.services import token_user
from anju.cards.api import router as cards_router
from anju.cases import api as cases_api
from anju.cases.api_funds import router as funds_router
from anju.complaints.api import publicity_router
from anju.complaints.api import router as complaints_router
from anju.core.errors import DomainError
from anju.disasters.api import router as disasters_router
from anju.divisions.api import router as divisions_router
from anju.idle.api import router as idle_router
from anju.inspections.api import appraisals as appraisals_api
from anju.inspections.api import campaigns as campaigns_api
from anju.inspections.api import checks as checks_api
from anju.policy.api import alerts_router, monitoring_router
from anju.registry.api import households_router, houses_router
from anju.responsibility.api import router as responsibility_router
from anju.returns.api import router as returns_router
from anju.supervision.api import router as supervision_router
from anju.training.api import router as training_router


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_user(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title=gettext_lazy("安居 anju API"),
    version="1",
    description=gettext_lazy(
        "农村住房安全保障信息系统接口。认证：POST /api/v1/auth/token 获取令牌，再以 Bearer 令牌访问。"
    ),
    auth=[BearerAuth(), django_auth],
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _field_of(loc: list[Any] | tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters")]
    return ".".join(parts) or None


_PYDANTIC_MESSAGES = {
    "missing": gettext_lazy("此项为必填项"),
    "int_parsing": gettext_lazy("应为整数"),
    "int_type": gettext_lazy("应为整数"),
    "float_parsing": gettext_lazy("应为数字"),
    "decimal_parsing": gettext_lazy("应为数字"),
    "bool_parsing": gettext_lazy("应为是/否（true/false）"),
    "date_from_datetime_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD"),
    "date_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD"),
    "greater_than_equal": gettext_lazy("数值过小"),
    "less_than_equal": gettext_lazy("数值过大"),
    "greater_than": gettext_lazy("数值过小"),
    "less_than": gettext_lazy("数值过大"),
    "string_too_long": gettext_lazy("内容过长"),
    "string_too_short": gettext_lazy("内容过短"),
    "string_type": gettext_lazy("应为文本"),
    "literal_error": gettext_lazy("取值无效"),
    "enum": gettext_lazy("取值无效"),
    "json_invalid": gettext_lazy("请求体不是有效的 JSON"),
    "model_attributes_type": gettext_lazy("请求体格式错误"),
    "dict_type": gettext_lazy("请求体应为 JSON 对象"),
    "extra_forbidden": gettext_lazy("不支持此字段"),
}


@api.exception_handler(NinjaValidationError)
def on_ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        message = str(_PYDANTIC_MESSAGES.get(err.get("type", ""), ""))
        if not message:
            ctx_msg = str(err.get("ctx", {}).get("error", "")) if isinstance(err.get("ctx"), dict) else ""
            message = ctx_msg or _("取值无效")
        errors.append({"field": _field_of(err.get("loc", [])), "message": message})
    return _error(request, 400, _("请求参数有误"), errors)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.message, exc.as_list())


@api.exception_handler(DjangoValidationError)
def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [{"field": k, "message": " ".join(v)} for k, v in exc.message_dict.items()]
    else:
        errors = [{"field": None, "message": m} for m in exc.messages]
    return _error(request, 400, _("输入有误"), errors)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or _("您无权执行此操作"))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("对象不存在或不在您的管辖范围内"))


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("未登录或令牌无效，请先获取令牌"))


# ninja raises HttpError with English text (e.g. "Cannot parse request body" for a body that is not JSON).
_HTTP_ERROR_MESSAGES = {
    400: gettext_lazy("请求体不是有效的 JSON 对象"),
    405: gettext_lazy("不支持此请求方法"),
    413: gettext_lazy("请求体过大"),
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if not any("\u4e00" <= ch <= "\u9fff" for ch in message):
        message = str(_HTTP_ERROR_MESSAGES.get(exc.status_code) or _("请求有误"))
    return _error(request, exc.status_code, message, [{"field": None, "message": message}])


api.add_router("/auth", accounts_router)
api.add_router("/divisions", divisions_router)
api.add_router("/households", households_router)
api.add_router("/houses", houses_router)
api.add_router("/campaigns", campaigns_api.router)
api.add_router("/checks", checks_api.router)
api.add_router("/appraisal-requests", appraisals_api.requests_router)
api.add_router("/appraisals", appraisals_api.router)
api.add_router("/alerts", alerts_router)
api.add_router("/monitoring", monitoring_router)
api.add_router("/cases", cases_api.router)
api.add_router("/craftsmen", cases_api.craftsmen_router)
api.add_router("/subsidy-rates", cases_api.subsidy_rates_router)
api.add_router("/training", training_router)
api.add_router("/responsibility", responsibility_router)
api.add_router("/disasters", disasters_router)
api.add_router("/complaints", complaints_router)
api.add_router("/publicity", publicity_router)
api.add_router("/funds", funds_router)
api.add_router("/supervision", supervision_router)
api.add_router("/idle-houses", idle_router)
api.add_router("/returns", returns_router)
api.add_router("/cards", cards_router)
