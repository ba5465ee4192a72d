"""No endpoint and no page escapes the scope/permission helper (STYLE.md "Tests").

Concrete scope tests register the URL names they check in `anju.testing.scope.COVERAGE`. These sweeps walk
every operation of the OpenAPI schema and every named page, and fail for any that no scope test covers — so a
new endpoint without one fails here, not in production.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from django.urls import URLResolver, get_resolver
from ninja import NinjaAPI, Router

import anju
from anju.api import api
from anju.testing.scope import COVERAGE

# Public by design: it is how a client gets a token. tests/test_api_errors.py checks it.
EXEMPT_OPERATIONS = {"api:auth_token"}
# Django's own login and logout views.
EXEMPT_PAGES = {"login", "logout"}


def import_scope_tests() -> None:
    """Import every test module, so COVERAGE is complete even when this file runs alone."""
    for info in pkgutil.walk_packages(anju.__path__, "anju."):
        if ".tests.test_" in info.name:
            importlib.import_module(info.name)


def operations(ninja_api: NinjaAPI, path_prefix: str | None = None) -> Iterator[tuple[str, str, str | None]]:
    """(method, path, url name) of every operation in the schema, matched through the operation id."""
    url_names = {}
    for _prefix, router in ninja_api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                url_names[op.operation_id or ninja_api.get_openapi_operation_id(op)] = op.url_name
    schema = ninja_api.get_openapi_schema(path_prefix=path_prefix)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, url_names.get(operation["operationId"])


def uncovered_operations(ninja_api: NinjaAPI, coverage: dict[str, set[str]], path_prefix: str | None = None):
    namespace = ninja_api.urls_namespace
    return [
        f"{method} {path} ({namespace}:{name})"
        for method, path, name in operations(ninja_api, path_prefix)
        if f"{namespace}:{name}" not in coverage and f"{namespace}:{name}" not in EXEMPT_OPERATIONS
    ]


def named_urls() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


@pytest.fixture(scope="module")
def coverage() -> dict[str, set[str]]:
    import_scope_tests()
    return COVERAGE


def test_every_operation_has_a_url_name():
    missing = [f"{method} {path}" for method, path, name in operations(api) if not name]
    assert not missing, f"operations without url_name: {missing}"


def test_every_api_operation_is_covered_by_a_scope_test(coverage):
    ops = list(operations(api))
    assert len(ops) >= 11, ops  # divisions 2, households 4, houses 4, auth 1
    missing = uncovered_operations(api, coverage)
    assert not missing, (
        "endpoints without a scope test — add an APIViewTestCases class for them in the app's tests/test_api.py: "
        f"{missing}"
    )


def test_every_page_is_covered_by_a_scope_test(coverage):
    pages = {n for n in named_urls() if not n.startswith(f"{api.urls_namespace}:")} - EXEMPT_PAGES
    assert {"registry:household_list", "web:home"} <= pages
    missing = sorted(pages - set(coverage))
    assert not missing, f"pages without a scope test — add a ViewTestCases class: {missing}"


def test_covered_names_exist(coverage):
    stale = sorted(set(coverage) - named_urls())
    assert not stale, f"scope tests name URLs that do not exist: {stale}"


def test_each_list_and_detail_is_checked_by_a_concrete_class(coverage):
    for name in ("api:households_list", "api:houses_update", "api:divisions_detail", "registry:household_edit"):
        assert coverage[name], name


def test_the_sweep_catches_an_uncovered_endpoint():
    """The sweep is not vacuous: an endpoint nobody registered is reported."""
    extra = Router()

    @extra.get("/things", url_name="things_list")
    def things_list(request):
        return []

    probe = NinjaAPI(urls_namespace="sweep_probe")
    probe.add_router("/extra", extra)
    assert uncovered_operations(probe, {}, path_prefix="") == ["GET /extra/things (sweep_probe:things_list)"]
    assert uncovered_operations(probe, {"sweep_probe:things_list": {"x"}}, path_prefix="") == []
