"""One request id per request (and per command run), read by the audit log."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("anju_request_id", default=None)


def current_request_id() -> str:
    """The id of the request or command being served; a fresh one outside of both."""
    value = _request_id.get()
    if value is None:
        value = new_request_id()
    return value


def new_request_id() -> str:
    value = uuid.uuid4().hex
    _request_id.set(value)
    return value


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_id.set(uuid.uuid4().hex)
        request.request_id = _request_id.get()
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


API_PREFIX = "/api/"
_API_STATUS_MESSAGES = {
    400: gettext_lazy("请求有误"),
    401: gettext_lazy("未登录或令牌无效，请先获取令牌"),
    403: gettext_lazy("您无权执行此操作"),
    404: gettext_lazy("接口或对象不存在"),
    405: gettext_lazy("不支持此请求方法"),
    413: gettext_lazy("请求体过大"),
    429: gettext_lazy("登录失败次数过多，账号已暂时锁定，请30分钟后再试"),
}


class ApiErrorShapeMiddleware:
    """Every 4xx under /api/ leaves as `{"detail", "errors"}` in Chinese, whoever produced it
    (URL resolver 404, ninja's 405, django-axes' lockout page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if (
            request.path.startswith(API_PREFIX)
            and 400 <= status < 500
            and "json" not in response.get("Content-Type", "")
        ):
            message = str(_API_STATUS_MESSAGES.get(status) or _("请求有误"))
            shaped = JsonResponse(
                {"detail": message, "errors": [{"field": None, "message": message}]},
                status=status,
                json_dumps_params={"ensure_ascii": False},
            )
            if "Allow" in response:
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
