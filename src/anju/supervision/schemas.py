"""Input and output schemas of /api/v1/supervision."""

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import Field, ModelSchema, Schema

from .models import (
    FilingStatus,
    Finding,
    FindingState,
    Measure,
    MeasureKind,
    PlanFiling,
    PlanRound,
    Rectification,
    Severity,
    Verdict,
    Visit,
    VisitLevel,
    VisitMode,
)

# -- P16 ------------------------------------------------------------------------------------------------------------


class RoundIn(Schema):
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=200)
    deadline: dt.date = Field(description=_("备案截止日期（当日报送不算逾期）"))
    note: str = Field("", max_length=1000)


class RoundPatch(Schema):
    title: str | None = Field(None, max_length=200)
    deadline: dt.date | None = None
    note: str | None = Field(None, max_length=1000)


class RoundOut(ModelSchema):
    division_code: str

    class Meta:
        model = PlanRound
        fields = ["id", "year", "title", "deadline", "note"]


class FilingIn(Schema):
    round_id: int
    county: str = Field(min_length=12, max_length=12, description=_("县级区划代码"))
    title: str = Field(min_length=1, max_length=200)
    filed_on: dt.date


class FilingReviewIn(Schema):
    status: FilingStatus = Field(description=_("received 备案 / returned 退回"))
    note: str = Field("", max_length=1000)


class FilingOut(ModelSchema):
    division_code: str
    round_id: int

    class Meta:
        model = PlanFiling
        fields = ["id", "title", "filed_on", "filed_by_name", "status", "review_note", "reviewed_on"]


class CountyFilingOut(Schema):
    county: str
    name: str
    status: str | None = Field(description=_("无报送时为 null"))
    filing_id: int | None
    late: bool = Field(description=_("截止日期已过且未报送（或被退回未重报），P16"))


class RoundDetailOut(RoundOut):
    counties: list[CountyFilingOut]


# -- P3 visits and findings ----------------------------------------------------------------------------------------


class VisitIn(Schema):
    county: str = Field(min_length=12, max_length=12)
    level: VisitLevel = VisitLevel.CITY
    mode: VisitMode = VisitMode.ANNOUNCED
    starts_on: dt.date
    ends_on: dt.date
    places: list[str] = Field(default_factory=list, description=_("督导的乡镇、村区划代码"))
    member_ids: list[int] = Field(default_factory=list, description=_("督导组成员（用户编号）"))
    member_names: str = Field("", max_length=500, description=_("其他组员姓名"))
    scope_note: str = Field("", max_length=2000)


class VisitPatch(Schema):
    level: VisitLevel | None = None
    mode: VisitMode | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    places: list[str] | None = None
    member_ids: list[int] | None = None
    member_names: str | None = Field(None, max_length=500)
    scope_note: str | None = Field(None, max_length=2000)


class VisitOut(ModelSchema):
    division_code: str
    rectify_due: dt.date = Field(description=_("整改期限：结束日期后7天（P3）"))
    member_ids: list[int]

    class Meta:
        model = Visit
        fields = ["id", "level", "mode", "starts_on", "ends_on", "places", "member_names", "scope_note"]

    @staticmethod
    def resolve_member_ids(obj: Visit) -> list[int]:
        return sorted(u.pk for u in obj.members.all())


class FindingIn(Schema):
    visit_id: int
    division_code: str = Field("", max_length=12, description=_("问题所在区划；关联农户时可留空"))
    household_id: int | None = None
    case_id: int | None = None
    description: str = Field(min_length=1, max_length=2000)
    severity: Severity = Severity.GENERAL
    fed_back_on: dt.date | None = None


class RectificationIn(Schema):
    done_on: dt.date
    description: str = Field(min_length=1, max_length=2000)


class RectificationReviewIn(Schema):
    verdict: Verdict = Field(description=_("accepted 通过 / returned 退回"))
    note: str = Field("", max_length=1000)


class FindingCaseIn(Schema):
    description: str = Field("", max_length=1000)
    house_id: int | None = None


class RectificationOut(ModelSchema):
    class Meta:
        model = Rectification
        fields = ["id", "done_on", "description", "verdict", "review_note", "reviewed_on"]


class FindingOut(ModelSchema):
    division_code: str
    visit_id: int
    household_id: int | None
    case_id: int | None
    late: bool

    class Meta:
        model = Finding
        fields = ["id", "description", "severity", "fed_back_on", "due_on", "state", "rectified_on", "accepted_on"]

    @staticmethod
    def resolve_late(obj: Finding) -> bool:
        return obj.is_late(dt.date.today())


class FindingDetailOut(FindingOut):
    rectifications: list[RectificationOut]

    @staticmethod
    def resolve_rectifications(obj: Finding) -> list[Rectification]:
        return list(obj.rectifications.all())


class FindingFiltersIn(Schema):
    division: str | None = Field(None, description=_("区划代码：只列该区划内的问题"))
    state: FindingState | None = None
    severity: Severity | None = None
    visit: int | None = None
    late: bool = Field(False, description=_("只列逾期未整改的（P3）"))
    open: bool = Field(False, description=_("只列未整改到位的"))


# -- P24 -----------------------------------------------------------------------------------------------------------


class MeasureIn(Schema):
    county: str = Field(min_length=12, max_length=12)
    kind: MeasureKind
    person: str = Field(min_length=1, max_length=200)
    held_on: dt.date
    reason: str = Field(min_length=1, max_length=2000)
    conducted_by: str = Field(min_length=1, max_length=200)
    outcome: str = Field("", max_length=2000)
    finding_ids: list[int] = Field(default_factory=list)


class MeasureOut(ModelSchema):
    division_code: str
    finding_ids: list[int]

    class Meta:
        model = Measure
        fields = ["id", "kind", "person", "held_on", "reason", "conducted_by", "outcome"]

    @staticmethod
    def resolve_finding_ids(obj: Measure) -> list[int]:
        return sorted(f.pk for f in obj.findings.all())


class WeightsIn(Schema):
    check_coverage: int = Field(ge=0, le=100)
    cases_on_time: int = Field(ge=0, le=100)
    complaints_on_time: int = Field(ge=0, le=100)
    findings_on_time: int = Field(ge=0, le=100)
    training_coverage: int = Field(ge=0, le=100)


class FigureOut(Schema):
    key: str
    label: str
    formula: str
    weight: int
    numerator: int
    denominator: int
    rate: float | None = Field(description=_("百分比；无可考核对象时为 null"))


class AssessmentRowOut(Schema):
    county: str
    name: str
    score: float | None = Field(description=_("Σ(权重×得分率)÷Σ(有数据指标的权重)"))
    measures: list[FigureOut]


class AssessmentOut(Schema):
    year: int
    as_of: dt.date
    score_formula: str
    weights: dict[str, int]
    rows: list[AssessmentRowOut]
