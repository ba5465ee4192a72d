"""The grading engine (《农村住房安全性鉴定技术导则》, DESIGN.md "Domain rules in one place").

A dangerous site gives D at once; otherwise the house grade is the worst component grade (a→A … d→D).
Pure functions over plain values, so the same rule serves the form, the API, the demo and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

COMPONENT_ORDER = "abcd"


class Spec(Protocol):
    code: str
    name: str
    d_means_dangerous_site: bool

    def description(self, grade: str) -> str: ...


@dataclass(frozen=True)
class GradeResult:
    grade: str  # "A" … "D"
    site_dangerous: bool
    danger_points: list[str] = field(default_factory=list)


def specs_for(structure: str, specs: Iterable[Spec]) -> list[Spec]:
    """The active components that apply to `structure`, in form order."""
    return [s for s in specs if structure in getattr(s, "structures", [])]


def grade_house(*, site_dangerous: bool, components: Mapping[str, str], specs: Iterable[Spec]) -> GradeResult:
    """Grade from the site verdict and the per-component grades a–d (keyed by component code).

    Every listed component must be graded; a component whose d means an unstable slope (崖体) makes the site
    dangerous. Danger points name each component graded b or worse, with its description.
    """
    by_code = {s.code: s for s in specs}
    missing = [s.name for code, s in by_code.items() if code not in components]
    if missing:
        raise ValueError("ungraded components: " + ", ".join(missing))
    unknown = [code for code in components if code not in by_code]
    if unknown:
        raise ValueError("components not in the list: " + ", ".join(unknown))
    points = []
    worst = "a"
    for code, value in components.items():
        if value not in COMPONENT_ORDER:
            raise ValueError(f"component grade must be a–d, got {value!r}")
        spec = by_code[code]
        if value != "a":
            points.append(f"{spec.name}（{value}级）：{spec.description(value)}")
        if value == "d" and spec.d_means_dangerous_site:
            site_dangerous = True
        worst = max(worst, value, key=COMPONENT_ORDER.index)
    if site_dangerous:
        return GradeResult(grade="D", site_dangerous=True, danger_points=points)
    return GradeResult(grade=worst.upper(), site_dangerous=False, danger_points=points)
