"""One request id per request (and per command run), read by the audit log."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
