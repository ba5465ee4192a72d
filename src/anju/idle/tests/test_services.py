"""The idle list's services (P11): who may list which house, what a visit must say, securing with a photo, the
end of a listing, stale forms; each write one audit event."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.idle import services
from anju.idle.models import IdleHouse, IdleVisit
from anju.testing import factories

from .builders import LISTED, dangerous_house, listing, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def officer(village):
    return factories.user("idle_officer", village.code, "village_staff")


def test_p11_listing_sets_the_first_visit_one_interval_after_listing(village, officer):
    house = dangerous_house(village, "D")
    idle = services.idle_list(
        actor=officer, house=house, listed_on=LISTED, watcher=officer, visit_interval_days=15, note="外出务工"
    )
    assert (idle.grade, idle.watcher_name, idle.visit_interval_days) == ("D", "idle_officer", 15)
    assert idle.next_visit_due_on == LISTED + dt.timedelta(days=15)
    event = Event.objects.get(action=Action.IDLE_LISTED)
    assert (event.actor_id, event.object_id, event.division_code) == (officer.pk, str(idle.pk), village.code)


def test_p11_only_dangerous_houses_are_listed(village, officer):
    house = factories.house(factories.household(village), grade="B", graded_on=dt.date(2025, 1, 1))
    with pytest.raises(DomainError) as exc:
        services.idle_list(actor=officer, house=house, listed_on=LISTED, watcher=officer)
    assert "C级或D级" in exc.value.errors["house"]
    assert not IdleHouse.objects.exists()


def test_p11_one_open_listing_per_house(village, officer):
    idle = listing(village)
    with pytest.raises(ConflictError):
        services.idle_list(actor=officer, house=idle.house, listed_on=LISTED, watcher=officer)
    services.idle_end(actor=officer, idle=idle, ended_on=dt.date(2025, 4, 1), reason="renovated")
    again = services.idle_list(actor=officer, house=idle.house, listed_on=dt.date(2025, 5, 1), watcher=officer)
    assert again.pk != idle.pk


def test_p11_a_watcher_without_account_needs_a_phone(village, officer):
    house = dangerous_house(village)
    with pytest.raises(DomainError) as exc:
        services.idle_list(actor=officer, house=house, listed_on=LISTED, watcher_name="王五")
    assert "watcher_phone" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.idle_list(actor=officer, house=house, listed_on=LISTED, watcher=officer, visit_interval_days=0)
    assert "visit_interval_days" in exc.value.errors


def test_p11_a_watcher_of_another_county_is_refused(village, officer):
    stranger = factories.user("shenmu_watcher", factories.SHENMU_TOWN, "town_staff")
    with pytest.raises(DomainError) as exc:
        services.idle_list(actor=officer, house=dangerous_house(village), listed_on=LISTED, watcher=stranger)
    assert "watcher" in exc.value.errors


def test_roles_and_scope(village):
    house = dangerous_house(village)
    for role in ("department", "appraiser", "city_supervisor"):
        with pytest.raises(PermissionDenied):
            services.idle_list(
                actor=factories.user(f"idle_{role}", factories.YUYANG, role),
                house=house,
                listed_on=LISTED,
                watcher_name="王五",
                watcher_phone="13800000001",
            )
    other = factories.user("idle_shenmu", factories.SHENMU, "county_manager")
    with pytest.raises(ScopeError):
        services.idle_list(actor=other, house=house, listed_on=LISTED, watcher_name="王五", watcher_phone="13800000001")
    assert not IdleHouse.objects.exists()


def test_p11_an_incident_needs_what_was_done(village, officer):
    idle = listing(village)
    with pytest.raises(DomainError) as exc:
        services.idle_visit(actor=officer, idle=idle, visited_on=dt.date(2025, 3, 20), result="occupied")
    assert "action_taken" in exc.value.errors
    visit = services.idle_visit(
        actor=officer, idle=idle, visited_on=dt.date(2025, 3, 20), result="occupied", action_taken="已劝离并加锁"
    )
    idle.refresh_from_db()
    assert (idle.last_visited_on, idle.last_result) == (dt.date(2025, 3, 20), "occupied")
    assert idle.next_visit_due_on == dt.date(2025, 4, 19)
    assert visit.visitor_name == "idle_officer"
    # a late entry of an earlier visit does not hide the latest one
    services.idle_visit(actor=officer, idle=idle, visited_on=dt.date(2025, 3, 10), result="empty")
    idle.refresh_from_db()
    assert idle.last_result == "occupied"
    assert IdleVisit.objects.filter(idle_house=idle).count() == 2


def test_p11_visits_not_before_listing_nor_in_the_future(village, officer):
    idle = listing(village)
    for day in (LISTED - dt.timedelta(days=1), dt.date.today() + dt.timedelta(days=1)):
        with pytest.raises(DomainError) as exc:
            services.idle_visit(actor=officer, idle=idle, visited_on=day, result="empty")
        assert "visited_on" in exc.value.errors


def test_p11_secure_seal_then_sign_with_photo(village, officer, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    idle = listing(village)
    with pytest.raises(DomainError) as exc:
        services.idle_secure(actor=officer, idle=idle)
    assert "sealed_on" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.idle_secure(actor=officer, idle=idle, sealed_on=dt.date(2025, 3, 2))
    assert "sealed_by" in exc.value.errors
    idle = services.idle_secure(actor=officer, idle=idle, sealed_on=dt.date(2025, 3, 2), sealed_by="村主任")
    assert not idle.is_secured
    with pytest.raises(DomainError) as exc:
        services.idle_secure(actor=officer, idle=idle, sign_posted_on=dt.date(2025, 3, 3))
    assert "sign_photo" in exc.value.errors
    idle = services.idle_secure(actor=officer, idle=idle, sign_posted_on=dt.date(2025, 3, 3), sign_photo=png())
    assert idle.is_secured and idle.sign_photo_sha256 and (tmp_path / idle.sign_photo.name).exists()
    assert Event.objects.filter(action=Action.IDLE_SECURED).count() == 2
    with pytest.raises(DomainError) as exc:
        bad = png()
        bad.file.write(b"garbage")
        bad.file.seek(0)
        bad.file.truncate(10)
        services.idle_secure(actor=officer, idle=idle, sign_posted_on=dt.date(2025, 3, 4), sign_photo=bad)
    assert "sign_photo" in exc.value.errors


def test_p11_end_stops_changes_and_stale_forms_are_refused(village, officer):
    idle = listing(village)
    with pytest.raises(ConflictError):
        services.idle_visit(
            actor=officer, idle=idle, visited_on=dt.date(2025, 3, 5), result="empty", expected_version=idle.version + 1
        )
    with pytest.raises(DomainError) as exc:
        services.idle_end(actor=officer, idle=idle, ended_on=dt.date(2025, 4, 1), reason="other")
    assert "end_note" in exc.value.errors
    services.idle_end(actor=officer, idle=idle, ended_on=dt.date(2025, 4, 1), reason="demolished")
    with pytest.raises(ConflictError):
        services.idle_visit(actor=officer, idle=idle, visited_on=dt.date(2025, 4, 2), result="empty")
    assert Event.objects.filter(action=Action.IDLE_ENDED).count() == 1


def test_update_moves_the_next_visit_with_the_interval(village, officer):
    idle = listing(village)
    services.idle_visit(actor=officer, idle=idle, visited_on=dt.date(2025, 3, 10), result="empty")
    idle = services.idle_update(
        actor=officer, idle=IdleHouse.objects.get(pk=idle.pk), watcher=officer, visit_interval_days=7
    )
    assert idle.next_visit_due_on == dt.date(2025, 3, 17)
    event = Event.objects.filter(action=Action.IDLE_CHANGED).get()
    assert event.after["visit_interval_days"] == 7 and event.before["visit_interval_days"] == 30
