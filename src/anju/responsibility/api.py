"""The responsibility chain's endpoints (P18): list with filters, assign, end, and one person's page.

Lookups go through `visible_to`: a role without the action answers 403 first; a division, household, assignment
or person outside the user's subtree answers 404. The services decide the level rule and refuse in Chinese.
"""

from django.db.models import Count
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from ninja import Query, Router, Status
from ninja.pagination import PageNumberPagination, paginate

from anju.accounts.models import User
from anju.accounts.permissions import require_action
from anju.core.errors import DomainError
from anju.divisions.models import Division
from anju.registry.models import Household

from . import selectors
from .schemas import AssignIn, AssignmentFiltersIn, AssignmentOut, EndIn, PersonOut
from .services import assignment_assign, assignment_end

router = Router(tags=["责任体系"])


def _bad(field: str, message: str) -> DomainError:
    return DomainError(gettext("输入有误，请检查标出的字段"), errors={field: message})


@router.get(
    "/assignments",
    response=list[AssignmentOut],
    url_name="responsibility_list",
    description=(
        "包抓责任人列表。筛选：division 区划代码、level 层级、person 责任人用户编号、household 农户编号、"
        "history 含已解除。"
    ),
)
@paginate(PageNumberPagination)
def responsibility_list(request: HttpRequest, filters: Query[AssignmentFiltersIn]):
    require_action(request.user, "responsibility.view")
    data = filters.dict()
    code = (data.get("division") or "").strip()
    if code and not Division.objects.filter(code=code).exists():
        raise DomainError(
            gettext("筛选条件有误"), errors={"division": gettext("区划代码{code}不存在").format(code=code)}
        )
    data["division"] = code
    data["level"] = filters.level.value if filters.level else None
    return selectors.assignment_list(actor=request.user, filters=data)


@router.post("/assignments", response={201: AssignmentOut}, url_name="responsibility_assign")
def responsibility_assign(request: HttpRequest, payload: AssignIn):
    """P18: name the person of a county (by the city), a town (by its county) or a village or household (by its
    town). An active person of the target ends and stays in the history."""
    require_action(request.user, "responsibility.assign")
    if bool(payload.division) == bool(payload.household_id):
        raise _bad("division", gettext("请指定区划代码或农户编号之一"))
    division = household = None
    if payload.division:
        division = get_object_or_404(Division.objects.visible_to(request.user), code=payload.division.strip())
    else:
        household = get_object_or_404(Household.objects.visible_to(request.user), pk=payload.household_id)
    person = User.objects.filter(pk=payload.person_id).select_related("division").first()
    if person is None:
        raise _bad("person_id", gettext("用户{pk}不存在").format(pk=payload.person_id))
    assignment = assignment_assign(
        actor=request.user,
        person=person,
        division=division,
        household=household,
        phone=payload.phone,
        reason=payload.reason,
    )
    return Status(201, selectors.assignment_get(actor=request.user, pk=assignment.pk))


@router.post("/assignments/{int:pk}/end", response=AssignmentOut, url_name="responsibility_end")
def responsibility_end(request: HttpRequest, pk: int, payload: EndIn):
    """P18: the person no longer answers for the target; the row ends with the reason."""
    require_action(request.user, "responsibility.assign")
    assignment = selectors.assignment_get(actor=request.user, pk=pk)
    assignment_end(actor=request.user, assignment=assignment, reason=payload.reason)
    return selectors.assignment_get(actor=request.user, pk=pk)


@router.get("/people/{int:pk}", response=PersonOut, url_name="responsibility_person")
def responsibility_person(request: HttpRequest, pk: int):
    """What a person answers for now (in the user's view), and the open alerts naming them, per rule."""
    require_action(request.user, "responsibility.view")
    person = selectors.person_get(actor=request.user, pk=pk)
    alerts = selectors.person_alerts(actor=request.user, person=person)
    by_rule = dict(alerts.order_by().values_list("rule_id").annotate(n=Count("id")))
    return {
        "id": person.pk,
        "name": person.get_full_name(),
        "division": person.division_id,
        "phone": person.phone,
        "assignments": list(selectors.person_assignments(actor=request.user, person=person)),
        "open_alerts": sum(by_rule.values()),
        "alerts_by_rule": by_rule,
    }
