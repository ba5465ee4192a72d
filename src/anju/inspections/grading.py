"""The grading engine (《农村住房安全性鉴定技术导则》, DESIGN.md "Domain rules in one place").

A dangerous site gives D at once; otherwise the house grade is the worst component grade (a→A … d→D).
Pure functions over plain values, so the same rule serves the form, its live preview, the API, the demo and the
tests: there is no second copy of it (not in JavaScript either).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

COMPONENT_ORDER = "abcd"
HOUSE_GRADES = "ABCD"

#: what each house grade means (建村函〔2019〕200号); C and D are dangerous houses (危房)
GRADE_MEANINGS = {
    "A": gettext_lazy("结构能满足正常使用要求，未发现危险点，房屋结构安全"),
    "B": gettext_lazy("结构基本满足正常使用要求，个别结构构件处于危险状态，但不影响主体结构安全"),
    "C": gettext_lazy("部分承重结构不能满足正常使用要求，局部出现险情，构成局部危房"),
    "D": gettext_lazy("承重结构已不能满足正常使用要求，房屋整体出现险情，构成整幢危房"),
}


class Spec(Protocol):
    code: str
    name: str
    structures: list[str]
    d_means_dangerous_site: bool

    def description(self, grade: str) -> str: ...


@dataclass(frozen=True)
class DangerPoint:
    """A component graded b or worse: which one, how bad, and what that grade means."""

    code: str
    name: str
    grade: str
    description: str

    def __str__(self) -> str:
        return _("{name}（{grade}级）：{description}").format(
            name=self.name, grade=self.grade, description=self.description
        )


@dataclass(frozen=True)
class GradeResult:
    grade: str  # "A" … "D"
    site_dangerous: bool
    points: list[DangerPoint] = field(default_factory=list)
    #: the site itself was judged dangerous (not only through a component such as an unstable slope)
    site_reported: bool = False

    @property
    def danger_points(self) -> list[str]:
        """Readable danger points, the site first when it decided the grade."""
        lines = [str(p) for p in self.points]
        if self.site_reported:
            lines.insert(0, _("场地危险：按导则直接评定为D级，建议迁址重建"))
        return lines


def specs_for(structure: str, specs: Iterable[Spec]) -> list[Spec]:
    """The components that apply to `structure`, in the order given (callers pass active specs in form order)."""
    return [s for s in specs if structure in (getattr(s, "structures", None) or [])]


def worse(first: str, second: str) -> str:
    """The worse of two grades (either both component grades a–d or both house grades A–D)."""
    order = COMPONENT_ORDER if first.islower() else HOUSE_GRADES
    return max(first, second, key=order.index)


def grade_house(*, site_dangerous: bool, components: Mapping[str, str], specs: Iterable[Spec]) -> GradeResult:
    """Grade from the site verdict and the per-component grades a–d (keyed by component code).

    Every listed component must be graded and no other; a component whose d means an unstable slope (崖体)
    makes the site dangerous. Danger points name each component graded b or worse, with its description.
    """
    by_code = {s.code: s for s in specs}
    missing = [s.name for code, s in by_code.items() if code not in components]
    if missing:
        raise ValueError(_("以下构件未评定：{names}").format(names="、".join(missing)))
    unknown = [code for code in components if code not in by_code]
    if unknown:
        raise ValueError(_("以下构件不在该结构的构件清单中：{codes}").format(codes="、".join(unknown)))
    points = []
    worst = "a"
    site_reported = bool(site_dangerous)
    for code, spec in by_code.items():
        value = components[code]
        if value not in tuple(COMPONENT_ORDER):
            raise ValueError(_("构件等级应为a、b、c或d，收到{value!r}").format(value=value))
        if value != "a":
            points.append(DangerPoint(code=code, name=spec.name, grade=value, description=spec.description(value)))
        if value == "d" and spec.d_means_dangerous_site:
            site_dangerous = True
        worst = worse(worst, value)
    if site_dangerous:
        return GradeResult(grade="D", site_dangerous=True, points=points, site_reported=site_reported)
    return GradeResult(grade=worst.upper(), site_dangerous=False, points=points)
