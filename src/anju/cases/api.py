"""The ledger's endpoints (台账, P19): the list, the case page, and every move — thin over the selectors and the
services, so the API, the pages and the commands share each guard and each refusal message.

Lookups go through `visible_to`: a role without the action answers 403 before anything is looked up, and a case
(or household, appraisal, craftsman, visit) outside the user's subtree answers 404, as if absent.
"""

from enum import Enum
from typing import Any

from django.db.models import Model, Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.divisions.models import Division
from anju.inspections.models import Appraisal
from anju.registry.models import Grade, House, Household
from anju.training.models import Attendance
from anju.training.selectors import trained_exists

from . import selectors
from .models import (
    Case,
    CaseSource,
    CaseState,
    Craftsman,
    RenovationMethod,
    SiteVisit,
    SubsidyRate,
    TransitionalHousing,
)
from .schemas import (
    AcceptIn,
    ApplicationIn,
    BuilderIn,
    CancelIn,
    CaseDetailOut,
    CaseIn,
    CaseOut,
    CasePatch,
    CloseIn,
    CompleteIn,
    CraftsmanIn,
    CraftsmanOut,
    DesignIn,
    PaymentIn,
    PaymentOut,
    PlanIn,
    RequestAppraisalIn,
    SecureIn,
    SignOffIn,
    SignOffOut,
    SiteVisitOut,
    StartIn,
    SubsidyRateIn,
    SubsidyRateOut,
    TrainingIn,
    TransitionalConfirmIn,
    TransitionalIn,
    TransitionalOut,
    UseAppraisalIn,
    VisitFixIn,
    VisitIn,
)
from .services import cases as case_services
from .services import registries, renovation, signoffs

router = Router(tags=[_("台账")])
craftsmen_router = Router(tags=[_("建筑工匠")])
subsidy_rates_router = Router(tags=[_("补助标准")])


class CaseFiltersIn(Schema):
    division: str | None = Field(None, description=_("区划代码：只列该区划内的台账"))
    state: CaseState | None = None
    source: CaseSource | None = None
    grade: Grade | None = None
    late: bool = Field(False, description=_("只列逾期未完成的（P19）"))
    due_soon: bool = Field(False, description=_("只列30天内到期且未完成的（P19）"))
    open: bool = Field(False, description=_("只列未销号、未撤销的"))
    responsible: str | None = Field(None, description=_("责任人的用户编号，或 me"))
    household: int | None = None
    q: str | None = Field(None, max_length=64, description=_("户主姓名（前缀）"))


def _bad(field: str, message: str) -> DomainError:
    return DomainError(gettext("筛选条件有误"), errors={field: message})


def _division_code(value: str | None) -> str:
    code = (value or "").strip()
    if code and not Division.objects.filter(code=code).exists():
        raise _bad("division", gettext("区划代码{code}不存在").format(code=code))
    return code


def _case_filters(request: HttpRequest, filters: CaseFiltersIn) -> selectors.CaseFilters:
    responsible = (filters.responsible or "").strip()
    if responsible == "me":
        responsible_id = request.user.pk
    elif responsible.isdigit():
        responsible_id = int(responsible)
    elif responsible:
        raise _bad("responsible", gettext("责任人应为用户编号或 me"))
    else:
        responsible_id = None
    return selectors.CaseFilters(
        division=_division_code(filters.division),
        state=filters.state.value if filters.state else "",
        source=filters.source.value if filters.source else "",
        grade=filters.grade.value if filters.grade else "",
        late=filters.late,
        due_soon=filters.due_soon,
        open_only=filters.open,
        responsible=responsible_id,
        household=filters.household,
        q=filters.q or "",
    )


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Enum members from the schemas as the plain codes the services store."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


def _found(queryset: QuerySet, pk: int) -> Model:
    return get_object_or_404(queryset, pk=pk)


def _case(request: HttpRequest, pk: int, action: str) -> Case:
    """A case of the user's subtree that the user's roles allow `action` on: 403 without the action, else 404."""
    require_action(request.user, action)
    return _found(selectors.cases_visible(request.user), pk)


def _detail(request: HttpRequest, pk: int) -> Case:
    case = selectors.case_get(request.user, pk)
    prefetch_related_objects([case], "transitional_housing__confirmed_by")
    return case


def _move_data(payload: Schema) -> dict[str, Any]:
    data = _plain(payload.dict())
    data["expected_version"] = data.pop("version", None)
    return data


# -- the ledger -------------------------------------------------------------------------------------------------


@router.get(
    "",
    response=list[CaseOut],
    url_name="cases_list",
    description=_(
        "台账列表。筛选：division 区划代码、state 状态、source 问题来源、grade 鉴定等级、late 逾期、"
        "due_soon 30天内到期、open 未销号、responsible 责任人（用户编号或 me）、household 农户编号、q 户主姓名。"
    ),
)
@paginate(PageNumberPagination)
def cases_list(request: HttpRequest, filters: Query[CaseFiltersIn]):
    require_action(request.user, "cases.view")
    return selectors.case_list(request.user, _case_filters(request, filters))


@router.get("/{int:pk}", response=CaseDetailOut, url_name="cases_detail")
def cases_detail(request: HttpRequest, pk: int):
    """The case page: the row, renovation, the four clears (P2) with what is missing, visits, transitional
    housing, payments and the whole history."""
    require_action(request.user, "cases.view")
    return _detail(request, pk)


@router.post("", response={201: CaseDetailOut}, url_name="cases_create")
def cases_create(request: HttpRequest, payload: CaseIn):
    """P19: register a housing-safety problem (a problem-list item of P1 needs its household type and the
    transfer date)."""
    require_action(request.user, "cases.open")
    data = _plain(payload.dict())
    household = _found(Household.objects.visible_to(request.user), data.pop("household_id"))
    house_id = data.pop("house_id")
    house = _found(House.objects.visible_to(request.user), house_id) if house_id is not None else None
    data["household_type"] = data["household_type"] or ""
    case = case_services.case_open(actor=request.user, household=household, house=house, **data)
    return Status(201, _detail(request, case.pk))


@router.patch("/{int:pk}", response=CaseDetailOut, url_name="cases_update")
def cases_update(request: HttpRequest, pk: int, payload: CasePatch):
    """Change the problem description or the measures (整改措施) of an open case."""
    case = _case(request, pk, "cases.open")
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        message = gettext("请填写要修改的问题描述或整改措施")
        raise DomainError(message, errors={"description": message})
    case_services.case_update(actor=request.user, case=case, expected_version=version, **changes)
    return _detail(request, pk)


@router.post("/{int:pk}/request-appraisal", response=CaseDetailOut, url_name="cases_request_appraisal")
def cases_request_appraisal(request: HttpRequest, pk: int, payload: RequestAppraisalIn):
    """P1, P8: have the house appraised (登记 → 待鉴定)."""
    case = _case(request, pk, "cases.open")
    case_services.case_request_appraisal(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/use-appraisal", response=CaseDetailOut, url_name="cases_use_appraisal")
def cases_use_appraisal(request: HttpRequest, pk: int, payload: UseAppraisalIn):
    """Settle the case with an appraisal already on record for its house (→ 已鉴定, P19 deadline)."""
    case = _case(request, pk, "cases.manage")
    data = _move_data(payload)
    appraisal = _found(Appraisal.objects.visible_to(request.user), data.pop("appraisal_id"))
    case_services.case_use_appraisal(actor=request.user, case=case, appraisal=appraisal, **data)
    return _detail(request, pk)


@router.post("/{int:pk}/application", response=CaseDetailOut, url_name="cases_application")
def cases_application(request: HttpRequest, pk: int, payload: ApplicationIn):
    """P20: the household's application, its will and its choices (no plan without them)."""
    case = _case(request, pk, "cases.apply")
    renovation.renovation_apply(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/plan", response=CaseDetailOut, url_name="cases_plan")
def cases_plan(request: HttpRequest, pk: int, payload: PlanIn):
    """P21: into the renovation plan with a method; the subsidy follows from the city's rates (→ 已纳入计划)."""
    case = _case(request, pk, "cases.manage")
    renovation.case_plan(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/design", response=CaseDetailOut, url_name="cases_design")
def cases_design(request: HttpRequest, pk: int, payload: DesignIn):
    """P12, P22: the basic structural design by its number in the Shaanxi design atlas. An uploaded design
    (custom) is a file: upload it on the case page in the web UI, not through this JSON endpoint."""
    case = _case(request, pk, "cases.manage")
    data = _move_data(payload)
    if data["design_kind"] == "custom":
        message = gettext("上传设计图请在网页的台账页面中操作；接口只支持采用图集（atlas）")
        raise DomainError(message, errors={"design_kind": message})
    renovation.renovation_design(actor=request.user, case=case, **data)
    return _detail(request, pk)


@router.post("/{int:pk}/builder", response=CaseDetailOut, url_name="cases_builder")
def cases_builder(request: HttpRequest, pk: int, payload: BuilderIn):
    """P17, P22: the registered craftsman, trained this year, who takes the job."""
    case = _case(request, pk, "cases.manage")
    data = _move_data(payload)
    builder = _found(Craftsman.objects.visible_to(request.user), data.pop("craftsman_id"))
    renovation.renovation_builder(actor=request.user, case=case, builder=builder, **data)
    return _detail(request, pk)


@router.post("/{int:pk}/start", response=CaseDetailOut, url_name="cases_start")
def cases_start(request: HttpRequest, pk: int, payload: StartIn):
    """P22: works start only with a design and a trained craftsman (→ 施工中)."""
    case = _case(request, pk, "cases.manage")
    renovation.case_start(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/visits", response={201: SiteVisitOut}, url_name="cases_visits")
def cases_visits(request: HttpRequest, pk: int, payload: VisitIn):
    """P22: a county site visit (逐户巡查) with its findings and an ordered fix. A record, not a move: the case's
    version does not change."""
    case = _case(request, pk, "cases.visit")
    visit = renovation.site_visit_add(actor=request.user, case=case, **payload.dict())
    return Status(201, visit)


@router.post("/visits/{int:pk}/fix", response=SiteVisitOut, url_name="cases_visit_fix")
def cases_visit_fix(request: HttpRequest, pk: int, payload: VisitFixIn):
    """P22: the fix ordered on a visit is done."""
    require_action(request.user, "cases.visit")
    visit = _found(SiteVisit.objects.visible_to(request.user).select_related("visitor"), pk)
    return renovation.site_visit_fix(actor=request.user, visit=visit, **payload.dict())


@router.post("/{int:pk}/complete", response=CaseDetailOut, url_name="cases_complete")
def cases_complete(request: HttpRequest, pk: int, payload: CompleteIn):
    """P22: the works are finished — after a county visit, with every ordered fix done (→ 已竣工)."""
    case = _case(request, pk, "cases.manage")
    renovation.case_complete(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/accept", response=CaseDetailOut, url_name="cases_accept")
def cases_accept(request: HttpRequest, pk: int, payload: AcceptIn):
    """P20, P22: joint completion acceptance with the household (→ 已验收)."""
    case = _case(request, pk, "cases.manage")
    data = _move_data(payload)
    data["house_grade_after"] = data["house_grade_after"] or ""
    renovation.case_accept(actor=request.user, case=case, **data)
    return _detail(request, pk)


@router.post("/{int:pk}/payments", response={201: PaymentOut}, url_name="cases_payments")
def cases_payments(request: HttpRequest, pk: int, payload: PaymentIn):
    """P4, P21: a subsidy payment after the acceptance, never above the subsidy; the account is kept masked."""
    case = _case(request, pk, "cases.manage")
    return Status(201, renovation.subsidy_payment_add(actor=request.user, case=case, **payload.dict()))


@router.post("/{int:pk}/transitional", response={201: TransitionalOut}, url_name="cases_transitional")
def cases_transitional(request: HttpRequest, pk: int, payload: TransitionalIn):
    """P19: where the household lives during the works, and whether that place is confirmed safe."""
    case = _case(request, pk, "cases.apply")
    housing = renovation.transitional_add(actor=request.user, case=case, **_plain(payload.dict()))
    return Status(201, housing)


@router.post("/transitional/{int:pk}/confirm", response=TransitionalOut, url_name="cases_transitional_confirm")
def cases_transitional_confirm(request: HttpRequest, pk: int, payload: TransitionalConfirmIn):
    """P19: someone has seen that the transitional housing is safe."""
    require_action(request.user, "cases.apply")
    housing = _found(TransitionalHousing.objects.visible_to(request.user), pk)
    return renovation.transitional_confirm(actor=request.user, housing=housing, **payload.dict())


@router.post("/{int:pk}/secure", response=CaseDetailOut, url_name="cases_secure")
def cases_secure(request: HttpRequest, pk: int, payload: SecureIn):
    """P10, P19: the household is made safe by other means, with evidence (→ 保障安全)."""
    case = _case(request, pk, "cases.manage")
    case_services.case_secure(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/cancel", response=CaseDetailOut, url_name="cases_cancel")
def cases_cancel(request: HttpRequest, pk: int, payload: CancelIn):
    """Withdraw a case opened by mistake, with a reason (→ 已撤销)."""
    case = _case(request, pk, "cases.manage")
    case_services.case_cancel(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/close", response=CaseDetailOut, url_name="cases_close")
def cases_close(request: HttpRequest, pk: int, payload: CloseIn):
    """P2, P19: 销号 — only with all four clears signed at the village, town and county level (→ 已销号)."""
    case = _case(request, pk, "cases.manage")
    case_services.case_close(actor=request.user, case=case, **_move_data(payload))
    return _detail(request, pk)


@router.post("/{int:pk}/signoffs", response={201: SignOffOut}, url_name="cases_signoffs")
def cases_signoffs(request: HttpRequest, pk: int, payload: SignOffIn):
    """P2: the signer signs one of the four clears at the level they answer for (village, then town, then
    county). A signature cannot be changed. A record, not a move: the case's version does not change."""
    case = _case(request, pk, "cases.sign")
    return Status(201, signoffs.signoff_sign(actor=request.user, case=case, **_plain(payload.dict())))


# -- craftsmen (P17, P22) ---------------------------------------------------------------------------------------


class CraftsmanFiltersIn(Schema):
    division: str | None = Field(None, description=_("县（市、区）区划代码"))
    trained_in: int | None = Field(None, description=_("只列参加了该年度培训的工匠"))


def _craftsmen(request: HttpRequest) -> QuerySet[Craftsman]:
    signed = Attendance.objects.filter(signed_in=True).select_related("session")
    return (
        Craftsman.objects.visible_to(request.user)
        .select_related("division")
        .prefetch_related(Prefetch("attendances", queryset=signed, to_attr="signed_attendances"))
    )


@craftsmen_router.get("", response=list[CraftsmanOut], url_name="craftsmen_list")
@paginate(PageNumberPagination)
def craftsmen_list(request: HttpRequest, filters: Query[CraftsmanFiltersIn]):
    """The county's registered craftsmen and builders with the years they were trained (P17)."""
    require_action(request.user, "cases.view")
    queryset = _craftsmen(request)
    code = _division_code(filters.division)
    if code:
        queryset = queryset.filter(division_id=code[:6] + "000000")
    if filters.trained_in is not None:
        queryset = queryset.filter(trained_exists(filters.trained_in, "craftsman"))
    return queryset.order_by("division_id", "name", "id")


@craftsmen_router.post("", response={201: CraftsmanOut}, url_name="craftsmen_create")
def craftsmen_create(request: HttpRequest, payload: CraftsmanIn):
    """P22: register a craftsman or builder with a county (a county user's own county by default)."""
    require_action(request.user, "cases.manage")
    data = _plain(payload.dict())
    code = (data.pop("division") or "").strip() or (request.user.division_id or "")[:6].ljust(12, "0")
    craftsman = registries.craftsman_register(actor=request.user, county_code=code, **data)
    return Status(201, _found(_craftsmen(request), craftsman.pk))


@craftsmen_router.post("/{int:pk}/trainings", response={201: CraftsmanOut}, url_name="craftsmen_trainings")
def craftsmen_trainings(request: HttpRequest, pk: int, payload: TrainingIn):
    """P17: record in one step that the craftsman was trained (a session of the training ledger; untrained
    craftsmen may not take renovation jobs)."""
    require_action(request.user, "training.manage")
    craftsman = _found(Craftsman.objects.visible_to(request.user), pk)
    registries.craftsman_training_add(actor=request.user, craftsman=craftsman, **payload.dict())
    return Status(201, _found(_craftsmen(request), pk))


# -- subsidy rates (P21) ----------------------------------------------------------------------------------------


class RateFiltersIn(Schema):
    year: int | None = None
    method: RenovationMethod | None = None


@subsidy_rates_router.get("", response=list[SubsidyRateOut], url_name="subsidy_rates_list")
@paginate(PageNumberPagination)
def subsidy_rates_list(request: HttpRequest, filters: Query[RateFiltersIn]):
    """P21: the subsidy per household by year, method, grade and target category (blank = any), set by the city."""
    require_action(request.user, "cases.view")
    queryset = SubsidyRate.objects.all()
    if filters.year is not None:
        queryset = queryset.filter(year=filters.year)
    if filters.method is not None:
        queryset = queryset.filter(method=filters.method.value)
    return queryset.order_by("-year", "method", "grade", "category_code", "id")


@subsidy_rates_router.post("", response={200: SubsidyRateOut, 201: SubsidyRateOut}, url_name="subsidy_rates_create")
def subsidy_rates_create(request: HttpRequest, payload: SubsidyRateIn):
    """P21: set the rate for a year, method, grade and category: 201 when new, 200 when an existing one changed."""
    require_action(request.user, "cases.configure")
    data = _plain(payload.dict())
    key = {k: data[k] for k in ("year", "method", "grade", "category_code")}
    existed = SubsidyRate.objects.filter(**key).exists()
    rate = registries.subsidy_rate_set(actor=request.user, **data)
    return Status(200 if existed else 201, rate)
