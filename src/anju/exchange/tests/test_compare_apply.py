"""Applying comparison findings (P6): categories added and ended, registration tasks, audit events, no-op on
re-apply, who may apply, and closing a task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.models import Event
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.exchange.compare import comparison_run
from anju.exchange.models import ComparisonSet, RegistrationTask, TaskStatus
from anju.exchange.selectors import comparison_list, task_list
from anju.exchange.services import (
    comparison_apply_all,
    comparison_apply_categories,
    comparison_apply_tasks,
    task_close,
)
from anju.exchange.tests.test_compare import build_case, write_list
from anju.registry.models import HouseholdCategory
from anju.testing import factories as f

pytestmark = pytest.mark.django_db

ALL = [ComparisonSet.CATEGORY_MISSING, ComparisonSet.NO_LONGER_LISTED, ComparisonSet.NOT_IN_REGISTRY]


@pytest.fixture
def compared(tmp_path):
    case = build_case()
    path = write_list(tmp_path / "list.xlsx", case.rows)
    return case, comparison_run(actor=case.manager, path=path, source="民政").comparison


def test_apply_all_writes_the_registry_and_one_event_per_set(compared):
    case, comparison = compared
    h = case.households
    done = comparison_apply_all(actor=case.manager, comparison=comparison, results=ALL)
    assert done == {
        ComparisonSet.CATEGORY_MISSING: {"items": 1, "added": 1},
        ComparisonSet.NO_LONGER_LISTED: {"items": 2, "ended": 2},
        ComparisonSet.NOT_IN_REGISTRY: {"items": 2, "tasks": 1},
    }
    added = HouseholdCategory.objects.get(household=h["missing_category"])
    assert (added.category.code, added.certified_on, added.ended_on) == ("dibao", dt.date(2024, 3, 1), None)
    today = comparison.created_at.date()
    assert HouseholdCategory.objects.get(household=h["no_longer"]).ended_on == today
    assert HouseholdCategory.objects.get(household=h["ok_unsafe"]).ended_on is None
    # 新人 goes to the village the list names; 冯九 is registered in 神木市, so no task.
    task = RegistrationTask.objects.get()
    assert (task.name, task.division_id, task.status) == ("新人", case.village.code, "open")
    assert task.source == "civil_affairs"
    assert task.comparison == comparison and task.category_code == "dibao"
    events = Event.objects.filter(action="exchange.comparison.applied").order_by("id")
    assert [e.extra["result"] for e in events] == ALL
    assert all(e.actor == case.manager and e.object_id == str(comparison.pk) for e in events)
    assert not comparison.items.filter(result__in=ALL, applied_at__isnull=True).exists()
    assert comparison.items.filter(result=ComparisonSet.CATEGORY_MISSING).get().applied_by == case.manager

    again = comparison_apply_all(actor=case.manager, comparison=comparison, results=ALL)
    assert again == {result: {"items": 0, **{k: 0 for k in done[result] if k != "items"}} for result in ALL}
    assert Event.objects.filter(action="exchange.comparison.applied").count() == 3
    assert RegistrationTask.objects.count() == 1 and HouseholdCategory.objects.filter(ended_on=today).count() == 2


def test_apply_skips_what_was_done_by_hand_meanwhile(compared):
    """The category was added by hand after the comparison: applying marks the finding, adds nothing twice."""
    case, comparison = compared
    HouseholdCategory.objects.create(
        household=case.households["missing_category"],
        category_id=HouseholdCategory.objects.first().category_id,
        division=case.village,
    )
    assert comparison_apply_categories(actor=case.manager, comparison=comparison) == {"items": 1, "added": 0}


def test_only_county_managers_apply(compared):
    case, comparison = compared
    town = f.user("town", f.YUYANG_TOWN, "town_staff")
    with pytest.raises(PermissionDenied, match="无权"):  # exchange.apply: county managers and the admin
        comparison_apply_tasks(actor=town, comparison=comparison)
    neighbour = f.user("shenmu", f.SHENMU, "county_manager")
    with pytest.raises(ScopeError):
        comparison_apply_tasks(actor=neighbour, comparison=comparison)
    with pytest.raises(DomainError, match="不能自动处理"):
        comparison_apply_all(actor=case.manager, comparison=comparison, results=[ComparisonSet.NAME_DIFFERS])
    assert not RegistrationTask.objects.exists()
    assert not Event.objects.filter(action="exchange.comparison.applied").exists()


def test_reads_are_scoped(compared):
    case, comparison = compared
    comparison_apply_tasks(actor=case.manager, comparison=comparison)
    village_staff = f.user("village", case.village.code, "village_staff")
    neighbour = f.user("shenmu", f.SHENMU, "county_manager")
    assert list(comparison_list(actor=case.manager)) == [comparison]
    assert not comparison_list(actor=neighbour).exists()
    assert task_list(actor=village_staff, status=TaskStatus.OPEN).count() == 1
    assert not task_list(actor=neighbour).exists()


def test_task_close(compared):
    case, comparison = compared
    comparison_apply_tasks(actor=case.manager, comparison=comparison)
    task = RegistrationTask.objects.get()
    village_staff = f.user("village", case.village.code, "village_staff")
    with pytest.raises(DomainError, match="请先登记"):
        task_close(actor=village_staff, task=task, status=TaskStatus.DONE)
    with pytest.raises(DomainError, match="原因"):
        task_close(actor=village_staff, task=task, status=TaskStatus.DISMISSED)
    household = f.household(case.village, head_name="新人", id_number=case.ids["new"])
    closed = task_close(actor=village_staff, task=task, status=TaskStatus.DONE, note="已入户登记")
    assert (closed.status, closed.household, closed.note) == (TaskStatus.DONE, household, "已入户登记")
    event = Event.objects.get(action="exchange.task.closed")
    assert event.actor == village_staff and event.after["household"] == household.pk
    with pytest.raises(ConflictError):
        task_close(actor=village_staff, task=task, status=TaskStatus.DISMISSED, note="重复")
