"""P17 training records: who may record them, and the gate that reads them."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from anju.accounts.models import TrainingRecord
from anju.accounts.services import training_record
from anju.accounts.training import is_trained, require_trained
from anju.core.errors import ConflictError, DomainError, ScopeError
from anju.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return factories.user("yy", factories.YUYANG, "county_manager")


def test_gate_refuses_the_untrained_with_the_policy_reason(manager):
    checker = factories.user("cun", factories.village(factories.YUYANG_TOWN).code, "village_staff")
    with pytest.raises(DomainError) as info:
        require_trained(checker, on=dt.date(2026, 4, 1), work="房屋安全核查")
    assert "2026年度培训" in info.value.message and "P17" in info.value.message
    training_record(actor=manager, user=checker, year=2026)
    require_trained(checker, on=dt.date(2026, 4, 1), work="房屋安全核查")
    # Last year's training does not cover next year.
    assert not is_trained(checker, 2027)


def test_county_records_only_its_own_people(manager):
    other = factories.user("sm", factories.SHENMU, "appraiser")
    with pytest.raises(ScopeError):
        training_record(actor=manager, user=other, year=2026)
    village = factories.user("cun", factories.village(factories.YUYANG_TOWN).code, "village_staff")
    with pytest.raises(PermissionDenied):
        training_record(actor=village, user=village, year=2026)
    assert not TrainingRecord.objects.exists()


def test_one_record_per_year_and_sane_dates(manager):
    training_record(actor=manager, user=manager, year=2026, trained_on=dt.date(2026, 2, 1))
    with pytest.raises(ConflictError):
        training_record(actor=manager, user=manager, year=2026)
    with pytest.raises(DomainError):
        training_record(actor=manager, user=manager, year=2025, trained_on=dt.date(2026, 2, 1))


def test_command(manager, capsys):
    call_command("training", "add", "yy", "--year", "2026", "--topic", "核查培训")
    assert is_trained(manager, 2026)
    with pytest.raises(CommandError):
        call_command("training", "add", "nobody", "--year", "2026")
