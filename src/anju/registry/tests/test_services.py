"""Registry services against the real database: rules, scope on writes, audit events."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.audit.services import chain_verify
from anju.core import idnumber
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.registry import services
from anju.registry.models import GradeRecord, House, Household, HouseholdCategory, TargetCategory
from anju.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def yuyang():
    return factories.user("yy", factories.YUYANG, "county_manager")


@pytest.fixture
def v1():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def v2():
    return factories.village(factories.YUYANG_TOWN_2, 2)


def create(actor, village, **kw):
    data = {"head_name": "王建国", "id_number": factories.id_number(), "size": 4} | kw
    return services.household_create(actor=actor, division_code=village.code, **data)


def test_create_stores_only_cipher_hash_and_mask(yuyang, v1):
    raw = factories.id_number()
    h = create(yuyang, v1, id_number=raw.lower())
    row = Household.objects.values().get(pk=h.pk)
    assert raw not in str(row)
    assert row["id_masked"] == idnumber.mask(raw)
    assert row["id_hash"] == idnumber.keyed_hash(raw)
    assert idnumber.decrypt(row["id_cipher"]) == raw
    event = Event.objects.get(action=Action.HOUSEHOLD_CREATED, object_id=str(h.pk))
    assert event.actor == yuyang and event.division_code == v1.code
    assert raw not in str(event.after)


def test_one_head_id_is_one_household(yuyang, v1, v2):
    raw = factories.id_number()
    create(yuyang, v1, id_number=raw)
    with pytest.raises(ConflictError) as info:
        create(yuyang, v2, id_number="　" + raw[:6] + " " + raw[6:])  # another spelling of the same number
    assert "已登记" in info.value.errors["id_number"]
    assert Household.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("id_number", {"id_number": "11010519491231002Y"}),
        ("size", {"size": 0}),
        ("size", {"size": 31}),
        ("phone", {"phone": "abc"}),
        ("head_name", {"head_name": ""}),
        ("security_method", {"security_method": "castle"}),
    ],
)
def test_bad_input_is_refused_with_field_and_nothing_written(yuyang, v1, field, values):
    before = Event.objects.count()
    with pytest.raises(DomainError) as info:
        create(yuyang, v1, **values)
    assert field in info.value.errors
    assert Household.objects.count() == 0 and Event.objects.count() == before


def test_household_must_be_in_a_village_in_scope(yuyang, v1):
    with pytest.raises(DomainError):
        services.household_create(
            actor=yuyang, division_code=factories.YUYANG_TOWN, head_name="甲", id_number=factories.id_number(), size=1
        )
    shenmu_village = factories.village(factories.SHENMU_TOWN, 1)
    with pytest.raises(ScopeError):
        create(yuyang, shenmu_village)
    assert Household.objects.count() == 0


def test_roles_without_the_action_are_refused(v1):
    department = factories.user("dept", factories.YUYANG, "department")
    with pytest.raises(PermissionDenied):
        create(department, v1)


def test_update_records_only_changed_fields(yuyang, v1):
    h = create(yuyang, v1)
    services.household_update(actor=yuyang, household=h, size=5, phone="13912345678", head_name="王建国")
    event = Event.objects.filter(action=Action.HOUSEHOLD_CHANGED).get()
    assert event.before == {"size": 4, "phone": ""}
    assert event.after == {"size": 5, "phone": "13912345678"}


def test_update_without_changes_writes_no_event(yuyang, v1):
    h = create(yuyang, v1)
    services.household_update(actor=yuyang, household=h, size=4)
    assert not Event.objects.filter(action=Action.HOUSEHOLD_CHANGED).exists()


def test_moving_a_household_moves_its_rows(yuyang, v1, v2):
    h = create(yuyang, v1)
    house = services.house_create(
        actor=yuyang, household=h, structure="earth_wood", grade="B", graded_on=dt.date(2024, 4, 1)
    )
    cat = TargetCategory.objects.get(code="dibao")
    services.household_category_add(actor=yuyang, household=h, category=cat, certified_on=dt.date(2023, 1, 1))
    services.household_update(actor=yuyang, household=h, division_code=v2.code)
    assert House.objects.get(pk=house.pk).division_id == v2.code
    assert GradeRecord.objects.get(house=house).division_id == v2.code
    assert HouseholdCategory.objects.get(household=h).division_id == v2.code


def test_town_staff_cannot_touch_a_sibling_town(v1, v2):
    h = factories.household(v2)
    town = factories.user("town", factories.YUYANG_TOWN, "town_staff")
    with pytest.raises(ScopeError):
        services.household_update(actor=town, household=h, size=2)
    with pytest.raises(ScopeError):
        services.house_create(actor=town, household=h, structure="frame")


def test_category_add_and_end(yuyang, v1):
    h = create(yuyang, v1)
    cat = TargetCategory.objects.get(code="tekun")
    m = services.household_category_add(actor=yuyang, household=h, category=cat, certified_on=dt.date(2022, 3, 1))
    with pytest.raises(ConflictError):
        services.household_category_add(actor=yuyang, household=h, category=cat, certified_on=dt.date(2023, 1, 1))
    with pytest.raises(DomainError):
        services.household_category_end(actor=yuyang, membership=m, ended_on=dt.date(2021, 1, 1))
    services.household_category_end(actor=yuyang, membership=m, ended_on=dt.date(2024, 6, 30))
    # Ended: a new certification of the same category is allowed, history kept.
    services.household_category_add(actor=yuyang, household=h, category=cat, certified_on=dt.date(2025, 1, 1))
    assert HouseholdCategory.objects.filter(household=h).count() == 2


def test_grade_history_and_current_grade(yuyang, v1):
    h = create(yuyang, v1)
    house = services.house_create(
        actor=yuyang, household=h, structure="earth_cave", grade="B", graded_on=dt.date(2023, 4, 10), appraiser="李工"
    )
    services.house_grade(actor=yuyang, house=house, grade="D", graded_on=dt.date(2025, 4, 2), source="manual")
    # A late entry of an older appraisal joins the history but does not replace the current grade.
    services.house_grade(actor=yuyang, house=house, grade="C", graded_on=dt.date(2024, 4, 2), source="manual")
    house.refresh_from_db()
    assert (house.grade, house.graded_on) == ("D", dt.date(2025, 4, 2))
    assert [r.grade for r in house.grade_history.all()] == ["D", "C", "B"]
    assert Event.objects.filter(action=Action.HOUSE_GRADED, object_id=str(house.pk)).count() == 3


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"grade": "E", "graded_on": dt.date(2024, 1, 1)}, "grade"),
        ({"grade": "C", "graded_on": None}, "graded_on"),
        ({"grade": "C", "graded_on": dt.date.today() + dt.timedelta(days=1)}, "graded_on"),
    ],
)
def test_bad_grades_refused(yuyang, v1, values, field):
    house = services.house_create(actor=yuyang, household=create(yuyang, v1), structure="frame")
    with pytest.raises(DomainError) as info:
        services.house_grade(actor=yuyang, house=house, source="manual", **values)
    assert field in info.value.errors


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"floor_area": "0"}, "floor_area"),
        ({"storeys": 11}, "storeys"),
        ({"build_year": 1800}, "build_year"),
        ({"longitude": "150"}, "longitude"),
        ({"structure": "igloo"}, "structure"),
    ],
)
def test_bad_house_values_refused(yuyang, v1, values, field):
    h = create(yuyang, v1)
    data = {"structure": "frame"} | values
    with pytest.raises(DomainError) as info:
        services.house_create(actor=yuyang, household=h, **data)
    assert field in info.value.errors
    assert House.objects.count() == 0


def test_reveal_id_is_audited_and_restricted(yuyang, v1):
    raw = factories.id_number()
    h = create(yuyang, v1, id_number=raw)
    assert services.household_reveal_id(actor=yuyang, household=h) == raw
    assert Event.objects.filter(action=Action.HOUSEHOLD_ID_VIEWED, actor=yuyang).count() == 1
    village_staff = factories.user("cun", v1.code, "village_staff")
    with pytest.raises(PermissionDenied):
        services.household_reveal_id(actor=village_staff, household=h)


def test_every_write_keeps_the_chain_valid(yuyang, v1):
    h = create(yuyang, v1)
    services.house_create(actor=yuyang, household=h, structure="stone_cave", grade="C", graded_on=dt.date(2024, 5, 1))
    services.household_update(actor=yuyang, household=h, note="改")
    assert chain_verify() is None


def test_register_is_all_or_nothing(yuyang, v1):
    before = Event.objects.count()
    with pytest.raises(DomainError) as info:
        services.household_register(
            actor=yuyang,
            division_code=v1.code,
            head_name="李四",
            id_number=factories.id_number(),
            size=2,
            members=[{"name": "李小四", "relation": "子女", "birth_year": 2010}],
            categories=[("dibao", dt.date(2024, 1, 1)), ("no-such-category", None)],
        )
    assert "categories" in info.value.errors
    assert Household.objects.count() == 0 and Event.objects.count() == before


def test_register_with_categories_and_members(yuyang, v1):
    h = services.household_register(
        actor=yuyang,
        division_code=v1.code,
        head_name="李四",
        id_number=factories.id_number(),
        size=2,
        members=[{"name": "李小四", "relation": "子女", "birth_year": 2010}],
        categories=[("dibao", dt.date(2024, 1, 1))],
    )
    assert [m.name for m in h.members.all()] == ["李小四"]
    assert HouseholdCategory.objects.get(household=h).category.code == "dibao"


def test_grade_cannot_go_back_to_unrated(yuyang, v1):
    house = services.house_create(
        actor=yuyang, household=create(yuyang, v1), structure="frame", grade="A", graded_on=dt.date(2024, 1, 1)
    )
    with pytest.raises(DomainError) as info:
        services.house_grade(actor=yuyang, house=house, grade="U", graded_on=dt.date(2024, 2, 1), source="manual")
    assert "未鉴定" in info.value.errors["grade"]


@pytest.mark.django_db(transaction=True)
def test_a_moved_household_takes_every_scoped_row_with_it(yuyang, v1, v2):
    """Checks, requests, findings and alerts follow the household (found by foreign keys, not a list)."""
    from anju.inspections.models import AppraisalRequest, CheckRecord, HouseFinding
    from anju.policy.models import Alert
    from anju.testing import appraisals, campaigns

    h = create(yuyang, v1)
    house = services.house_create(actor=yuyang, household=h, structure="earth_cave")
    round_ = campaigns.campaign(factories.YUYANG, year=dt.date.today().year)
    campaigns.check(round_, h, findings=[{"house": house, "cracks": True}])
    appraisals.request(house)
    cat = TargetCategory.objects.get(code="dibao")
    services.household_category_add(actor=yuyang, household=h, category=cat, certified_on=dt.date(2024, 1, 1))
    assert Alert.objects.filter(household=h).exists()  # P7, refreshed on commit

    services.household_update(actor=yuyang, household=h, division_code=v2.code)
    for model in (CheckRecord, HouseFinding, AppraisalRequest, Alert):
        codes = set(model.objects.values_list("division_id", flat=True))
        assert codes == {v2.code}, model
