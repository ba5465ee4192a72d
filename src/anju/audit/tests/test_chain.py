"""The hash chain catches an edited, a deleted and a truncated event (tampering the table directly)."""

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.audit.services import chain_verify, event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    Event.objects.all().delete()
    from anju.audit.models import ChainHead

    ChainHead.objects.all().delete()
    return [
        event_record(actor=None, action=Action.DIVISIONS_IMPORTED, division_code="610802000000", extra={"n": i})
        for i in range(5)
    ]


def test_intact_chain_verifies(chain, capsys):
    assert chain_verify() is None
    call_command("audit", "verify")
    assert "完整" in capsys.readouterr().out


def test_each_event_points_to_the_previous(chain):
    assert chain[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash


def test_edited_event_is_named(chain):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET actor_name = %s WHERE id = %s", ["冒名", chain[2].pk])
    problem = chain_verify()
    assert problem is not None and problem.event_id == chain[2].pk
    with pytest.raises(CommandError) as info:
        call_command("audit", "verify")
    assert f"#{chain[2].pk}" in str(info.value)


def test_edited_json_payload_is_caught(chain):
    Event.objects.filter(pk=chain[1].pk).update(extra={"n": 99})
    assert chain_verify().event_id == chain[1].pk


def test_deleted_event_is_named(chain):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_event WHERE id = %s", [chain[2].pk])
    problem = chain_verify()
    assert problem is not None and problem.event_id == chain[3].pk
    assert "删除" in problem.message


def test_deleted_newest_event_is_caught(chain):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_event WHERE id = %s", [chain[-1].pk])
    problem = chain_verify()
    assert problem is not None and problem.event_id == chain[-1].pk


def test_recomputed_hash_without_relinking_is_caught(chain):
    """A forger who fixes the edited event's own hash still breaks the next event's link."""
    from anju.audit.services import event_hash

    event = Event.objects.get(pk=chain[1].pk)
    event.actor_name = "冒名"
    Event.objects.filter(pk=event.pk).update(actor_name="冒名", hash=event_hash(event))
    assert chain_verify().event_id == chain[2].pk
