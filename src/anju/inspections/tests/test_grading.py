"""The grading engine (《农村住房安全性鉴定技术导则》): a table of cases per structure type, and properties.

The component lists are the bundled defaults (data/appraisal-components.csv, loaded by migration 0002).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.inspections import grading
from anju.inspections.models import ComponentSpec
from anju.inspections.reference import COMPONENTS_FILE
from anju.registry.models import Structure

pytestmark = pytest.mark.django_db

CAVES = ("earth_cave", "stone_cave", "brick_cave")


def specs(structure: str) -> list[ComponentSpec]:
    return grading.specs_for(structure, ComponentSpec.objects.filter(is_active=True).order_by("sort_order"))


def grade(structure: str, site_dangerous: bool = False, **changes: str) -> grading.GradeResult:
    components = {s.code: "a" for s in specs(structure)} | changes
    return grading.grade_house(site_dangerous=site_dangerous, components=components, specs=specs(structure))


# (structure, site dangerous, component grades other than a, expected grade, danger points)
CASES = [
    # all a → A, for every structure type
    *[(s.value, False, {}, "A", 0) for s in Structure],
    # a dangerous site → D whatever the components
    *[(s.value, True, {}, "D", 1) for s in Structure],
    # a single c component → C
    ("brick_concrete", False, {"concrete_members": "c"}, "C", 1),
    ("brick_wood", False, {"timber_members": "c"}, "C", 1),
    ("earth_wood", False, {"bearing_wall": "c"}, "C", 1),
    ("raw_earth", False, {"roof": "c"}, "C", 1),
    ("stone", False, {"timber_truss": "c"}, "C", 1),
    ("timber", False, {"timber_members": "c"}, "C", 1),
    ("frame", False, {"concrete_members": "c"}, "C", 1),
    ("other", False, {"enclosure": "c"}, "C", 1),
    ("earth_cave", False, {"cave_arch": "c"}, "C", 1),
    ("stone_cave", False, {"cave_pier": "c"}, "C", 1),
    ("brick_cave", False, {"cave_facade": "c"}, "C", 1),
    # a single b → B
    ("earth_wood", False, {"roof": "b"}, "B", 1),
    ("stone_cave", False, {"cave_cover": "b"}, "B", 1),
    # a b-and-c mix → C (the worst component)
    ("earth_wood", False, {"foundation": "b", "bearing_wall": "c", "roof": "b"}, "C", 3),
    ("brick_concrete", False, {"enclosure": "b", "roof": "c"}, "C", 2),
    ("brick_cave", False, {"cave_arch": "b", "cave_pier": "c", "cave_cover": "b"}, "C", 3),
    # any d → D
    ("brick_wood", False, {"foundation": "d", "roof": "b"}, "D", 2),
    ("earth_cave", False, {"cave_arch": "d"}, "D", 1),
    # cave dwellings: a d cliff (崖体) is an unstable slope → dangerous site → D
    ("earth_cave", False, {"cave_cliff": "d"}, "D", 1),
    ("earth_cave", False, {"cave_cliff": "c", "cave_facade": "b"}, "C", 2),
    ("earth_cave", True, {"cave_arch": "b"}, "D", 2),
]


@pytest.mark.parametrize(("structure", "site", "changes", "expected", "points"), CASES)
def test_grade_table(structure, site, changes, expected, points):
    result = grade(structure, site, **changes)
    assert result.grade == expected
    assert len(result.points) == len(changes)
    assert len(result.danger_points) == points


def test_every_structure_has_components_and_caves_have_their_own():
    for structure in Structure.values:
        assert specs(structure), structure
    for cave in CAVES:
        codes = {s.code for s in specs(cave)}
        assert {"cave_facade", "cave_arch", "cave_pier", "cave_cover", "foundation"} <= codes
        assert "bearing_wall" not in codes
    assert "cave_cliff" in {s.code for s in specs("earth_cave")}
    assert "cave_cliff" not in {s.code for s in specs("stone_cave")}


def test_the_cliff_marks_the_site_dangerous_and_says_why():
    result = grade("earth_cave", cave_cliff="d")
    assert result.site_dangerous
    assert result.danger_points == ["崖体、边坡（d级）：边坡失稳（按场地危险评为D级）"]


def test_a_dangerous_site_is_the_first_danger_point():
    result = grade("brick_wood", True, roof="b")
    assert result.danger_points[0].startswith("场地危险")
    assert result.danger_points[1] == "楼屋盖（b级）：轻微裂缝、轻微渗漏"


def test_danger_points_go_through_gettext(monkeypatch):
    """The patterns are translatable text; the names and descriptions are data (the city's own words)."""
    monkeypatch.setattr(grading, "_", lambda text: "[译]" + text)
    result = grade("earth_wood", True, roof="c")
    assert result.danger_points[0].startswith("[译]场地危险")
    assert result.danger_points[1] == "[译]楼屋盖（c级）：明显裂缝或下垂，渗漏已浸湿结构"


@pytest.mark.parametrize(
    "components",
    [
        {"foundation": "a"},  # missing components
        {"foundation": "a", "nonsense": "a"},
    ],
)
def test_incomplete_or_unknown_components_are_refused(components):
    with pytest.raises(ValueError):
        grading.grade_house(site_dangerous=False, components=components, specs=specs("earth_cave"))


@pytest.mark.parametrize("value", ["", "e", "A", "ab"])
def test_component_grades_must_be_a_to_d(value):
    components = {s.code: "a" for s in specs("frame")} | {"roof": value}
    with pytest.raises(ValueError):
        grading.grade_house(site_dangerous=False, components=components, specs=specs("frame"))


def test_the_component_lists_are_data():
    """Defaults come from the CSV; the engine reads whatever the table holds (the city may edit it)."""
    assert "cave_cliff" in COMPONENTS_FILE.read_text(encoding="utf-8")
    ComponentSpec.objects.filter(code="cave_cover").update(is_active=False)
    assert "cave_cover" not in {s.code for s in specs("earth_cave")}


# -- properties -----------------------------------------------------------------------------------------------------


@st.composite
def graded_house(draw):
    structure = draw(st.sampled_from(Structure.values))
    codes = [s.code for s in specs(structure)]
    components = {code: draw(st.sampled_from("abcd")) for code in codes}
    return structure, draw(st.booleans()), components


@settings(max_examples=200, deadline=None)
@given(data=graded_house(), pick=st.integers(min_value=0, max_value=50), steps=st.integers(min_value=1, max_value=3))
def test_worsening_any_one_component_never_improves_the_grade(data, pick, steps):
    structure, site, components = data
    listed = specs(structure)
    before = grading.grade_house(site_dangerous=site, components=components, specs=listed)
    code = list(components)[pick % len(components)]
    worse = "abcd"[min(3, "abcd".index(components[code]) + steps)]
    after = grading.grade_house(site_dangerous=site, components=components | {code: worse}, specs=listed)
    assert "ABCD".index(after.grade) >= "ABCD".index(before.grade)
    assert after.grade == grading.worse(before.grade, worse.upper()) or after.site_dangerous


@settings(max_examples=100, deadline=None)
@given(data=graded_house())
def test_the_grade_is_the_worst_component_unless_the_site_is_dangerous(data):
    structure, site, components = data
    result = grading.grade_house(site_dangerous=site, components=components, specs=specs(structure))
    cliff_d = components.get("cave_cliff") == "d"
    if site or cliff_d:
        assert result.grade == "D"
    else:
        assert result.grade == max(components.values(), key="abcd".index).upper()
    assert len(result.points) == sum(1 for v in components.values() if v != "a")


def test_overrides_are_flagged():
    """An override is the service's concern; the engine gives the grade it is compared with (see test_appraisals)."""
    from anju.inspections.models import Appraisal

    appraisal = Appraisal(computed_grade="B", final_grade="C")
    assert appraisal.is_override
    assert not Appraisal(computed_grade="C", final_grade="C").is_override
