"""The yearly records (accounts.TrainingRecord, cases.CraftsmanTraining) move into the ledger on migration (P17)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from anju.testing import factories
from anju.testing.scope import ensure_base_divisions

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0002_trainingrecord"), ("cases", "0001_initial"), ("training", "0001_initial")]
AFTER = [("accounts", "0003_delete_trainingrecord"), ("cases", "0002_delete_craftsmantraining")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_rows_become_migrated_sessions_with_signed_in_attendees():
    ensure_base_divisions()
    village = factories.village(factories.YUYANG_TOWN).code
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate(BEFORE)
    try:
        User = old.get_model("accounts", "User")
        Craftsman = old.get_model("cases", "Craftsman")
        TrainingRecord = old.get_model("accounts", "TrainingRecord")
        CraftsmanTraining = old.get_model("cases", "CraftsmanTraining")
        a = User.objects.create(username="a", division_id=village, roles=["village_staff"])
        b = User.objects.create(username="b", division_id=factories.YUYANG_TOWN, roles=["town_staff"])
        city = User.objects.create(username="c", division_id="610800000000", roles=["admin"])
        User.objects.create(username="nowhere", roles=["appraiser"])
        TrainingRecord.objects.create(user=a, year=2024, trained_on=dt.date(2024, 3, 2), topic="核查培训")
        TrainingRecord.objects.create(user=b, year=2024, trained_on=dt.date(2024, 3, 2), topic="核查培训")
        TrainingRecord.objects.create(user=a, year=2023)
        TrainingRecord.objects.create(user=city, year=2024, trained_on=dt.date(2024, 3, 2), topic="核查培训")
        craftsman = Craftsman.objects.create(division_id="610802000000", name="工匠")
        CraftsmanTraining.objects.create(
            craftsman=craftsman, year=2024, trained_on=dt.date(2024, 3, 2), topic="核查培训"
        )

        new = migrate(AFTER)
        Session = new.get_model("training", "Session")
        Attendance = new.get_model("training", "Attendance")
        sessions = {(s.division_id, s.held_on, s.topic): s for s in Session.objects.all()}
        assert all(s.is_migrated for s in sessions.values())
        # one session per (organiser, day, topic): the county's holds a, b and the craftsman; the city's its admin
        county = sessions["610802000000", dt.date(2024, 3, 2), "核查培训"]
        assert set(county.attendances.values_list("user__username", "craftsman__name", "signed_in")) == {
            ("a", None, True),
            ("b", None, True),
            (None, "工匠", True),
        }
        assert sessions["610800000000", dt.date(2024, 3, 2), "核查培训"].attendances.get().user_id == city.pk
        undated = sessions["610802000000", dt.date(2023, 12, 31), "2023年度培训（原年度培训记录）"]
        assert undated.attendances.get().user_id == a.pk
        assert Attendance.objects.count() == 5
    finally:
        migrate(latest)
