"""The training ledger's services (P17, P22), against the real database: who may record what, where, and what
counts as trained."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from anju.accounts.training import is_trained
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Craftsman
from anju.cases.services.registries import craftsman_training_add
from anju.cases.services.registries import is_trained as craftsman_trained
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.testing import factories
from anju.training.models import Attendance, Session
from anju.training.services import attendee_add, attendee_remove, session_create, session_update, training_record

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
HELD = TODAY - dt.timedelta(days=1)


@pytest.fixture
def manager():
    return factories.user("yy", factories.YUYANG, "county_manager")


@pytest.fixture
def checker():
    return factories.user("cun", factories.village(factories.YUYANG_TOWN).code, "village_staff")


def new_session(actor, **values):
    data = {"division_code": factories.YUYANG, "held_on": HELD, "topic": "核查培训", "hours": 2} | values
    return session_create(actor=actor, **data)


def test_a_session_and_its_signed_in_attendees_make_people_trained(manager, checker):
    """policy: P17 — signed in at a session of the year = trained that year."""
    craftsman = Craftsman.objects.create(division_id=factories.YUYANG, name="工匠甲")
    since = Event.objects.count()
    session = new_session(manager, users=[checker], craftsmen=[craftsman], trainer="县住建局", place="会议室")
    assert is_trained(checker, HELD.year) and craftsman_trained(craftsman, HELD.year)
    assert not is_trained(checker, HELD.year + 1)
    events = list(Event.objects.order_by("id")[since:])
    assert [e.action for e in events] == [Action.TRAINING_SESSION_CREATED]
    assert events[0].division_code == factories.YUYANG
    assert events[0].after["users"] == [checker.pk] and events[0].after["craftsmen"] == [craftsman.pk]
    assert session.created_by == manager


def test_planned_session_lists_people_who_are_not_trained_yet(manager, checker):
    """policy: P17 — the list is not the sign-in sheet; nobody signs in before the day."""
    future = TODAY + dt.timedelta(days=10)
    session = new_session(manager, held_on=future, users=[checker], signed_in=False)
    assert not is_trained(checker, future.year)
    with pytest.raises(DomainError) as info:
        attendee_add(actor=manager, session=session, user=checker, signed_in=True)
    assert "signed_in" in info.value.errors
    with pytest.raises(DomainError) as info:
        new_session(manager, held_on=future, users=[checker])
    assert "held_on" in info.value.errors
    other = factories.user("cun9", checker.division_id, "village_staff")
    session_update(actor=manager, session=session, users=[checker, other], craftsmen=[])
    assert not session.attendances.filter(signed_in=True).exists()  # joining a planned session is not signing in


def test_only_the_county_records_and_only_in_its_subtree(manager, checker):
    """policy: P17 — the county keeps the ledger (training.manage); towns and villages read it."""
    town = factories.user("zhen", factories.YUYANG_TOWN, "town_staff")
    with pytest.raises(PermissionDenied):
        new_session(town)
    with pytest.raises(ScopeError):
        new_session(manager, division_code=factories.SHENMU)
    shenmu_staff = factories.user("sm", factories.village(factories.SHENMU_TOWN).code, "village_staff")
    with pytest.raises(ScopeError) as info:
        new_session(manager, users=[checker, shenmu_staff])
    assert shenmu_staff.get_full_name() in info.value.message
    village = factories.village(factories.YUYANG_TOWN).code
    with pytest.raises(DomainError) as info:
        new_session(manager, division_code=village)
    assert "division" in info.value.errors
    assert not Session.objects.exists()


def test_a_town_session_trains_its_own_staff_and_its_countys_craftsmen(manager, checker):
    """Craftsmen register with the county and work in its towns; staff of another town are not this town's."""
    craftsman = Craftsman.objects.create(division_id=factories.YUYANG, name="工匠乙")
    sibling = factories.user("zhen2", factories.YUYANG_TOWN_2, "town_staff")
    session = new_session(manager, division_code=factories.YUYANG_TOWN, users=[checker], craftsmen=[craftsman])
    assert session.attendances.count() == 2
    with pytest.raises(ScopeError):
        attendee_add(actor=manager, session=session, user=sibling)


def test_fields_are_checked(manager):
    with pytest.raises(DomainError) as info:
        new_session(manager, topic=" ", hours=101, kind="nonsense")
    assert set(info.value.errors) == {"topic", "hours", "kind"}
    with pytest.raises(DomainError) as info:
        new_session(manager, materials=SimpleUploadedFile("x.exe", b"MZ"))
    assert "materials" in info.value.errors
    session = new_session(manager, materials=SimpleUploadedFile("讲义.pdf", b"%PDF-1.4"))
    assert session.materials.name.endswith(".pdf")


def test_attendee_add_sign_and_remove_each_leave_one_event(manager, checker):
    session = new_session(manager)
    since = Event.objects.count()
    attendance = attendee_add(actor=manager, session=session, user=checker, signed_in=False)
    assert not is_trained(checker, HELD.year)
    with pytest.raises(ConflictError):
        attendee_add(actor=manager, session=session, user=checker, signed_in=False)
    attendee_add(actor=manager, session=session, user=checker, signed_in=True)
    assert is_trained(checker, HELD.year)
    attendee_remove(actor=manager, attendance=Attendance.objects.get(pk=attendance.pk))
    assert not is_trained(checker, HELD.year)
    actions = list(Event.objects.order_by("id").values_list("action", flat=True)[since:])
    assert actions == [Action.TRAINING_ATTENDEE_ADDED] * 2 + [Action.TRAINING_ATTENDEE_REMOVED]
    with pytest.raises(DomainError):
        attendee_add(actor=manager, session=session)


def test_update_replaces_the_list_and_keeps_sign_ins(manager, checker):
    other = factories.user("cun2", checker.division_id, "village_staff")
    session = new_session(manager, users=[checker], signed_in=False)
    since = Event.objects.count()
    session_update(actor=manager, session=session, users=[checker, other], craftsmen=[], topic="核查培训（补）")
    rows = dict(session.attendances.values_list("user_id", "signed_in"))
    assert rows == {checker.pk: False, other.pk: True}
    event = Event.objects.order_by("id")[since]
    assert event.action == Action.TRAINING_SESSION_CHANGED
    assert event.before == {"topic": "核查培训", "users": [checker.pk]}
    assert event.after["users"] == sorted([checker.pk, other.pk])
    session_update(actor=manager, session=session, users=[other], craftsmen=[])
    assert list(session.attendances.values_list("user_id", flat=True)) == [other.pk]


def test_training_record_in_one_step_files_into_the_countys_session(manager, checker):
    """policy: P17 — "trained in year Y" (command, craftsmen page) becomes a session of the ledger."""
    first = training_record(actor=manager, user=checker, year=HELD.year, trained_on=HELD, topic="核查培训")
    other = factories.user("cun3", checker.division_id, "village_staff")
    second = training_record(actor=manager, user=other, year=HELD.year, trained_on=HELD, topic="核查培训")
    assert first.session_id == second.session_id and first.session.division_id == factories.YUYANG
    with pytest.raises(ConflictError):
        training_record(actor=manager, user=checker, year=HELD.year, trained_on=HELD, topic="核查培训")
    with pytest.raises(DomainError) as info:
        training_record(actor=manager, user=checker, year=HELD.year - 1, trained_on=HELD)
    assert "trained_on" in info.value.errors
    with pytest.raises(DomainError):
        training_record(actor=manager, user=checker, year=TODAY.year + 1)
    shenmu = factories.user("smjd", factories.SHENMU, "appraiser")
    with pytest.raises(ScopeError):
        training_record(actor=manager, user=shenmu, year=TODAY.year)
    craftsman = Craftsman.objects.create(division_id=factories.YUYANG, name="工匠丙")
    craftsman_training_add(actor=manager, craftsman=craftsman, year=TODAY.year - 1)
    assert craftsman_trained(craftsman, TODAY.year - 1) and not craftsman_trained(craftsman, TODAY.year)


def test_command_add_keeps_its_name_and_arguments(manager, checker, tmp_path):
    call_command("training", "add", "cun", "--year", str(TODAY.year), "--topic", "核查培训", "--as", "yy")
    assert is_trained(checker, TODAY.year)
    call_command("training", "add", "yy", "--date", HELD.isoformat())  # the system actor
    assert is_trained(manager, HELD.year)
    with pytest.raises(CommandError):
        call_command("training", "add", "nobody")
    with pytest.raises(CommandError):
        call_command("training", "add", "cun", "--date", "2026/13/40")
