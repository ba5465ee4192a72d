"""The demo's inspection loop (issue 3): this year's annual check, suspected dangers, appraisals, alerts.

Checks and their house findings are written in bulk with the households (thousands to a million rows); the few
P8 requests and appraisals go through the real services, so they are validated, audited and graded like any.
Everything is decided by random generators seeded from the demo seed, never by database ids.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from anju.accounts.models import User
from anju.accounts.permissions import has_action
from anju.core import bulk
from anju.core.errors import ConflictError
from anju.inspections.models import (
    Appraisal,
    AppraisalRequest,
    Campaign,
    CampaignKind,
    CheckRecord,
    HouseFinding,
    SiteHazard,
    Verdict,
)
from anju.inspections.services.appraisals import (
    appraisal_record,
    component_specs,
    request_assign,
    request_open,
)
from anju.inspections.services.campaigns import campaign_create_annual
from anju.registry.models import CAVE_STRUCTURES, EARTH_STRUCTURES, House

COVERAGE = 0.92
CHECK_FIELDS = [
    "id",
    "campaign",
    "household",
    "division",
    "checked_on",
    "checker",
    "verdict",
    "latitude",
    "longitude",
    "note",
    "created_at",
]
FINDING_FIELDS = [
    "check_record",
    "house",
    "division",
    "cracks",
    "tilt",
    "settlement",
    "roof_leak",
    "earth_wall_damp",
    "cave_arch_damage",
    "site_hazard",
    "occupied",
    "note",
]
CAVES = {str(s) for s in CAVE_STRUCTURES}
EARTH = {str(s) for s in EARTH_STRUCTURES}
HAZARDS = [SiteHazard.LANDSLIDE.value, SiteHazard.SUBSIDENCE.value, SiteHazard.FLOOD.value]
YUYANG_PREFIX = "610802"
DEMO_TOWN_PREFIX = "610802102"


def nearest_user(code: str, users: dict[str, int]) -> int | None:
    """The demo field worker nearest above a division: its village, town, county, then the city."""
    for key in (code, code[:9] + "000", code[:6] + "000000", code[:4] + "00000000"):
        if key in users:
            return users[key]
    return None


def field_users(users: list[User], action: str) -> dict[str, int]:
    """Division code → id of a demo user there who may do `action` (first by username, for determinism)."""
    out: dict[str, int] = {}
    for user in sorted(users, key=lambda u: u.username):
        if user.is_active and user.division_id and has_action(user, action):
            out.setdefault(user.division_id, user.pk)
    return out


@dataclass
class CheckPlan:
    """Writes this year's annual checks chunk by chunk, next to the households they are about."""

    seed: int
    campaign: Campaign
    checkers: dict[str, int]
    now_db: object
    layouts: dict[str, tuple[list[str], tuple]] = field(default_factory=dict)
    checks: int = 0
    findings: int = 0
    verdicts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"anju-demo-checks-{self.seed}")
        self.layouts = {
            "check": bulk.columns_for(CheckRecord, CHECK_FIELDS),
            "finding": bulk.columns_for(HouseFinding, FINDING_FIELDS),
        }
        start, end = self.campaign.starts_on, min(self.campaign.ends_on, timezone.localdate())
        self.days = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        self.checker_by_village: dict[str, int | None] = {}

    def _checker(self, village: str) -> int | None:
        if village not in self.checker_by_village:
            self.checker_by_village[village] = nearest_user(village, self.checkers)
        return self.checker_by_village[village]

    def write(self, households: list[tuple[int, Any, int]], digest: Any) -> None:
        """`households`: (household id, spec, id of its first house) in generation order."""
        rng = self.rng
        planned = []
        for household_id, spec, first_house in households:
            if rng.random() >= COVERAGE or not self.days:
                continue
            checker = self._checker(spec.village)
            if checker is None:
                continue
            houses = spec.houses
            dangerous = any(h.grade in ("C", "D") for h in houses)
            caves = any(h.structure in CAVES for h in houses)
            p_suspected = 0.16 if dangerous else (0.015 if caves else 0.004)
            r = rng.random()
            verdict = Verdict.NO_DANGER.value
            if houses and r < p_suspected:
                verdict = Verdict.SUSPECTED.value
            elif r < p_suspected + 0.028:
                verdict = Verdict.NEEDS_REPAIR.value
            checked_on = self.days[rng.randrange(len(self.days))]
            hazards = [(rng.choice(HAZARDS) if h.structure in CAVES and rng.random() < 0.012 else "") for h in houses]
            if any(hazards) and verdict == Verdict.NO_DANGER.value:
                verdict = Verdict.NEEDS_REPAIR.value
            # the house the verdict is about: the worst graded, caves before others
            target = None
            if houses and verdict != Verdict.NO_DANGER.value:
                order = sorted(
                    range(len(houses)),
                    key=lambda i: (houses[i].grade not in ("C", "D"), houses[i].structure not in CAVES, i),
                )
                target = order[0]
            extra = rng.random()
            planned.append((household_id, spec, first_house, verdict, checked_on, checker, hazards, target, extra))

        if not planned:
            return
        first_check = bulk.reserve_ids(CheckRecord, len(planned))
        check_extra, finding_extra = self.layouts["check"][1], self.layouts["finding"][1]
        checks: list[tuple] = []
        findings: list[tuple] = []
        campaign_id = self.campaign.pk
        for offset, (
            household_id,
            spec,
            first_house,
            verdict,
            checked_on,
            checker,
            hazards,
            target,
            extra,
        ) in enumerate(planned):
            check_id = first_check + offset
            houses = spec.houses
            lon = houses[0].longitude if houses else None
            lat = houses[0].latitude if houses else None
            note = ""
            if verdict == Verdict.SUSPECTED.value:
                note = "房屋存在明显险情，建议尽快鉴定"
            elif verdict == Verdict.NEEDS_REPAIR.value:
                note = "存在一般性损坏，建议维修"
            checks.append(
                (
                    check_id,
                    campaign_id,
                    household_id,
                    spec.village,
                    checked_on,
                    checker,
                    verdict,
                    lat,
                    lon,
                    note,
                    self.now_db,
                    *check_extra,
                )
            )
            self.verdicts[verdict] += 1
            lines = [f"{spec.digest_line()[:40]}|{checked_on}|{verdict}|{checker}"]
            for i, h in enumerate(houses):
                cracks = tilt = settlement = roof_leak = damp = arch = False
                if i == target and verdict == Verdict.SUSPECTED.value:
                    cracks = True
                    if h.structure in CAVES:
                        arch = True
                    else:
                        tilt = True
                    settlement = extra < 0.3
                elif i == target and verdict == Verdict.NEEDS_REPAIR.value and not hazards[i]:
                    if h.structure in EARTH and extra < 0.5:
                        damp = True
                    elif extra < 0.8:
                        roof_leak = True
                    else:
                        cracks = True
                row = (cracks, tilt, settlement, roof_leak, damp, arch, hazards[i], not h.is_idle)
                findings.append((check_id, first_house + i, spec.village, *row, "", *finding_extra))
                lines.append(repr(row))
            digest.update(("|".join(lines) + "\n").encode())
        bulk.insert_rows(CheckRecord, self.layouts["check"][0], checks)
        bulk.insert_rows(HouseFinding, self.layouts["finding"][0], findings)
        self.checks += len(checks)
        self.findings += len(findings)


def annual_campaign(admin: User | None, city: str) -> Campaign | None:
    """This year's annual check of the city, created by the demo admin (or the one already there)."""
    year = timezone.localdate().year
    existing = Campaign.objects.filter(kind=CampaignKind.ANNUAL, year=year, division_id=city).first()
    if existing is not None:
        return existing
    if admin is None:
        return None
    try:
        return campaign_create_annual(actor=admin, year=year, division_code=city)
    except ConflictError:  # an annual check of some county already: the demo does not add a second
        return None


# -- P8 requests and appraisals through the services ---------------------------------------------------------------

DESCRIPTIONS = [
    "窑脸开裂，拱顶有掉土现象",
    "后墙出现贯通裂缝，墙体向外倾斜",
    "雨后屋面大面积渗漏，檩条有腐朽",
    "地基不均匀沉降，门窗变形难以开合",
    "房后边坡出现裂缝，有滑塌风险",
]
CONCLUSIONS = {"C": "局部危房，建议加固维修后使用", "D": "整幢危房，建议停止使用并拆除重建或另行安置"}


@dataclass
class RequestReport:
    opened: int = 0
    assigned: int = 0
    done: int = 0
    overridden: int = 0
    digest_lines: list[str] = field(default_factory=list)


def _candidates(prefix: str, exclude_prefix: str | None, limit: int) -> list[House]:
    qs = House.objects.filter(household__is_sample=True, division__code__startswith=prefix).exclude(
        appraisal_requests__status__in=["open", "assigned"]
    )
    if exclude_prefix:
        qs = qs.exclude(division__code__startswith=exclude_prefix)
    preferred = list(qs.filter(grade__in=["C", "D"]).order_by("id")[:limit]) + list(
        qs.filter(structure__in=list(CAVES)).exclude(grade__in=["C", "D"]).order_by("id")[:limit]
    )
    return preferred


def grades_for(house: House, target: str, rng: random.Random) -> dict[str, str]:
    """Component grades whose worst is `target` ("c" or "d"), on the house structure's active components."""
    specs = component_specs(house.structure)
    grades = {s.code: rng.choice("aab") for s in specs}
    plain = [s for s in specs if not s.d_means_dangerous_site] or specs
    if plain:
        grades[plain[rng.randrange(len(plain))].code] = target
    return grades


def demo_requests(*, seed: int, users: list[User], today: dt.date | None = None) -> RequestReport:
    """About 40 suspected dangers in every state, at least 10 in 榆阳区 and several in 镇川镇 (the demo users' own)."""
    today = today or timezone.localdate()
    rng = random.Random(f"anju-demo-requests-{seed}")
    by_name = {u.username: u for u in users}
    reporters = field_users(users, "inspections.report")
    users_by_id = {u.pk: u for u in users}
    admin = by_name.get("admin")
    county = by_name.get("yuyang_admin")
    appraiser = by_name.get("yuyang_jianding")
    report = RequestReport()

    def pick(prefix: str, exclude: str | None, count: int, taken: set[int]) -> list[House]:
        pool = [h for h in _candidates(prefix, exclude, 400) if h.pk not in taken]
        chosen = rng.sample(pool, min(count, len(pool)))
        taken.update(h.pk for h in chosen)
        return chosen

    taken: set[int] = set()
    town = pick(DEMO_TOWN_PREFIX, None, 6, taken)
    yuyang = pick(YUYANG_PREFIX, DEMO_TOWN_PREFIX, 8, taken)
    city = pick("6108", YUYANG_PREFIX, 26, taken)
    # (house, plan): "overdue" / "recent" open; "assigned" (some overdue); "done" by the appraiser
    plans: list[tuple[House, str]] = []
    for i, house in enumerate(town + yuyang):
        plans.append((house, ["overdue", "assigned", "done", "recent", "done", "assigned", "overdue"][i % 7]))
    for i, house in enumerate(city):
        plans.append((house, ["overdue", "overdue", "recent", "admin_done"][i % 4]))

    override_done = False
    for house, plan in plans:
        reporter = users_by_id.get(nearest_user(house.division_id, reporters) or 0)
        if reporter is None:
            continue
        age = rng.randint(20, 75) if plan in ("overdue", "assigned") else rng.randint(3, 12)
        if plan in ("done", "admin_done"):
            age = rng.randint(25, 80)
        reported_on = today - dt.timedelta(days=age)
        description = rng.choice(DESCRIPTIONS)
        request = request_open(actor=reporter, house=house, description=description, reported_on=reported_on)
        report.opened += 1
        line = f"{house.household.id_hash}|{house.structure}|{reported_on}|{plan}"
        lead = None
        if plan in ("assigned", "done") and county and appraiser:
            request = request_assign(
                actor=county, request=request, appraiser=appraiser, assigned_on=reported_on + dt.timedelta(days=2)
            )
            report.assigned += 1
            lead = appraiser if plan == "done" else None
        elif plan == "admin_done" and admin:
            lead = admin
        if lead is not None:
            target = "d" if rng.random() < 0.4 else "c"
            components = grades_for(house, target, rng)
            override = not override_done and target == "c"
            appraisal = appraisal_record(
                actor=lead,
                house=house,
                request=request,
                appraised_on=min(today, reported_on + dt.timedelta(days=rng.randint(4, 12))),
                disaster_prevention=rng.choice(["partial", "none"]),
                components=components,
                final_grade="D" if override else None,
                override_reason="承重墙体风化严重且房后边坡不稳，综合判断为整幢危房" if override else "",
                conclusion=CONCLUSIONS["D" if override or target == "d" else "C"],
            )
            override_done = override_done or override
            report.overridden += int(override)
            report.done += 1
            line += f"|{appraisal.computed_grade}{appraisal.final_grade}|{sorted(components.items())}"
        report.digest_lines.append(line)
    return report


def request_counts() -> dict[str, int]:
    counts = Counter(AppraisalRequest.objects.filter(house__household__is_sample=True).values_list("status", flat=True))
    return dict(counts) | {"appraisals": Appraisal.objects.filter(house__household__is_sample=True).count()}
