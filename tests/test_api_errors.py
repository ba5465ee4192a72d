"""Every API error through Django's client: 4xx, one body shape, Chinese, never a 500, nothing written.

`{"detail": str, "errors": [{"field": ..., "message": str}]}` (DESIGN.md "HTTP"). ninja's `TestClient` would skip
the middleware and the exception handlers, so these go through the whole stack.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from ninja.conf import settings as ninja_settings

from anju.accounts.models import ApiToken
from anju.accounts.services import token_issue
from anju.audit.models import Event
from anju.core import idnumber
from anju.divisions.models import Division, Level
from anju.registry.models import House, Household, Member
from anju.testing import factories
from anju.testing.api import api_call, assert_error_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return factories.user("err_yuyang", factories.YUYANG, "county_manager")


@pytest.fixture
def token(manager):
    return token_issue(user=manager)


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def household(village):
    return factories.household(village)


def rows() -> tuple[int, int, int, int]:
    return Household.objects.count(), House.objects.count(), Member.objects.count(), Event.objects.count()


def valid_household(village: Division) -> dict[str, Any]:
    return {"division_code": village.code, "head_name": "王建国", "id_number": factories.id_number(), "size": 4}


def without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


def bad_checksum() -> str:
    number = factories.id_number()
    return number[:17] + ("0" if number[17] != "0" else "1")


def update_url(household: Household) -> str:
    return reverse("api:households_update", kwargs={"pk": household.pk})


def field_names(body: dict[str, Any]) -> set[str | None]:
    return {e["field"] for e in body["errors"]}


# -- household create --------------------------------------------------------------------------------------------

CREATE_CASES = {
    "bad JSON": ('{"division_code": ', None, 400),
    "JSON that is not an object": ("[1, 2]", None, 400),
    "form body instead of JSON": ("division_code=1&size=2", None, 400),
    "missing head_name": (lambda v: without(valid_household(v), "head_name"), "head_name", 400),
    "size not a number": (lambda v: valid_household(v) | {"size": "abc"}, "size", 400),
    "size 0": (lambda v: valid_household(v) | {"size": 0}, "size", 400),
    "size 31": (lambda v: valid_household(v) | {"size": 31}, "size", 400),
    "size a list": (lambda v: valid_household(v) | {"size": [4]}, "size", 400),
    "empty head_name": (lambda v: valid_household(v) | {"head_name": ""}, "head_name", 400),
    "ID checksum": (lambda v: valid_household(v) | {"id_number": bad_checksum()}, "id_number", 400),
    "ID too short": (lambda v: valid_household(v) | {"id_number": "61080219600101"}, "id_number", 400),
    "ID birth date": (lambda v: valid_household(v) | {"id_number": "610802196002300017"}, "id_number", 400),
    "unknown village": (lambda v: valid_household(v) | {"division_code": "610802001299"}, "division_code", 400),
    "town instead of village": (
        lambda v: valid_household(v) | {"division_code": factories.YUYANG_TOWN},
        "division_code",
        400,
    ),
    "bad security method": (lambda v: valid_household(v) | {"security_method": "castle"}, "security_method", 400),
    "bad phone": (lambda v: valid_household(v) | {"phone": "call me"}, "phone", 400),
    "unknown category": (lambda v: valid_household(v) | {"categories": [{"code": "nope"}]}, "categories", 400),
    "member birth year": (
        lambda v: valid_household(v) | {"members": [{"name": "李小", "relation": "子女", "birth_year": 1800}]},
        "members.0.birth_year",
        400,
    ),
}


@pytest.mark.parametrize("case", CREATE_CASES, ids=list(CREATE_CASES))
def test_household_create_refused(case, token, village):
    body, field, status = CREATE_CASES[case]
    payload = body(village) if callable(body) else body
    before = rows()
    response = api_call("POST", reverse("api:households_create"), token=token, payload=payload)
    error = assert_error_body(response, status)
    if field is not None:
        assert field in field_names(error), error
    assert rows() == before


def test_member_after_household_refused_leaves_no_household(token, village):
    """All or nothing: a bad member after a good household rolls the household back too."""
    payload = valid_household(village) | {"members": [{"name": "李小", "relation": "子女", "birth_year": 2099}]}
    before = rows()
    assert_error_body(api_call("POST", reverse("api:households_create"), token=token, payload=payload), 400)
    assert rows() == before


def test_duplicate_head_id_is_409(token, village, household):
    payload = valid_household(village) | {"id_number": idnumber.decrypt(household.id_cipher).lower()}
    before = rows()
    body = assert_error_body(api_call("POST", reverse("api:households_create"), token=token, payload=payload), 409)
    assert "id_number" in field_names(body)
    assert rows() == before


def test_create_in_another_county_is_403(token):
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    before = rows()
    response = api_call("POST", reverse("api:households_create"), token=token, payload=valid_household(shenmu))
    assert_error_body(response, 403)
    assert rows() == before


# -- updates -----------------------------------------------------------------------------------------------------

UPDATE_CASES = {
    "size 31": ({"size": 31}, "size", 400),
    "size text": ({"size": "many"}, "size", 400),
    "head_name null": ({"head_name": None}, "head_name", 400),
    "ID checksum": ({"id_number": "BAD"}, "id_number", 400),
    "town instead of village": ({"division_code": factories.YUYANG_TOWN}, "division_code", 400),
    "unknown field only": ({"colour": "red"}, None, None),
}


@pytest.mark.parametrize("case", UPDATE_CASES, ids=list(UPDATE_CASES))
def test_household_update_refused(case, token, household):
    payload, field, status = UPDATE_CASES[case]
    before, row = rows(), Household.objects.values().get(pk=household.pk)
    response = api_call("PATCH", update_url(household), token=token, payload=payload)
    if status is None:  # unknown fields are ignored: nothing changes, no event
        assert response.status_code == 200
    else:
        assert field in field_names(assert_error_body(response, status))
    assert rows() == before
    after = Household.objects.values().get(pk=household.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {k: v for k, v in row.items() if k != "updated_at"}
    if status is not None:
        assert after == row


def test_household_update_duplicate_id_is_409(token, village, household):
    other = factories.household(village)
    payload = {"id_number": idnumber.decrypt(other.id_cipher)}
    before = rows()
    response = api_call("PATCH", update_url(household), token=token, payload=payload)
    assert_error_body(response, 409)
    assert rows() == before


HOUSE_CASES = {
    "unknown structure": ({"structure": "igloo"}, "structure", 400),
    "floor area 0": ({"floor_area": 0}, "floor_area", 400),
    "storeys 11": ({"storeys": 11}, "storeys", 400),
    "longitude outside China": ({"longitude": 10}, "longitude", 400),
    "build year in the future": ({"build_year": dt.date.today().year + 1}, "build_year", 400),
    "grade without date": ({"grade": "C"}, "graded_on", 400),
    "grade date in the future": ({"grade": "C", "graded_on": "2999-01-01"}, "graded_on", 400),
    "graded_on not a date": ({"grade": "C", "graded_on": "14/05/2021"}, "graded_on", 400),
}


@pytest.mark.parametrize("case", HOUSE_CASES, ids=list(HOUSE_CASES))
def test_house_create_refused(case, token, household):
    extra, field, status = HOUSE_CASES[case]
    payload = {"household_id": household.pk, "structure": "earth_cave"} | extra
    before = rows()
    body = assert_error_body(api_call("POST", reverse("api:houses_create"), token=token, payload=payload), status)
    assert field in field_names(body), body
    assert rows() == before


def test_house_for_unknown_household_is_404(token):
    payload = {"household_id": 999999, "structure": "earth_cave"}
    before = rows()
    assert_error_body(api_call("POST", reverse("api:houses_create"), token=token, payload=payload), 404, errors=False)
    assert rows() == before


def test_house_update_refused_grade_keeps_the_other_changes_out(token, household):
    house = factories.house(household)
    before, row = rows(), House.objects.values().get(pk=house.pk)
    url = reverse("api:houses_update", kwargs={"pk": house.pk})
    response = api_call("PATCH", url, token=token, payload={"note": "墙体开裂", "storeys": 2, "grade": "D"})
    assert_error_body(response, 400)
    assert rows() == before
    assert House.objects.values().get(pk=house.pk) == row


# -- lists -------------------------------------------------------------------------------------------------------

LIST_CASES = {
    "page 0": ({"page": 0}, "page"),
    "page text": ({"page": "abc"}, "page"),
    "page_size 0": ({"page_size": 0}, "page_size"),
    "unknown grade": ({"grade": "Z"}, "grade"),
    "unknown structure": ({"structure": "igloo"}, "structure"),
    "unknown category": ({"category": "nope"}, "category"),
    "unknown division": ({"division": "610802999999"}, "division"),
    "idle not yes/no": ({"idle": "maybe"}, "idle"),
}


@pytest.mark.parametrize("url_name", ["api:households_list", "api:houses_list"])
@pytest.mark.parametrize("case", LIST_CASES, ids=list(LIST_CASES))
def test_bad_list_parameters(case, url_name, token):
    params, field = LIST_CASES[case]
    body = assert_error_body(api_call("GET", reverse(url_name), token=token, **params), 400)
    assert field in field_names(body), body


def test_reveal_id_not_a_boolean(token, household):
    url = reverse("api:households_detail", kwargs={"pk": household.pk})
    before = rows()
    assert "reveal_id" in field_names(assert_error_body(api_call("GET", url, token=token, reveal_id="maybe"), 400))
    assert rows() == before


def test_page_past_the_end_is_empty_not_an_error(token, household):
    body = api_call("GET", reverse("api:households_list"), token=token, page=99).json()
    assert body == {"items": [], "count": 1}


def test_page_size_over_the_maximum_is_capped(token):
    """page_size above the maximum is not an error: the page holds the maximum."""
    town = Division.objects.get(code=factories.YUYANG_TOWN)
    cap = ninja_settings.PAGINATION_MAX_PER_PAGE_SIZE
    Division.objects.bulk_create(
        Division(code=f"{town.code[:9]}{n:03d}", name=f"容量{n}村", level=Level.VILLAGE, parent=town, is_sample=True)
        for n in range(1, cap + 2)
    )
    response = api_call("GET", reverse("api:divisions_list"), token=token, page_size=100000)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] > cap
    assert len(body["items"]) == cap


# -- authentication ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_token_is_401(method, village):
    before = rows()
    payload = valid_household(village) if method == "POST" else None
    assert_error_body(api_call(method, reverse("api:households_list"), payload=payload), 401, errors=False)
    assert rows() == before


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz", "Bearer anju_x y"])
def test_bad_token_is_401(header, client):
    response = client.get(reverse("api:households_list"), HTTP_AUTHORIZATION=header)
    assert_error_body(response, 401, errors=False)


def test_expired_token_is_401(manager, token):
    ApiToken.objects.filter(user=manager).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_error_body(api_call("GET", reverse("api:households_list"), token=token), 401, errors=False)


def test_inactive_user_token_is_401(manager, token):
    manager.is_active = False
    manager.save()
    assert_error_body(api_call("GET", reverse("api:households_list"), token=token), 401, errors=False)


def test_token_for_password_is_scoped_to_the_user(manager, village):
    yuyang = factories.household(village)
    shenmu = factories.household(factories.village(factories.SHENMU_TOWN, 1))
    response = api_call(
        "POST", reverse("api:auth_token"), payload={"username": manager.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    ids = {i["id"] for i in api_call("GET", reverse("api:households_list"), token=token).json()["items"]}
    assert yuyang.pk in ids and shenmu.pk not in ids
    detail = api_call("GET", reverse("api:households_detail", kwargs={"pk": shenmu.pk}), token=token)
    assert_error_body(detail, 404, errors=False)


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "err_yuyang", "password": "wrong-password"},
        {"username": "nobody", "password": factories.PASSWORD},
        {"username": "err_yuyang"},
        {"username": "err_yuyang", "password": 12},
        "not json",
    ],
)
def test_token_refused(payload, manager):
    before = ApiToken.objects.count()
    response = api_call("POST", reverse("api:auth_token"), payload=payload)
    assert response.status_code in (400, 401), response.content
    assert_error_body(response, response.status_code)
    assert "token" not in response.json()
    assert ApiToken.objects.count() == before


def test_token_locked_out_after_repeated_failures(manager, settings):
    url = reverse("api:auth_token")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_call("POST", url, payload={"username": manager.username, "password": "wrong-password"})
    response = api_call("POST", url, payload={"username": manager.username, "password": factories.PASSWORD})
    assert response.status_code in (400, 401, 403, 429), response.content
    assert_error_body(response, response.status_code, errors=False)
    assert not ApiToken.objects.filter(user=manager).exists()


def test_errors_are_json_even_for_a_form_post(token):
    response = api_call("POST", reverse("api:households_create"), token=token, payload=json.dumps({"x": 1})[:-1])
    assert_error_body(response, 400)
