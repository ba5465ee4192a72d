"""P17.untrained at its boundary: from 1 March, everyone who checks, appraises or builds needs this year's training."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.cases.models import Craftsman
from anju.policy.models import Alert, AlertStatus
from anju.policy.rules import Context, rule_get
from anju.policy.services import alerts_refresh
from anju.testing import cases, factories
from anju.training.models import Attendance
from anju.training.rules import SEASON_START

pytestmark = pytest.mark.django_db

RULE = "P17.untrained"
YEAR = dt.date.today().year
LAST_DAY_BEFORE = dt.date(YEAR, 2, 28)
SEASON = dt.date(YEAR, 3, 1)


@pytest.fixture
def people():
    village = factories.village(factories.YUYANG_TOWN).code
    return {
        "untrained": factories.user("cun_a", village, "village_staff"),
        "trained": factories.trained(factories.user("cun_b", village, "village_staff"), YEAR),
        "last_year": factories.trained(factories.user("jd", factories.YUYANG, "appraiser"), YEAR - 1),
        "reader": factories.user("bumen", factories.YUYANG, "department"),
        "supervisor": factories.user("dudao", "610800000000", "city_supervisor"),
        "craftsman": Craftsman.objects.create(division_id=factories.YUYANG, name="未培训工匠"),
        "trained_craftsman": cases.train(Craftsman.objects.create(division_id=factories.YUYANG, name="工匠"), YEAR),
    }


def found(today: dt.date) -> dict[tuple[str, int], object]:
    return {(f.object_type, f.object_id): f for f in rule_get(RULE).evaluate(Context(today=today))}


def test_season_starts_on_1_march():
    assert SEASON_START == (3, 1)


def test_nothing_before_1_march_and_the_untrained_from_1_march(people):
    """policy: P17 — raises on 1 March, not on 28 February."""
    assert found(LAST_DAY_BEFORE) == {}
    flagged = found(SEASON)
    assert set(flagged) == {
        ("accounts.user", people["untrained"].pk),
        ("accounts.user", people["last_year"].pk),
        ("cases.craftsman", people["craftsman"].pk),
    }
    finding = flagged["accounts.user", people["untrained"].pk]
    assert finding.division_code == people["untrained"].division_id
    assert finding.due_on == SEASON
    assert f"{YEAR}年度培训" in finding.message and "P17" in finding.message
    assert flagged["cases.craftsman", people["craftsman"].pk].division_code == factories.YUYANG


def test_on_the_list_without_signing_in_or_inactive(people):
    """policy: P17 — a list without a sign-in is not a training; people who left are not flagged."""
    person = people["trained"]
    Attendance.objects.filter(user=person).update(signed_in=False)
    assert ("accounts.user", person.pk) in found(SEASON)
    people["untrained"].is_active = False
    people["untrained"].save()
    Craftsman.objects.filter(pk=people["craftsman"].pk).update(is_active=False)
    flagged = found(SEASON)
    assert ("accounts.user", people["untrained"].pk) not in flagged
    assert ("cases.craftsman", people["craftsman"].pk) not in flagged


def test_refresh_opens_alerts_then_training_resolves_them(people):
    alerts_refresh(today=LAST_DAY_BEFORE, rule_ids=[RULE])
    assert not Alert.objects.filter(rule_id=RULE).exists()
    alerts_refresh(today=SEASON, rule_ids=[RULE])
    open_alerts = Alert.objects.filter(rule_id=RULE, status=AlertStatus.OPEN)
    assert open_alerts.count() == 3
    alert = open_alerts.get(object_type="accounts.user", object_id=people["untrained"].pk)
    assert (alert.division_id, alert.severity, alert.household_id) == (people["untrained"].division_id, "warning", None)
    factories.trained(people["untrained"], YEAR)
    alerts_refresh(today=SEASON, rule_ids=[RULE])
    assert open_alerts.count() == 2
    # a per-household refresh says nothing about people and resolves nothing
    alerts_refresh(today=SEASON, rule_ids=[RULE], household_ids=[1])
    assert open_alerts.count() == 2
