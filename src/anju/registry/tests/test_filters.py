"""The list filter: the division pick-list follows the user's scope; IDs match by keyed hash."""

import pytest

from anju.registry.filters import HouseholdFilterForm, filter_households
from anju.registry.models import Household
from anju.testing import factories

pytestmark = pytest.mark.django_db


def codes(form: HouseholdFilterForm) -> list[str]:
    return [code for code, _label in form.fields["division"].widget.choices]


def test_county_user_picks_among_own_towns_only():
    user = factories.user("yy", factories.YUYANG, "county_manager")
    listed = codes(HouseholdFilterForm(actor=user))
    assert factories.YUYANG in listed and factories.YUYANG_TOWN in listed
    assert not any(c.startswith("610881") for c in listed)


def test_town_user_also_picks_villages():
    village = factories.village(factories.YUYANG_TOWN, 3)
    user = factories.user("town", factories.YUYANG_TOWN, "town_staff")
    listed = codes(HouseholdFilterForm(actor=user))
    assert village.code in listed
    assert factories.YUYANG_TOWN_2 not in listed


def test_drill_down_code_stays_selected():
    village = factories.village(factories.YUYANG_TOWN, 4)
    user = factories.user("yy", factories.YUYANG, "county_manager")
    form = HouseholdFilterForm({"division": village.code}, actor=user)
    assert village.code in codes(form)


def test_id_search_matches_any_spelling_by_hash():
    village = factories.village(factories.YUYANG_TOWN, 1)
    raw = factories.id_number()
    target = factories.household(village, id_number=raw)
    factories.household(village)
    form = HouseholdFilterForm({"q": raw.lower()[:6] + " " + raw[6:]})
    assert form.is_valid()
    assert list(filter_households(Household.objects.all(), form.cleaned_data)) == [target]


def test_households_to_verify_are_found_and_cleared_by_the_village():
    """P1: a household a problem list created is flagged 待核实 until the village saves it checked."""
    from anju.registry.services import household_update

    village = factories.village(factories.YUYANG_TOWN, 1)
    flagged = factories.household(village)
    Household.objects.filter(pk=flagged.pk).update(to_verify=True)
    factories.household(village)
    form = HouseholdFilterForm({"to_verify": "1"})
    assert form.is_valid()
    assert list(filter_households(Household.objects.all(), form.cleaned_data)) == [flagged]
    staff = factories.user("cun", village.code, "village_staff")
    household_update(actor=staff, household=flagged, size=4, to_verify=False)
    assert not filter_households(Household.objects.all(), form.cleaned_data).exists()
