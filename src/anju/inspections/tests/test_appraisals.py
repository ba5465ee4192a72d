"""Appraisals through the service: every guard, the grade history, the override flag and its review (P8, P17)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import ActionNotAllowed, ConflictError, DomainError, ScopeError
from anju.inspections.models import Appraisal, AppraisalComponent, ComponentSpec, RequestStatus
from anju.inspections.services import appraisals as services
from anju.registry.models import GradeRecord, GradeSource
from anju.testing import appraisals as build
from anju.testing import factories

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def house(village):
    return factories.house(factories.household(village), structure="earth_cave")


@pytest.fixture
def appraiser():
    return factories.trained(factories.user("jd", factories.YUYANG, "appraiser"))


@pytest.fixture
def county():
    return factories.user("xian", factories.YUYANG, "county_manager")


def record(actor, house, **values):
    data = {
        "appraised_on": TODAY,
        "disaster_prevention": "partial",
        "components": build.all_a(house),
    } | values
    return services.appraisal_record(actor=actor, house=house, **data)


def test_a_c_component_grades_the_house_c_and_writes_its_history(house, appraiser):
    appraisal = record(
        appraiser,
        house,
        components=build.all_a(house) | {"cave_arch": "c"},
        notes={"cave_arch": "拱顶纵向裂缝约1.2米"},
        co_appraisers="李工",
        conclusion="局部危房，建议加固",
    )
    assert (appraisal.computed_grade, appraisal.final_grade, appraisal.flagged_for_review) == ("C", "C", False)
    assert appraisal.structure == "earth_cave" and appraisal.lead_appraiser == appraiser
    assert len(appraisal.danger_points) == 1 and "拱顶" in appraisal.danger_points[0]
    assert AppraisalComponent.objects.get(appraisal=appraisal, spec__code="cave_arch").note == "拱顶纵向裂缝约1.2米"
    house.refresh_from_db()
    assert (house.grade, house.graded_on) == ("C", TODAY)
    record_ = GradeRecord.objects.get(house=house)
    assert record_.source == GradeSource.APPRAISAL and "jd" in record_.appraiser and "李工" in record_.appraiser
    actions = list(Event.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == [Action.HOUSE_GRADED, Action.APPRAISAL_RECORDED, Action.CASE_OPENED]


def test_the_appraisal_answers_the_request(house, appraiser):
    req = build.request(house, appraiser=appraiser)
    appraisal = record(appraiser, house, request=req)
    req.refresh_from_db()
    assert req.status == RequestStatus.DONE and appraisal.request == req


def test_an_open_request_of_the_house_is_answered_even_when_not_named(house, appraiser):
    """Otherwise the request would stay open and raise the P8 overdue alert after the house was appraised."""
    req = build.request(house, appraiser=appraiser)
    appraisal = record(appraiser, house)
    req.refresh_from_db()
    assert appraisal.request == req and req.status == RequestStatus.DONE


def test_an_untrained_appraiser_is_refused_with_the_p17_message(house):
    """policy: P17"""
    person = factories.user("jd_new", factories.YUYANG, "appraiser")
    with pytest.raises(DomainError) as info:
        record(person, house)
    assert "P17" in info.value.message and "未参加" in info.value.message
    assert not Appraisal.objects.exists()
    house.refresh_from_db()
    assert house.grade == "U"


def test_training_counts_for_the_year_of_the_appraisal(house, appraiser):
    """policy: P17 — trained this year does not cover an appraisal dated last year."""
    last_year = dt.date(TODAY.year - 1, 12, 20)
    with pytest.raises(DomainError):
        record(appraiser, house, appraised_on=last_year)
    factories.trained(appraiser, TODAY.year - 1)
    assert record(appraiser, house, appraised_on=last_year).appraised_on == last_year


def test_only_the_assigned_appraiser_may_record(house, appraiser):
    req = build.request(house, appraiser=appraiser)
    other = factories.trained(factories.user("jd_other", factories.YUYANG, "appraiser"))
    with pytest.raises(ActionNotAllowed) as info:
        record(other, house, request=req)
    assert "只有被指派的鉴定人员" in info.value.message
    with pytest.raises(ActionNotAllowed):
        record(other, house)  # the open request is found without being named
    admin = factories.trained(factories.user("root", "610800000000", "admin"))
    assert record(admin, house, request=req).lead_appraiser == admin


def test_an_unassigned_request_must_be_assigned_first(house, appraiser):
    req = build.request(house)
    with pytest.raises(ActionNotAllowed) as info:
        record(appraiser, house, request=req)
    assert "尚未指派" in info.value.message


def test_a_request_of_another_house_or_already_done_is_refused(house, village, appraiser):
    other = factories.house(factories.household(village))
    req = build.request(other, appraiser=appraiser)
    with pytest.raises(DomainError):
        record(appraiser, house, request=req)
    record(appraiser, other, request=req)
    with pytest.raises(ConflictError):
        record(appraiser, other, request=req)


def test_the_role_and_the_scope_are_required(house):
    county = factories.trained(factories.user("xian2", factories.YUYANG, "county_manager"))
    with pytest.raises(PermissionDenied):
        record(county, house)
    shenmu = factories.trained(factories.user("sm_jd", factories.SHENMU, "appraiser"))
    with pytest.raises(ScopeError):
        record(shenmu, house)
    assert not Appraisal.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: {k: v for k, v in c.items() if k != "cave_arch"}, "component_cave_arch"),
        (lambda c: c | {"bearing_wall": "a"}, "component_bearing_wall"),
        (lambda c: c | {"cave_pier": "e"}, "component_cave_pier"),
        (lambda c: c | {"cave_pier": ""}, "component_cave_pier"),
    ],
    ids=["missing", "not-for-caves", "bad-grade", "blank"],
)
def test_components_must_be_exactly_the_list_of_the_structure(house, appraiser, change, field):
    with pytest.raises(DomainError) as info:
        record(appraiser, house, components=change(build.all_a(house)))
    assert field in info.value.errors
    assert not Appraisal.objects.exists()


def test_an_inactive_component_is_not_asked_for(house, appraiser):
    ComponentSpec.objects.filter(code="cave_cover").update(is_active=False)
    components = {k: v for k, v in build.all_a(house).items()}
    assert "cave_cover" not in components
    assert record(appraiser, house, components=components).components.count() == len(components)
    with pytest.raises(DomainError):
        record(appraiser, house, components=components | {"cave_cover": "a"})


def test_other_input_is_checked(house, appraiser):
    for values, field in [
        ({"disaster_prevention": "maybe"}, "disaster_prevention"),
        ({"appraised_on": TODAY + dt.timedelta(days=1)}, "appraised_on"),
        ({"final_grade": "E", "override_reason": "x"}, "final_grade"),
    ]:
        with pytest.raises(DomainError) as info:
            record(appraiser, house, **values)
        assert field in info.value.errors, values
    assert not Appraisal.objects.exists()


def test_an_override_needs_a_reason(house, appraiser):
    with pytest.raises(DomainError) as info:
        record(appraiser, house, final_grade="C", override_reason="  ")
    assert "计算的等级（A级）" in info.value.errors["override_reason"]
    assert not Appraisal.objects.exists()


def test_an_override_is_flagged_and_its_grade_enters_the_history(house, appraiser):
    appraisal = record(appraiser, house, final_grade="C", override_reason="窑顶覆土已被雨水冲刷，观察期内恶化")
    assert (appraisal.computed_grade, appraisal.final_grade) == ("A", "C")
    assert appraisal.flagged_for_review and appraisal.is_override
    house.refresh_from_db()
    assert house.grade == "C"


def test_the_same_final_grade_is_not_an_override(house, appraiser):
    appraisal = record(appraiser, house, final_grade="a", override_reason="多余的理由")
    assert not appraisal.flagged_for_review and appraisal.override_reason == ""


def test_a_dangerous_site_is_d(house, appraiser):
    appraisal = record(appraiser, house, site_dangerous=True, site_note="屋后黄土边坡有滑塌迹象")
    assert appraisal.final_grade == "D" and appraisal.site_dangerous
    assert "场地危险" in appraisal.danger_points[0]


def test_the_cliff_d_makes_the_site_dangerous(house, appraiser):
    appraisal = record(appraiser, house, components=build.all_a(house) | {"cave_cliff": "d"})
    assert appraisal.final_grade == "D" and appraisal.site_dangerous


# -- review ----------------------------------------------------------------------------------------------------------


def test_review_clears_the_flag_and_is_audited(house, appraiser, county):
    appraisal = record(appraiser, house, final_grade="B", override_reason="构件老化，但暂无危险")
    services.appraisal_review(actor=county, appraisal=appraisal, accept=True, comment="同意")
    appraisal.refresh_from_db()
    assert not appraisal.flagged_for_review and appraisal.reviewed_by == county and appraisal.reviewed_at
    event = Event.objects.get(action=Action.APPRAISAL_REVIEWED)
    assert event.after == {"flagged_for_review": False, "accepted": True} and event.extra["comment"] == "同意"
    with pytest.raises(ConflictError):
        services.appraisal_review(actor=county, appraisal=appraisal, accept=True, comment="")


def test_review_guards(house, appraiser, county):
    appraisal = record(appraiser, house, final_grade="B", override_reason="理由")
    with pytest.raises(PermissionDenied):
        services.appraisal_review(actor=appraiser, appraisal=appraisal, accept=True, comment="")
    with pytest.raises(DomainError) as info:
        services.appraisal_review(actor=county, appraisal=appraisal, accept=False, comment="")
    assert "comment" in info.value.errors
    shenmu = factories.user("sm", factories.SHENMU, "county_manager")
    with pytest.raises(ScopeError):
        services.appraisal_review(actor=shenmu, appraisal=appraisal, accept=True, comment="")
    admin = factories.trained(factories.user("root", "610800000000", "admin"))
    own = record(admin, house, final_grade="B", override_reason="理由")
    with pytest.raises(ActionNotAllowed):
        services.appraisal_review(actor=admin, appraisal=own, accept=True, comment="")
    appraisal.refresh_from_db()
    assert appraisal.flagged_for_review


# -- component configuration -----------------------------------------------------------------------------------------


def test_the_city_edits_a_component_and_confirms_a_local_default():
    admin = factories.user("root", "610800000000", "admin")
    spec = ComponentSpec.objects.get(code="cave_arch")
    assert spec.is_local_default
    services.component_update(actor=admin, spec=spec, desc_b="发丝裂缝，宽度小于0.5毫米", confirm=True)
    spec.refresh_from_db()
    assert spec.desc_b == "发丝裂缝，宽度小于0.5毫米" and not spec.is_local_default
    event = Event.objects.get(action=Action.COMPONENT_CHANGED)
    assert event.after == {"desc_b": "发丝裂缝，宽度小于0.5毫米", "is_local_default": False}
    assert event.division_code == "610800000000"


def test_a_county_cannot_change_the_city_component_list(county):
    spec = ComponentSpec.objects.get(code="cave_arch")
    with pytest.raises(PermissionDenied):
        services.component_update(actor=county, spec=spec, desc_b="x")
    with pytest.raises(DomainError):
        services.component_update(actor=factories.user("root", "610800000000", "admin"), spec=spec, desc_b=" ")
    assert not Event.objects.filter(action=Action.COMPONENT_CHANGED).exists()


# -- the grade history's authority -----------------------------------------------------------------------------------


def test_the_appraiser_writes_the_grade_only_as_an_appraisal(house, appraiser, county):
    """registry.house_grade: an appraiser (no registry.change) may write source APPRAISAL, nothing else; a county
    manager still enters grades of paper appraisals."""
    from anju.registry.services import house_grade

    with pytest.raises(PermissionDenied):
        house_grade(actor=appraiser, house=house, grade="C", graded_on=TODAY, source=GradeSource.MANUAL)
    house_grade(actor=appraiser, house=house, grade="C", graded_on=TODAY, source=GradeSource.APPRAISAL)
    house_grade(actor=county, house=house, grade="B", graded_on=TODAY, source=GradeSource.APPRAISAL)
    assert GradeRecord.objects.filter(house=house).count() == 2


def test_the_appraisal_is_not_dated_before_the_report(house, appraiser):
    req = build.request(house, appraiser=appraiser, reported_on=TODAY - dt.timedelta(days=3))
    with pytest.raises(DomainError) as info:
        record(appraiser, house, request=req, appraised_on=TODAY - dt.timedelta(days=4))
    assert "早于上报日期" in info.value.errors["appraised_on"]


def test_a_structure_without_components_cannot_be_appraised(house, appraiser):
    ComponentSpec.objects.update(is_active=False)
    with pytest.raises(DomainError) as info:
        record(appraiser, house, components={})
    assert "尚未配置鉴定构件" in info.value.errors["components"]
