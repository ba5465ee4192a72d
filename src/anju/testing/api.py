"""Calling the API in tests through Django's client, so middleware and the API's error handlers run.

ninja's `TestClient(router)` skips both (STYLE.md "Tests"), which would hide the error format and the request id.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpResponse
from django.test import Client

CJK = re.compile(r"[\u3400-\u9fff]")


def bearer(token: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}


def api_call(method: str, url: str, *, token: str | None = None, payload: Any = None, **params: Any) -> HttpResponse:
    """One request from a fresh client (no session cookie), authenticated by `token` when given."""
    client = Client()
    if method.upper() == "GET":
        return client.get(url, params or None, **bearer(token))
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload, ensure_ascii=False)
    return client.generic(method.upper(), url, body, content_type="application/json", **bearer(token))


def assert_error_body(response: HttpResponse, status: int, *, errors: bool = True) -> dict[str, Any]:
    """The one error shape: `{"detail": str, "errors": [{"field", "message"}]}`, in Chinese.

    `errors=True` also requires at least one entry (input errors name what was wrong).
    """
    content = response.content.decode(errors="replace")[:500]
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {content}"
    assert response["Content-Type"].startswith("application/json"), f"not JSON: {content}"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"detail", "errors"}, f"wrong shape: {body}"
    assert isinstance(body["detail"], str) and CJK.search(body["detail"]), f"detail not Chinese: {body}"
    assert isinstance(body["errors"], list), f"errors not a list: {body}"
    for item in body["errors"]:
        assert isinstance(item, dict) and set(item) == {"field", "message"}, f"wrong error item: {item}"
        assert item["field"] is None or isinstance(item["field"], str), f"field not str/null: {item}"
        assert isinstance(item["message"], str) and CJK.search(item["message"]), f"message not Chinese: {item}"
    if errors:
        assert body["errors"], f"no field errors given: {body}"
    return body
