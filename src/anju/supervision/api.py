"""/api/v1/supervision: P16 filing rounds and plans, P3 visits, findings and rectification, P24 interviews and
accountability, the weights and the annual county assessment — thin over the selectors and services.

A role without the action answers 403 before anything is looked up; an object outside the caller's subtree 404.
"""

from enum import Enum
from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.cases.models import Case
from anju.core.errors import DomainError
from anju.divisions.models import Division
from anju.registry.models import House, Household

from . import selectors, services
from .models import Finding, PlanFiling, PlanRound, Rectification, Visit
from .schemas import (
    AssessmentOut,
    FilingIn,
    FilingOut,
    FilingReviewIn,
    FindingCaseIn,
    FindingDetailOut,
    FindingFiltersIn,
    FindingIn,
    FindingOut,
    MeasureIn,
    MeasureOut,
    RectificationIn,
    RectificationReviewIn,
    RoundDetailOut,
    RoundIn,
    RoundOut,
    RoundPatch,
    VisitIn,
    VisitOut,
    VisitPatch,
    WeightsIn,
)

router = Router(tags=[_("督导考核")])
VIEW, INSPECT, RECTIFY = "supervision.view", "supervision.inspect", "supervision.rectify"


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


def _division_code(value: str | None, field: str = "division") -> str:
    code = (value or "").strip()
    if code and not Division.objects.filter(code=code).exists():
        message = gettext("区划代码{code}不存在").format(code=code)
        raise DomainError(gettext("筛选条件有误"), errors={field: message})
    return code


def _users(ids: list[int]) -> list[User]:
    """Team members by id; an unknown id is refused by name (members are chosen, not guessed)."""
    users = list(User.objects.filter(pk__in=ids, is_active=True))
    missing = sorted(set(ids) - {u.pk for u in users})
    if missing:
        message = gettext("用户编号{ids}不存在").format(ids="、".join(map(str, missing)))
        raise DomainError(message, errors={"member_ids": message})
    return users


# -- P16 rounds and filings ----------------------------------------------------------------------------------------


def _round_detail(request: HttpRequest, plan_round: PlanRound) -> dict[str, Any]:
    rows = selectors.round_counties(request.user, plan_round)
    data = RoundOut.from_orm(plan_round).dict()
    data["counties"] = [
        {
            "county": r.county.code,
            "name": r.county.name,
            "status": r.filing.status if r.filing else None,
            "filing_id": r.filing.pk if r.filing else None,
            "late": r.late,
        }
        for r in rows
    ]
    return data


@router.get("/rounds", response=list[RoundOut], url_name="supervision_rounds_list")
@paginate(PageNumberPagination)
def rounds_list(request: HttpRequest):
    """P16: the filing rounds the city set (every county sees them)."""
    require_action(request.user, VIEW)
    return selectors.round_list(request.user)


@router.get("/rounds/{int:pk}", response=RoundDetailOut, url_name="supervision_rounds_detail")
def rounds_detail(request: HttpRequest, pk: int):
    """P16: a round with each county of the caller's subtree: filed or not, and late after the deadline."""
    require_action(request.user, VIEW)
    return _round_detail(request, selectors.round_get(request.user, pk))


@router.post("/rounds", response={201: RoundOut}, url_name="supervision_rounds_create")
def rounds_create(request: HttpRequest, payload: RoundIn):
    """P16: the city opens a filing round with its deadline."""
    plan_round = services.round_create(actor=request.user, **payload.dict())
    return Status(201, plan_round)


@router.patch("/rounds/{int:pk}", response=RoundOut, url_name="supervision_rounds_update")
def rounds_update(request: HttpRequest, pk: int, payload: RoundPatch):
    require_action(request.user, INSPECT)
    plan_round = selectors.round_get(request.user, pk)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return services.round_update(actor=request.user, plan_round=plan_round, **changes)


@router.get("/filings", response=list[FilingOut], url_name="supervision_filings_list")
@paginate(PageNumberPagination)
def filings_list(request: HttpRequest, round: int | None = None, status: str | None = None):
    require_action(request.user, VIEW)
    return selectors.filing_list(request.user, plan_round=round, status=status or "")


@router.get("/filings/{int:pk}", response=FilingOut, url_name="supervision_filings_detail")
def filings_detail(request: HttpRequest, pk: int):
    require_action(request.user, VIEW)
    return selectors.filing_get(request.user, pk)


@router.post("/filings", response={201: FilingOut}, url_name="supervision_filings_create")
def filings_create(request: HttpRequest, payload: Form[FilingIn], document: File[UploadedFile]):
    """P16: the county files its implementation plan (multipart: the fields and the document); a returned plan is
    filed again the same way."""
    require_action(request.user, RECTIFY)
    data = payload.dict()
    plan_round = selectors.round_get(request.user, data.pop("round_id"))
    filing = services.plan_submit(
        actor=request.user, plan_round=plan_round, county_code=data.pop("county").strip(), document=document, **data
    )
    return Status(201, filing)


@router.post("/filings/{int:pk}/review", response=FilingOut, url_name="supervision_filings_review")
def filings_review(request: HttpRequest, pk: int, payload: FilingReviewIn):
    """P16: the city receives (备案) or returns the plan with a note."""
    require_action(request.user, INSPECT)
    filing = get_object_or_404(PlanFiling.objects.visible_to(request.user), pk=pk)
    return services.plan_review(actor=request.user, filing=filing, **_plain(payload.dict()))


@router.get("/filings/{int:pk}/document", url_name="supervision_filings_document")
def filings_document(request: HttpRequest, pk: int):
    require_action(request.user, VIEW)
    filing = selectors.filing_get(request.user, pk)
    try:
        handle = filing.document.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=filing.document.name.rsplit("/", 1)[-1])


# -- P3 visits -----------------------------------------------------------------------------------------------------


class VisitFiltersIn(Schema):
    division: str | None = Field(None, description=_("县级区划代码"))
    level: str | None = None
    mode: str | None = None
    year: int | None = Field(None, ge=2000, le=2100)


@router.get("/visits", response=list[VisitOut], url_name="supervision_visits_list")
@paginate(PageNumberPagination)
def visits_list(request: HttpRequest, filters: Query[VisitFiltersIn]):
    """P3, P24: visits to the counties of the caller's subtree."""
    require_action(request.user, VIEW)
    visit_filters = selectors.VisitFilters(
        division=_division_code(filters.division),
        level=filters.level or "",
        mode=filters.mode or "",
        year=filters.year,
    )
    return selectors.visit_list(request.user, visit_filters).prefetch_related("members")


@router.get("/visits/{int:pk}", response=VisitOut, url_name="supervision_visits_detail")
def visits_detail(request: HttpRequest, pk: int):
    require_action(request.user, VIEW)
    return selectors.visit_get(request.user, pk)


@router.post("/visits", response={201: VisitOut}, url_name="supervision_visits_create")
def visits_create(request: HttpRequest, payload: VisitIn):
    """P3: record a visit to a county; its end date starts the one-week rectification of its findings."""
    require_action(request.user, INSPECT)
    data = _plain(payload.dict())
    members = _users(data.pop("member_ids"))
    visit = services.visit_record(actor=request.user, county_code=data.pop("county").strip(), members=members, **data)
    return Status(201, visit)


@router.patch("/visits/{int:pk}", response=VisitOut, url_name="supervision_visits_update")
def visits_update(request: HttpRequest, pk: int, payload: VisitPatch):
    """P3: correct a visit; a new end date moves the deadline of its findings not yet rectified."""
    require_action(request.user, INSPECT)
    visit = selectors.visit_get(request.user, pk)
    changes = {k: v for k, v in _plain(payload.dict(exclude_unset=True)).items() if v is not None}
    if "member_ids" in changes:
        changes["members"] = _users(changes.pop("member_ids"))
    return services.visit_update(actor=request.user, visit=visit, **changes)


# -- P3 findings ---------------------------------------------------------------------------------------------------


@router.get("/findings", response=list[FindingOut], url_name="supervision_findings_list")
@paginate(PageNumberPagination)
def findings_list(request: HttpRequest, filters: Query[FindingFiltersIn]):
    """P3: findings about the caller's subtree (a town sees those about its villages). `late`: not rectified and
    past the deadline, as the alert P3.finding_late."""
    require_action(request.user, VIEW)
    return selectors.finding_list(
        request.user,
        selectors.FindingFilters(
            division=_division_code(filters.division),
            state=filters.state.value if filters.state else "",
            severity=filters.severity.value if filters.severity else "",
            visit=filters.visit,
            late=filters.late,
            open_only=filters.open,
        ),
    )


@router.get("/findings/{int:pk}", response=FindingDetailOut, url_name="supervision_findings_detail")
def findings_detail(request: HttpRequest, pk: int):
    require_action(request.user, VIEW)
    return selectors.finding_get(request.user, pk)


@router.post("/findings", response={201: FindingDetailOut}, url_name="supervision_findings_create")
def findings_create(request: HttpRequest, payload: FindingIn):
    """P3: feed a finding back at once; due one week after the visit ends."""
    require_action(request.user, INSPECT)
    data = _plain(payload.dict())
    visit = get_object_or_404(Visit.objects.visible_to(request.user), pk=data.pop("visit_id"))
    household_id, case_id = data.pop("household_id"), data.pop("case_id")
    household = get_object_or_404(Household.objects.visible_to(request.user), pk=household_id) if household_id else None
    case = get_object_or_404(Case.objects.visible_to(request.user), pk=case_id) if case_id else None
    finding = services.finding_record(actor=request.user, visit=visit, household=household, case=case, **data)
    return Status(201, selectors.finding_get(request.user, finding.pk))


@router.post(
    "/findings/{int:pk}/rectifications", response={201: FindingDetailOut}, url_name="supervision_findings_rectify"
)
def findings_rectify(request: HttpRequest, pk: int, payload: RectificationIn):
    """P3: the county reports its rectification (with an evidence file: `/rectifications/upload`, multipart)."""
    require_action(request.user, RECTIFY)
    finding = get_object_or_404(Finding.objects.visible_to(request.user), pk=pk)
    services.rectification_submit(actor=request.user, finding=finding, **payload.dict())
    return Status(201, selectors.finding_get(request.user, pk))


@router.post(
    "/findings/{int:pk}/rectifications/upload",
    response={201: FindingDetailOut},
    url_name="supervision_findings_rectify_upload",
)
def findings_rectify_upload(
    request: HttpRequest, pk: int, payload: Form[RectificationIn], evidence: File[UploadedFile]
):
    """P3: the same report with its evidence (multipart: the fields and a photo or document, up to 20 MB)."""
    require_action(request.user, RECTIFY)
    finding = get_object_or_404(Finding.objects.visible_to(request.user), pk=pk)
    services.rectification_submit(actor=request.user, finding=finding, evidence=evidence, **payload.dict())
    return Status(201, selectors.finding_get(request.user, pk))


@router.post("/rectifications/{int:pk}/review", response=FindingDetailOut, url_name="supervision_rectifications_review")
def rectifications_review(request: HttpRequest, pk: int, payload: RectificationReviewIn):
    """P3: the team accepts the rectification or returns it with a note."""
    require_action(request.user, INSPECT)
    rectification = get_object_or_404(Rectification.objects.visible_to(request.user), pk=pk)
    finding = services.rectification_review(actor=request.user, rectification=rectification, **_plain(payload.dict()))
    return selectors.finding_get(request.user, finding.pk)


@router.post("/findings/{int:pk}/case", response={201: FindingDetailOut}, url_name="supervision_findings_case")
def findings_case(request: HttpRequest, pk: int, payload: FindingCaseIn):
    """P3, P19: a finding about a dangerous house opens a ledger case (source 督导)."""
    require_action(request.user, RECTIFY)
    finding = get_object_or_404(Finding.objects.visible_to(request.user).select_related("household"), pk=pk)
    house = get_object_or_404(House.objects.visible_to(request.user), pk=payload.house_id) if payload.house_id else None
    services.finding_open_case(actor=request.user, finding=finding, description=payload.description, house=house)
    return Status(201, selectors.finding_get(request.user, pk))


# -- P24 interviews, accountability, the assessment ----------------------------------------------------------------


@router.get("/measures", response=list[MeasureOut], url_name="supervision_measures_list")
@paginate(PageNumberPagination)
def measures_list(request: HttpRequest, division: str | None = None, kind: str | None = None, year: int | None = None):
    """P24: interviews (约谈) and accountability (问责) of the counties in the caller's subtree."""
    require_action(request.user, VIEW)
    return selectors.measure_list(request.user, division=_division_code(division), kind=kind or "", year=year)


@router.get("/measures/{int:pk}", response=MeasureOut, url_name="supervision_measures_detail")
def measures_detail(request: HttpRequest, pk: int):
    require_action(request.user, VIEW)
    return selectors.measure_get(request.user, pk)


@router.post("/measures", response={201: MeasureOut}, url_name="supervision_measures_create")
def measures_create(request: HttpRequest, payload: MeasureIn):
    """P24: record an interview or an accountability decision, citing the findings that gave the reason."""
    require_action(request.user, INSPECT)
    data = _plain(payload.dict())
    ids = data.pop("finding_ids")
    findings = list(Finding.objects.visible_to(request.user).filter(pk__in=ids))
    if len(findings) != len(set(ids)):
        raise Http404
    measure = services.measure_record(
        actor=request.user, county_code=data.pop("county").strip(), findings=findings, **data
    )
    return Status(201, selectors.measure_get(request.user, measure.pk))


def _assessment_out(data: dict[str, Any]) -> dict[str, Any]:
    defs, weights = data["defs"], data["weights"]
    return {
        "year": data["year"],
        "as_of": data["as_of"],
        "score_formula": gettext("综合得分 = Σ(权重 × 得分率) ÷ Σ(有数据指标的权重)"),
        "weights": weights,
        "rows": [
            {
                "county": row.code,
                "name": row.name,
                "score": row.score,
                "measures": [
                    {
                        "key": d.key,
                        "label": d.label,
                        "formula": d.formula,
                        "weight": weights[d.key],
                        "numerator": row.figures[d.key].numerator,
                        "denominator": row.figures[d.key].denominator,
                        "rate": row.figures[d.key].rate,
                    }
                    for d in defs
                ],
            }
            for row in data["rows"]
        ],
    }


class AssessmentIn(Schema):
    year: int = Field(ge=2000, le=2100, description=_("考核年度"))


@router.get("/assessment", response=AssessmentOut, url_name="supervision_assessment")
def assessment(request: HttpRequest, filters: Query[AssessmentIn]):
    """P24: the annual assessment of each county in the caller's subtree (a county sees its own row), computed
    from the system's figures, each measure with its formula, and the weighted score."""
    require_action(request.user, VIEW)
    return _assessment_out(selectors.assessment(request.user, filters.year))


@router.put("/weights/{int:year}", response=AssessmentOut, url_name="supervision_weights_set")
def weights_set(request: HttpRequest, year: int, payload: WeightsIn):
    """P24: the city sets the weights of a year's assessment."""
    require_action(request.user, INSPECT)
    services.weights_set(actor=request.user, year=year, **payload.dict())
    return _assessment_out(selectors.assessment(request.user, year))
