"""The chain's services (P18 市包县、县包镇、镇包村户): the level rule, who may be named, history kept, audit, and
the alerts re-named once an assignment commits."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import ActionNotAllowed, ConflictError, DomainError, ScopeError
from anju.divisions.models import Division
from anju.policy.models import Alert, AlertStatus
from anju.policy.tests.builders import listed_household
from anju.responsibility.models import Assignment
from anju.responsibility.services import assignment_assign, assignment_end
from anju.testing import factories

from .world import assign, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def staff(village):
    return {
        "admin": factories.user("city_admin", "610800000000", "admin"),
        "county": factories.user("yy_manager", factories.YUYANG, "county_manager"),
        "town": factories.user("gl_staff", factories.YUYANG_TOWN, "town_staff"),
        "village": factories.user("cun_staff", village.code, "village_staff"),
        "supervisor": factories.user("dudao", "610800000000", "city_supervisor"),
    }


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def test_each_level_is_named_by_the_level_above_p18(village, staff):
    """policy: P18 — 市包县 (admin → county), 县包镇 (county → town), 镇包村户 (town → village, household)."""
    county = assignment_assign(actor=staff["admin"], person=staff["county"], division=division(factories.YUYANG))
    town = assignment_assign(actor=staff["county"], person=staff["town"], division=division(factories.YUYANG_TOWN))
    cun = assignment_assign(actor=staff["town"], person=staff["village"], division=village)
    household = factories.household(village)
    own = assignment_assign(actor=staff["town"], person=staff["village"], household=household, phone="13800000000")
    assert [(a.level, a.division_id) for a in (county, town, cun, own)] == [
        ("county", factories.YUYANG), ("town", factories.YUYANG_TOWN), ("village", village.code),
        ("household", village.code),
    ]  # fmt: skip
    assert own.household == household and own.phone == "13800000000" and own.assigned_by == staff["town"]
    events = Event.objects.filter(action=Action.RESPONSIBLE_ASSIGNED).order_by("id")
    assert [(e.actor_id, e.division_code) for e in events] == [
        (staff["admin"].pk, factories.YUYANG), (staff["county"].pk, factories.YUYANG_TOWN),
        (staff["town"].pk, village.code), (staff["town"].pk, village.code),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("actor", "target", "message"),
    [
        ("county", "county", "县（市、区）的包抓责任人由系统管理员指定"),
        ("admin", "town", "乡镇（街道）的包抓责任人由县级管理员指定"),
        ("county", "village", "行政村（社区）的包抓责任人由乡镇人员指定"),
        ("admin", "village", "行政村（社区）的包抓责任人由乡镇人员指定"),
        ("town", "town", "乡镇（街道）的包抓责任人由县级管理员指定"),
    ],
)
def test_any_other_level_is_refused_in_chinese_p18(village, staff, actor, target, message):
    """policy: P18 — each level answers to the one just above it."""
    codes = {"county": factories.YUYANG, "town": factories.YUYANG_TOWN, "village": village.code}
    with pytest.raises(ActionNotAllowed) as exc:
        assignment_assign(actor=staff[actor], person=staff["town"], division=division(codes[target]))
    assert exc.value.message.startswith(message)
    assert not Assignment.objects.exists() and not Event.objects.filter(action=Action.RESPONSIBLE_ASSIGNED).exists()


def test_roles_without_the_action_and_other_subtrees_are_refused(village, staff):
    with pytest.raises(PermissionDenied):
        assignment_assign(actor=staff["supervisor"], person=staff["county"], division=division(factories.YUYANG))
    other_town = factories.user("t2", factories.YUYANG_TOWN_2, "town_staff")
    with pytest.raises(ScopeError):
        assignment_assign(actor=other_town, person=staff["village"], division=village)
    assert not Assignment.objects.exists()


def test_the_person_works_in_the_division_or_just_above_p18(village, staff):
    """policy: P18 — a village's person is staff of the village or of its town; not of the county, not elsewhere."""
    for outsider in (
        staff["county"],
        factories.user("v2", factories.village(factories.YUYANG_TOWN, 2).code, "village_staff"),
    ):
        with pytest.raises(DomainError) as exc:
            assignment_assign(actor=staff["town"], person=outsider, division=village)
        assert exc.value.errors["person"] == "责任人须为本级或上一级区划的在岗人员"
    staff["village"].is_active = False
    staff["village"].save()
    with pytest.raises(DomainError):
        assignment_assign(actor=staff["town"], person=staff["village"], division=village)
    with pytest.raises(DomainError) as exc:
        assignment_assign(actor=staff["town"], person=None, division=village)
    assert exc.value.errors == {"person": "请选择责任人"}
    assignment_assign(actor=staff["town"], person=staff["town"], division=village)  # the town's own staff: fine


def test_a_change_ends_the_old_row_and_keeps_it_p18(village, staff):
    """policy: P18 — complete archives: never overwritten; the old person ends when the new one starts."""
    first = assignment_assign(actor=staff["town"], person=staff["village"], division=village, reason="初次指定")
    with pytest.raises(ConflictError):
        assignment_assign(actor=staff["town"], person=staff["village"], division=village)
    second = assignment_assign(actor=staff["town"], person=staff["town"], division=village, reason="人员调整")
    first.refresh_from_db()
    assert first.ended_at == second.started_at and first.ended_by == staff["town"] and first.end_reason == "人员调整"
    assert list(Assignment.objects.filter(division=village).order_by("id")) == [first, second]
    event = Event.objects.filter(action=Action.RESPONSIBLE_ASSIGNED).latest("id")
    assert event.before == {"person": staff["village"].pk, "person_name": staff["village"].get_full_name()}
    assert event.extra["ended"] == first.pk


def test_end_needs_a_reason_and_happens_once(village, staff):
    row = assignment_assign(actor=staff["town"], person=staff["village"], division=village)
    with pytest.raises(DomainError) as exc:
        assignment_end(actor=staff["town"], assignment=row, reason=" ")
    assert exc.value.errors == {"reason": "请填写解除原因"}
    with pytest.raises(ActionNotAllowed):
        assignment_end(actor=staff["county"], assignment=row, reason="调离")
    ended = assignment_end(actor=staff["town"], assignment=row, reason="调离")
    assert ended.ended_at is not None and ended.end_reason == "调离"
    with pytest.raises(ConflictError):
        assignment_end(actor=staff["town"], assignment=row, reason="再次")
    assert Event.objects.filter(action=Action.RESPONSIBLE_ENDED).count() == 1


def test_one_active_person_per_target_is_a_database_constraint(village, staff):
    """The partial unique indexes back the service: two active rows for one village or one household fail."""
    assign(village, staff["village"])
    with pytest.raises(IntegrityError), transaction.atomic():
        assign(village, staff["town"])
    household = factories.household(village)
    assign(household, staff["village"])
    with pytest.raises(IntegrityError), transaction.atomic():
        assign(household, staff["town"])


def test_alerts_name_the_new_person_once_the_assignment_commits_p18(village, staff, django_capture_on_commit_callbacks):
    """policy: P18 — every alert names the responsible person from the chain, right after the chain changes."""
    household = listed_household(village)
    alert = Alert.objects.get(household=household, status=AlertStatus.OPEN)
    assert alert.responsible == staff["village"]  # nobody named: the village staff (the rule before the chain)
    officer = person(factories.YUYANG_TOWN, "town_staff", name="包村干部")
    with django_capture_on_commit_callbacks(execute=True):
        assignment_assign(actor=staff["town"], person=officer, division=village)
    alert.refresh_from_db()
    assert (alert.responsible, alert.responsible_name) == (officer, "包村干部")
    with django_capture_on_commit_callbacks(execute=True):
        row = assignment_assign(actor=staff["town"], person=staff["village"], household=household)
    alert.refresh_from_db()
    assert alert.responsible == staff["village"]  # the household's own person wins
    with django_capture_on_commit_callbacks(execute=True):
        assignment_end(actor=staff["town"], assignment=row, reason="调离")
    alert.refresh_from_db()
    assert alert.responsible == officer  # back to the village's person
