"""Two people moving the same case at once cannot both succeed (DESIGN "Domain rules", P19), with real threads and
real connections: the row lock makes the second mover wait and then see the first one's result.

The threaded tests run on PostgreSQL, where the two transactions truly overlap and SELECT … FOR UPDATE decides.
On SQLite the test database lives in memory with a shared cache: a second writer gets "database table is locked"
at once (busy_timeout does not apply to shared-cache table locks), so the threads cannot overlap there. What the
lock protects against — two people who both loaded the case in the same state — is replayed deterministically on
every engine by the interleaving tests at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseState, SignOff
from anju.cases.services import cases as case_services
from anju.cases.services import renovation
from anju.cases.services.signoffs import LEVEL_ROLE, level_code, signoff_sign
from anju.core.errors import ConflictError
from anju.testing import cases, factories

from .services_world import *  # noqa: F403
from .services_world import TODAY

threaded = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's in-memory test database refuses a second concurrent writer instead of queueing it; "
    "run with DATABASE_URL=postgres://… (the interleaving tests below cover the logic on SQLite)",
)


def race(*moves: Callable[[], Any]) -> list[Any]:
    """Run `moves` in parallel threads released together; each returns its result or the exception it raised."""
    barrier = threading.Barrier(len(moves))
    results: list[Any] = [None] * len(moves)

    def run(index: int, move: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = move()
        except Exception as exc:  # the loser's error is the result under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, move)) for i, move in enumerate(moves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a mover hung"
    return results


def one_wins(results: list[Any]) -> tuple[Any, ConflictError]:
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], ConflictError), repr(losers[0])
    return winners[0], losers[0]


@threaded
@pytest.mark.django_db(transaction=True)
def test_two_completions_of_one_case_one_wins(case, manager):
    """P19, P22: both forms show 施工中; only one completion is recorded, the other is told the case moved on."""
    case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
    renovation.site_visit_add(actor=manager, case=case, visited_on=TODAY, findings="施工规范")
    version = Case.objects.get(pk=case.pk).version

    def complete():
        return renovation.case_complete(actor=manager, case=case, completed_on=TODAY)

    winner, loser = one_wins(race(complete, complete))
    assert winner.state == CaseState.COMPLETED
    assert "台账当前为「已竣工」，不能登记竣工" in loser.message
    stored = Case.objects.get(pk=case.pk)
    assert (stored.state, stored.version) == (CaseState.COMPLETED, version + 1)
    assert Event.objects.filter(action=Action.CASE_COMPLETED, object_id=str(case.pk)).count() == 1


@threaded
@pytest.mark.django_db(transaction=True)
def test_two_close_outs_of_one_case_one_wins(case, manager):
    """P2, P19: 解决一户，销号一户 — one close-out, one event, whatever two people click at once."""
    case = cases.sign(cases.advance(case, CaseState.ACCEPTED))
    version = case.version
    other = factories.user("second_manager", factories.YUYANG, "county_manager")

    def close(actor):
        return lambda: case_services.case_close(actor=actor, case=case, expected_version=version)

    winner, loser = one_wins(race(close(manager), close(other)))
    assert winner.state == CaseState.CLOSED
    assert loser.errors == {"version": "台账已更新"}
    assert Case.objects.get(pk=case.pk).closed_by_id == winner.closed_by_id
    assert Event.objects.filter(action=Action.CASE_CLOSED, object_id=str(case.pk)).count() == 1


@threaded
@pytest.mark.django_db(transaction=True)
def test_two_signatures_of_the_same_kind_and_level_one_wins(case):
    """P2: two people of the same village sign 问题清 at once — one signature, the other is refused."""
    code = level_code(case.division_id, "village")
    first = factories.user("village_a", code, LEVEL_ROLE["village"])
    second = factories.user("village_b", code, LEVEL_ROLE["village"])

    def sign(actor):
        return lambda: signoff_sign(actor=actor, case=case, kind="problem")

    winner, loser = one_wins(race(sign(first), sign(second)))
    assert loser.errors == {"kind": "本级已签字"}
    assert list(SignOff.objects.filter(case=case).values_list("signer", flat=True)) == [winner.signer_id]
    assert Event.objects.filter(action=Action.SIGNOFF_SIGNED, object_id=str(case.pk)).count() == 1


@pytest.mark.django_db
def test_two_people_who_loaded_the_case_before_either_moved_it_one_wins(case, manager):
    """P19: both pages were loaded while the case was 施工中; the second click finds it 已竣工 (the service reads
    the locked row, never the caller's copy)."""
    case = cases.advance(case, CaseState.UNDER_CONSTRUCTION)
    renovation.site_visit_add(actor=manager, case=case, visited_on=TODAY, findings="施工规范")
    first_page, second_page = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    renovation.case_complete(actor=manager, case=first_page, completed_on=TODAY)
    with pytest.raises(ConflictError) as exc:
        renovation.case_complete(actor=manager, case=second_page, completed_on=TODAY)
    assert exc.value.errors == {"state": "已竣工"}
    with pytest.raises(ConflictError) as exc:
        renovation.case_complete(
            actor=manager, case=second_page, completed_on=TODAY, expected_version=second_page.version
        )
    assert exc.value.errors == {"version": "台账已更新"}
    assert Event.objects.filter(action=Action.CASE_COMPLETED, object_id=str(case.pk)).count() == 1


@pytest.mark.django_db
def test_a_second_signer_of_the_same_level_is_refused(case):
    """P2: two people of one village, one after the other: the second is told the level has signed."""
    code = level_code(case.division_id, "village")
    first = factories.user("village_a", code, LEVEL_ROLE["village"])
    second = factories.user("village_b", code, LEVEL_ROLE["village"])
    signoff_sign(actor=first, case=case, kind="problem")
    with pytest.raises(ConflictError) as exc:
        signoff_sign(actor=second, case=case, kind="problem")
    assert exc.value.errors == {"kind": "本级已签字"}
    assert SignOff.objects.filter(case=case).count() == 1
