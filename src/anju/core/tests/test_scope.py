"""Scope arithmetic on the 12-digit codes."""

from anju.core.scope import ancestor_codes, code_range, in_scope


def test_ancestor_codes_of_a_village():
    assert ancestor_codes("610802102201") == ["610000000000", "610800000000", "610802000000", "610802102000"]


def test_ancestor_codes_of_a_county_and_the_city():
    assert ancestor_codes("610802000000") == ["610000000000", "610800000000"]
    assert ancestor_codes("610800000000") == ["610000000000"]


def test_range_and_prefix():
    assert code_range("610802") == ("610802000000", "610802999999")
    assert in_scope("610802102201", "610802") and not in_scope("610881001201", "610802")
