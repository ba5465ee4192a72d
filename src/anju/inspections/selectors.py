"""Reads on inspections; each starts from `.visible_to(actor)` or from a campaign already scoped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from anju.core.scope import PREFIX_LENGTH, ancestor_codes, in_scope, scope_q
from anju.divisions.models import LEVEL_ORDER, Division
from anju.policy.models import Alert, AlertStatus
from anju.registry.filters import search_condition
from anju.registry.models import Household

from .models import AppraisalRequest, Campaign, CheckRecord, HouseFinding, Photo, TargetSet, Verdict

MONITORING_RULE = "P7.monitoring"  # the policy rule whose open alerts are the monitoring list


def _campaign_prefix(campaign: Campaign, within: str) -> str | None:
    """The campaign's subtree, narrowed to `within` when that lies inside it; None when the two do not meet."""
    prefix = campaign.division.prefix
    if not within or prefix.startswith(within):
        return prefix
    return within if within.startswith(prefix) else None


def campaign_targets(campaign: Campaign, *, within: str = "") -> QuerySet[Household]:
    """The households a campaign must check (P5: all in its subtree; P9 special checks: the P7 list),
    optionally only those under the division prefix `within` (one range for both, so the index serves it)."""
    prefix = _campaign_prefix(campaign, within)
    if prefix is None:
        return Household.objects.none()
    households = Household.objects.filter(scope_q("division_id", prefix))
    if campaign.target_set == TargetSet.MONITORING:
        listed = Alert.objects.filter(
            scope_q("division_id", prefix), rule_id=MONITORING_RULE, status=AlertStatus.OPEN
        ).values("household_id")
        households = households.filter(pk__in=listed)
    return households


def campaign_unchecked(campaign: Campaign, *, within: str = "") -> QuerySet[Household]:
    """Targets without a check record in this campaign: the 'late' ones once the campaign has ended (P5),
    optionally only under `within`.

    NOT EXISTS, not NOT IN: PostgreSQL turns it into a hash anti-join, while `id NOT IN (700,000 checks)` does not
    fit work_mem as a hashed subplan and rescans the list for every household (a city's count ran for minutes);
    SQLite probes the (campaign, household) unique index per household.
    """
    checked = CheckRecord.objects.filter(campaign=campaign, household_id=OuterRef("pk"))
    return campaign_targets(campaign, within=within).exclude(Exists(checked))


# -- campaigns, progress and check records (pages, API and CLI share these) ----------------------------------------


@dataclass
class Progress:
    """One row of a campaign's progress table (P5): households to check, checked, verdicts, coverage, late."""

    targets: int = 0
    checked: int = 0
    no_danger: int = 0
    suspected: int = 0
    needs_repair: int = 0
    ended: bool = False

    @property
    def unchecked(self) -> int:
        return max(self.targets - self.checked, 0)

    @property
    def coverage(self) -> float | None:
        """Checked share of the targets, in percent with one decimal (None when there is nothing to check)."""
        if not self.targets:
            return None
        return round(min(self.checked, self.targets) * 100 / self.targets, 1)

    @property
    def late(self) -> int:
        """P5: households still unchecked once the campaign's end date (30 April for the annual check) has passed."""
        return self.unchecked if self.ended else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "targets": self.targets,
            "checked": self.checked,
            "unchecked": self.unchecked,
            "no_danger": self.no_danger,
            "suspected": self.suspected,
            "needs_repair": self.needs_repair,
            "coverage": self.coverage,
            "late": self.late,
        }


def campaign_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Campaign]:
    """Campaigns at the actor's levels and above (a city campaign reaches every village) and below."""
    filters = filters or {}
    qs = Campaign.objects.visible_to(actor)
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("year"):
        qs = qs.filter(year=filters["year"])
    if filters.get("division"):
        division = filters["division"]
        qs = qs.filter(scope_q("division_id", division.prefix) | Q(division_id__in=ancestor_codes(division.code)))
    return qs.select_related("division", "created_by").order_by("-year", "-starts_on", "id")


def campaign_get(*, actor: Any, pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.visible_to(actor).select_related("division", "created_by"), pk=pk)


def campaign_current(*, actor: Any, on: dt.date | None = None) -> Campaign | None:
    """The campaign a field worker most likely records for: one running today, else the latest one started."""
    on = on or timezone.localdate()
    qs = Campaign.objects.visible_to(actor).filter(starts_on__lte=on).select_related("division")
    running = qs.filter(ends_on__gte=on).order_by("ends_on", "-id").first()
    return running or qs.order_by("-ends_on", "-id").first()


def progress_division(*, actor: Any, campaign: Campaign, code: str | None = None) -> Division:
    """The division whose children the progress table lists: by default the deeper of the campaign's division
    and the actor's own (a town user sees only their town of a city campaign). Others answer 404."""
    own = actor.division if getattr(actor, "division_id", None) else None
    if own is None:
        raise Http404
    base = own if in_scope(own.code, campaign.division.prefix) else campaign.division
    if not code or code == base.code:
        return base
    division = Division.objects.filter(code=code).first()
    if division is None or not in_scope(division.code, base.prefix):
        raise Http404
    return division


def campaign_progress(*, actor: Any, campaign: Campaign, division: Division | None = None) -> dict[str, Any]:
    """Progress per child division of `division` (default: see `progress_division`) in three grouped queries.

    Targets and checks are counted by their own `division_code` (index scans), then rolled up to the children in
    Python, as `registry_summary` does: the cost does not grow with the number of divisions.
    """
    division = division or progress_division(actor=actor, campaign=campaign)
    level_index = LEVEL_ORDER.index(division.level)
    child_level = LEVEL_ORDER[level_index + 1] if level_index + 1 < len(LEVEL_ORDER) else None
    child_len = PREFIX_LENGTH[child_level] if child_level else 12
    ended = timezone.localdate() > campaign.ends_on
    where = scope_q("division_id", division.prefix)
    rows: dict[str, Progress] = {}

    def row(code: str) -> Progress:
        return rows.setdefault(code[:child_len], Progress(ended=ended))

    targets = campaign_targets(campaign, within=division.prefix) & Household.objects.visible_to(actor)
    for code, n in targets.order_by().values_list("division_id").annotate(n=Count("id")):
        row(code).targets += n
    checks = CheckRecord.objects.visible_to(actor).filter(where, campaign=campaign)
    if campaign.target_set == TargetSet.MONITORING:
        checks = checks.filter(household_id__in=targets.values("pk"))
    for code, verdict, n in checks.order_by().values_list("division_id", "verdict").annotate(n=Count("id")):
        item = row(code)
        item.checked += n
        if verdict in (Verdict.NO_DANGER, Verdict.SUSPECTED, Verdict.NEEDS_REPAIR):
            setattr(item, verdict, getattr(item, verdict) + n)

    children = []
    if child_level:
        for child in Division.objects.visible_to(actor).filter(parent=division).order_by("code"):
            children.append((child, rows.get(child.code[:child_len], Progress(ended=ended))))
    total = Progress(ended=ended)
    for item in rows.values():
        for key in ("targets", "checked", "no_danger", "suspected", "needs_repair"):
            setattr(total, key, getattr(total, key) + getattr(item, key))
    return {
        "campaign": campaign,
        "division": division,
        "total": total,
        "children": children,
        "child_level": child_level,
        "ended": ended,
    }


def _divisions_with_ancestors() -> Prefetch:
    return Prefetch("division", queryset=Division.objects.select_related("parent__parent"))


def campaign_unchecked_list(*, actor: Any, campaign: Campaign, division: Division, q: str = "") -> QuerySet[Household]:
    """Households of the campaign still to check, in the actor's scope and under `division` (P5 'late' once ended)."""
    qs = campaign_unchecked(campaign, within=division.prefix) & Household.objects.visible_to(actor)
    if q:
        qs = qs.filter(search_condition(q))
    return qs.prefetch_related(_divisions_with_ancestors()).order_by("division_id", "id")


def check_filter(qs: QuerySet[CheckRecord], filters: dict[str, Any], *, actor: Any = None) -> QuerySet[CheckRecord]:
    """The one filter set of the check list page and `GET /api/v1/checks`."""
    if filters.get("division"):
        qs = qs.filter(scope_q("division_id", filters["division"].prefix))
    if filters.get("campaign"):
        qs = qs.filter(campaign_id=getattr(filters["campaign"], "pk", filters["campaign"]))
    if filters.get("verdict"):
        qs = qs.filter(verdict=filters["verdict"])
    if filters.get("household"):
        qs = qs.filter(household_id=getattr(filters["household"], "pk", filters["household"]))
    if filters.get("mine") and actor is not None:
        qs = qs.filter(checker=actor)
    if filters.get("q"):
        qs = qs.filter(search_condition(filters["q"], prefix="household__"))
    return qs


def check_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[CheckRecord]:
    """The latest entered first (by id: the primary key index serves it, where sorting a city's 700,000 checks by
    date took 150–400 ms at 1M). Campaign, household and checker come by prefetch, one query each per page: joined,
    SQLite joined every check of the city before sorting."""
    qs = check_filter(CheckRecord.objects.visible_to(actor), filters or {}, actor=actor)
    return qs.prefetch_related("campaign", "household", "checker", _divisions_with_ancestors()).order_by("-id")


def check_get(*, actor: Any, pk: int) -> CheckRecord:
    qs = (
        CheckRecord.objects.visible_to(actor)
        .select_related("campaign__division", "household", "checker", "division__parent__parent")
        .prefetch_related(
            Prefetch("findings", queryset=HouseFinding.objects.select_related("house").order_by("house_id")),
            Prefetch("photos", queryset=Photo.objects.order_by("id")),
            Prefetch("appraisal_requests", queryset=AppraisalRequest.objects.order_by("id")),
        )
    )
    return get_object_or_404(qs, pk=pk)


def photo_get(*, actor: Any, pk: int) -> Photo:
    """404 outside the actor's subtree: photos are served only through this, never from a public URL."""
    return get_object_or_404(Photo.objects.visible_to(actor), pk=pk)
