"""The demo's living ledger (issue 4): cases of 榆阳区 in every state across the last two years (P2, P19–P22).

Every case is opened and moved through the real services (`cases/services/*`), with dates in the past: appraisals
of last year and this year by the trained demo appraiser, then the household's application, the plan, the works,
site visits, acceptance, subsidy payments, close-out. The four sign-offs need a village, a town and a county person
of the case's own divisions, so most cases lie in 镇川镇 where the demo town and village users sign; the few
villages without one get a clearly named sample signer (演示-…签字责任人).

What happens is decided by random generators seeded from the demo seed and by `today` (P19 deadlines are fixed
dates), never by database ids. The plan (`plan_ledger`) is pure, so its dates can be tested for any day.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from anju.accounts.models import User
from anju.accounts.permissions import Role
from anju.accounts.services import user_create
from anju.cases.models import (
    Case,
    CaseSource,
    CaseState,
    Craftsman,
    CraftsmanKind,
    HouseholdType,
    Renovation,
    RenovationMethod,
    SecureMeans,
    SignOffKind,
    SubsidyRate,
    TransitionKind,
)
from anju.cases.selectors import due_soon_q, late_q
from anju.cases.services import cases as case_services
from anju.cases.services import registries, renovation
from anju.cases.services.signoffs import LEVEL_ROLE, LEVELS, level_code, signable, signoff_sign
from anju.divisions.models import Division
from anju.inspections.services.appraisals import appraisal_record, component_specs
from anju.registry.models import House
from anju.training.demo import demo_craftsmen_training_ensure

from . import vocab
from .inspections import CONCLUSIONS, grades_for

#: (county, its demo appraiser): the ledger lies in 榆阳区, where the demo users are, when it has free houses
#: enough (from about 1,000 demo households on); a smaller demo has few there, so then in 神木市 (shenmu_admin),
#: appraised by the demo admin.
COUNTIES = [("610802000000", "yuyang_jianding"), ("610881000000", "")]
DEMO_TOWN = "610802102000"  # 镇川镇: the demo town and village users
MIN_CASES, MAX_CASES = 13, 120
CENT = Decimal("0.01")
MAX_SIGNING_VILLAGES = 6
TOWN_SHARE = 0.65  # of the cases without signatures, the share put in 镇川镇
SIGNER_SUFFIX = "签字责任人"
SAMPLE_NOTE = "示例标准（演示数据，非正式补助标准，请按本市文件设置）"
SAMPLE_RATES = {  # P21: sample amounts per household, marked 示例; the city sets the real ones
    RenovationMethod.REINFORCE: 15000,
    RenovationMethod.REBUILD: 30000,
    RenovationMethod.RELOCATE: 35000,
    RenovationMethod.PUBLIC_RENTAL: 20000,
    RenovationMethod.IDLE_REPAIR: 10000,
    RenovationMethod.SEISMIC: 8000,
}
SAMPLE_CRAFTSMEN = [  # (name, kind, certificate): the county's sample craftsmen, trained every year of the works
    ("高建军", CraftsmanKind.CRAFTSMAN, "示例-JG-001"),
    ("白振华", CraftsmanKind.CRAFTSMAN, "示例-JG-002"),
    ("安居农房建筑工程队", CraftsmanKind.BUILDER, "示例-SG-001"),
]
ATLAS = ["陕西省农房设计图集 窑洞-03", "陕西省农房设计图集 砖混-12", "陕西省农房设计图集 砖木-07"]
DESCRIPTIONS = {
    CaseSource.ANNUAL_CHECK: "年度核查发现承重墙体开裂，屋面渗漏",
    CaseSource.PROBLEM_LIST: "乡村振兴部门移交：该户住房存在安全隐患，需鉴定并落实改造",
    CaseSource.DISASTER: "强降雨后房后边坡局部滑塌，窑脸出现裂缝",
    CaseSource.COMPLAINT: "农户来电反映房屋墙体裂缝加宽、雨天漏雨，要求鉴定",
    CaseSource.SUPERVISION: "市级督导抽查发现窑洞拱顶掉土，需尽快鉴定",
}
SECURE = [  # P10: made safe by other means, with the evidence
    (SecureMeans.PUBLIC_RENTAL, "已入住村集体公租房，入住通知及租住协议存档"),
    (SecureMeans.RELATIVES, "投靠子女居住，子女住房为砖混结构、经鉴定为A级，已签订投亲靠友协议"),
    (SecureMeans.RENTED, "租住本镇安全住房（B级），租房协议已存档，原危房已停止居住"),
    (SecureMeans.IDLE_HOUSE, "借住本村经修缮加固的闲置房，借住协议已存档"),
]
TRANSITIONS = [
    (TransitionKind.RELATIVES, "投靠本村亲属家（砖混结构，A级）"),
    (TransitionKind.RENTED, "租住镇上民房（B级）"),
    (TransitionKind.PUBLIC, "村集体周转房"),
]
PROBLEM_TYPES = [
    HouseholdType.UNSTABLE,
    HouseholdType.EDGE,
    HouseholdType.SUDDEN_HARDSHIP,
    HouseholdType.OTHER_REGISTERED,
]

# -- the plan: what each case shows, and when it was appraised --------------------------------------------------

#: Final shapes of a case. "closed_*" need all twelve sign-offs, so their village must have signers.
CLOSED_KINDS = ("closed_renovated", "closed_safe", "closed_secured")
WORKS_KINDS = ("construction", "completed", "accepted", "closed_renovated")
DONE_KINDS = ("completed", "accepted", "closed_renovated", "secured", "closed_secured", "closed_safe")
#: How far the 四清 are signed: the (kind, level) pairs, signed bottom up where the case allows it.
_ALL = [(k, lv) for k in SignOffKind.values for lv in LEVELS]
SIGNING = {
    "all": _ALL,
    "county": _ALL[:-1],  # everything but the county's 验收清: yuyang_admin can sign and close
    "town": _ALL[:-2],  # the town's 验收清 is next
    "village": _ALL[:6],  # 问题清 and 鉴定清 done; the village's 改造清 is next
    "problem": _ALL[:3],
    "problem_village": _ALL[:1],
    "none": [],
}
DEFAULT_SIGNING = {
    "registered": "problem_village",
    "awaiting": "problem",
    "cancelled": "none",
    "appraised": "village",
    "planned": "village",
    "construction": "village",
    "completed": "village",
    "accepted": "town",
    "secured": "village",
}


@dataclass(frozen=True)
class Spec:
    kind: str
    timing: str = "past"  # when appraised: "late", "due_soon", "recent", "past" or "none" (not appraised)
    source: str = CaseSource.SUSPECTED
    signing: str = ""  # a key of SIGNING; "" = the kind's default
    transitional: str = ""  # "confirmed", "unconfirmed" or "" (none recorded)
    open_fix: bool = False
    payments: int = 0
    applied: bool = False  # an appraised case whose household has applied already


S = CaseSource
#: One case of each thing a newcomer should see, first, so that even a small demo shows them all.
CORE = [
    Spec("closed_renovated", payments=2, signing="all", transitional="confirmed"),
    Spec("appraised", "late", applied=True),
    Spec("construction", "due_soon", transitional="confirmed"),
    Spec("secured", signing="village"),
    Spec("planned", "recent", source=S.PROBLEM_LIST),
    Spec("closed_safe", source=S.COMPLAINT, signing="all"),
    Spec("cancelled", "none", source=S.COMPLAINT),
    Spec("registered", "none", source=S.DISASTER),
    Spec("awaiting", "none", source=S.SUPERVISION),
    Spec("construction", "late", transitional="unconfirmed", open_fix=True),
    Spec("completed"),
    Spec("accepted", payments=1, signing="county"),
    Spec("closed_secured", signing="all"),
]
#: Then these, in turn, up to the number of cases.
FILL = [
    Spec("closed_renovated", payments=1, signing="all"),
    Spec("appraised", "recent"),
    Spec("construction", "recent"),
    Spec("closed_renovated", source=S.PROBLEM_LIST, signing="all", payments=2),
    Spec("planned", "late"),
    Spec("appraised", "due_soon", applied=True),
    Spec("accepted", signing="town"),
    Spec("construction", "recent", transitional="confirmed", open_fix=True),
    Spec("completed", source=S.ANNUAL_CHECK),
    Spec("secured", signing="problem"),
    Spec("closed_safe", source=S.ANNUAL_CHECK, signing="all"),
    Spec("appraised", "recent", source=S.PROBLEM_LIST, applied=True),
    Spec("registered", "none", source=S.COMPLAINT),
    Spec("closed_secured", source=S.PROBLEM_LIST, signing="all"),
    Spec("construction", "due_soon", transitional="unconfirmed"),
    Spec("accepted", signing="village", payments=1),
    Spec("cancelled", "none", source=S.ANNUAL_CHECK),
    Spec("appraised", "late"),
    Spec("planned", "recent"),
    Spec("closed_renovated", signing="all", payments=1, transitional="confirmed"),
]


@dataclass(frozen=True)
class CasePlan:
    index: int
    spec: Spec
    appraised_on: dt.date | None


def ledger_size(households: int) -> int:
    """About 40 cases plus one per 400 households, capped: enough to show every state, cheap to write."""
    return max(MIN_CASES, min(MAX_CASES, 40 + households // 400))


def due_soon_window(today: dt.date) -> tuple[dt.date, dt.date] | None:
    """P19: the appraisal dates (in the past, last year or this) whose completion deadline falls within the next
    30 days — none in most months, since the deadlines are 31 May and 30 November."""
    year = today.year
    for deadline, first, last in (
        (dt.date(year, 5, 31), dt.date(year - 1, 7, 1), dt.date(year - 1, 12, 31)),
        (dt.date(year, 11, 30), dt.date(year, 3, 1), dt.date(year, 6, 30)),
    ):
        last = min(last, today)
        if today <= deadline <= today + dt.timedelta(days=30) and first <= last:
            return first, last
    return None


def _between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max((last - first).days, 0)))


def plan_ledger(*, seed: int, today: dt.date, count: int) -> list[CasePlan]:
    """The cases to write, in order, with their appraisal dates (P19): "late" appraised January–June last year
    (deadline 30 November last year, passed); "due_soon" in the window above (else treated as "recent");
    "recent" within the last 10–60 days (never late nor due soon); "past" from March last year."""
    rng = random.Random(f"anju-demo-ledger-{seed}")
    soon = due_soon_window(today)
    specs = [*CORE, *FILL * (count // len(FILL) + 1)][:count]
    plans = []
    for i, spec in enumerate(specs):
        if spec.timing == "due_soon" and soon is None:
            spec = replace(spec, timing="recent")
        appraised_on = None
        if spec.timing == "late":
            appraised_on = _between(rng, dt.date(today.year - 1, 3, 1), dt.date(today.year - 1, 6, 30))
        elif spec.timing == "due_soon":
            appraised_on = _between(rng, *soon)
        elif spec.timing == "recent":
            appraised_on = today - dt.timedelta(days=rng.randint(10, 60))
        elif spec.timing == "past":
            appraised_on = _between(rng, dt.date(today.year - 1, 3, 1), today - dt.timedelta(days=45))
        plans.append(CasePlan(index=i, spec=spec, appraised_on=appraised_on))
    return plans


# -- people, rates and craftsmen ----------------------------------------------------------------------------------


@dataclass
class LedgerReport:
    cases: int = 0
    states: dict[str, int] = field(default_factory=dict)
    late: int = 0
    due_soon: int = 0
    signoffs: int = 0
    payments: int = 0
    signers_created: list[User] = field(default_factory=list)
    digest_lines: list[str] = field(default_factory=list)


def _found(code: str, role: str) -> User | None:
    """An active user of exactly `code` holding `role`: a demo user (演示-…) first, then by username."""
    people = User.objects.filter(division_id=code, is_active=True).order_by("username")
    fitting = [user for user in people if role in (user.roles or [])]
    return next((u for u in fitting if u.full_name.startswith("演示-")), fitting[0] if fitting else None)


def _signer_username(division: Division, level: str) -> str:
    """`wangjiagou_cun` like the demo village user; a code-based name when the name has no pinyin or is taken."""
    suffix = {"village": "cun", "town": "zhen", "county": "xian"}[level]
    stem = division.name.removesuffix("村").removesuffix("镇").removesuffix("乡").removesuffix("区")
    spelled = vocab.pinyin(stem)
    username = f"{spelled}_{suffix}" if spelled else f"{suffix}_{division.code}"
    if User.objects.filter(username=username).exists():
        username = f"{suffix}_{division.code}"
    return username


def signers_for(village: str, report: LedgerReport) -> dict[str, User] | None:
    """P2: the village, town and county person who sign a case of `village`; the missing ones are created as
    sample signers (演示-…签字责任人). None when a name is taken by someone else."""
    people = {}
    for level in LEVELS:
        code = level_code(village, level)
        person = _found(code, LEVEL_ROLE[level])
        if person is None:
            division = Division.objects.get(code=code)
            username = _signer_username(division, level)
            if User.objects.filter(username=username).exists():
                return None
            person = user_create(
                actor=None,
                username=username,
                password=settings.ANJU_DEMO_PASSWORD,
                division_code=code,
                roles=[LEVEL_ROLE[level]],
                full_name=f"演示-{division.name}{SIGNER_SUFFIX}",
            )
            report.signers_created.append(person)
        people[level] = person
    return people


def sample_signers() -> list[User]:
    """The sample signers the ledger created, for the demo users' table."""
    return list(
        User.objects.filter(full_name__startswith="演示-", full_name__endswith=SIGNER_SUFFIX)
        .select_related("division")
        .order_by("division_id", "username")
    )


def sample_rates_ensure(*, admin: User | None, years: list[int]) -> None:
    """P21: sample subsidy rates (marked 示例) for the years of the demo's plans, only where the city set none."""
    for year in years:
        for method, amount in SAMPLE_RATES.items():
            if SubsidyRate.objects.filter(year=year, method=method, grade="", category_code="").exists():
                continue
            if admin is not None:
                registries.subsidy_rate_set(
                    actor=admin, year=year, method=method, amount=amount, note=SAMPLE_NOTE, is_sample=True
                )
            else:
                SubsidyRate.objects.create(year=year, method=method, amount=amount, note=SAMPLE_NOTE, is_sample=True)


def sample_craftsmen_ensure(*, actor: User, county: str, years: list[int], today: dt.date) -> list[Craftsman]:
    """P17, P22: the county's sample craftsmen, registered and trained in every year of the demo's works."""
    people = []
    for name, kind, certificate in SAMPLE_CRAFTSMEN:
        person = Craftsman.objects.filter(division_id=county, name=name, is_sample=True).first()
        if person is None:
            person = registries.craftsman_register(
                actor=actor, county_code=county, name=name, kind=kind, certificate=certificate
            )
            Craftsman.objects.filter(pk=person.pk).update(is_sample=True)
        people.append(person)
    demo_craftsmen_training_ensure(people, years, today)
    return people


# -- houses ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _House:
    pk: int
    village: str
    grade: str


def _free_houses(county: str, rng: random.Random) -> list[_House]:
    """Sample houses of the county without a request, appraisal or case; one per household, its worst first."""
    rows = (
        House.objects.filter(
            household__is_sample=True,
            division__code__range=(county[:6] + "000000", county[:6] + "999999"),
            appraisal_requests__isnull=True,
            appraisals__isnull=True,
            cases__isnull=True,
        )
        .order_by("id")
        .values_list("id", "household_id", "division_id", "grade")
    )
    best: dict[int, _House] = {}
    for pk, household, village, grade in rows:
        house = _House(pk, village, grade)
        if household not in best or (grade in "CD" and best[household].grade not in "CD"):
            best[household] = house
    houses = list(best.values())
    rng.shuffle(houses)
    return houses


class _Pool:
    """Free houses by zone ("signing": villages with signers, "town": 镇川镇, "other"), dangerous ones apart."""

    def __init__(self, houses: list[_House], signing: set[str]) -> None:
        self.buckets: dict[tuple[str, bool], list[_House]] = {}
        for house in houses:
            zone = (
                "signing" if house.village in signing else ("town" if house.village[:9] == DEMO_TOWN[:9] else "other")
            )
            self.buckets.setdefault((zone, house.grade in ("C", "D")), []).append(house)

    def take(self, zones: list[str], dangerous: bool) -> _House | None:
        for zone in zones:
            for wanted in (dangerous, not dangerous):
                bucket = self.buckets.get((zone, wanted))
                if bucket:
                    return bucket.pop()
        return None


def _signing_villages(
    houses: list[_House], need: int, demo_villages: set[str], report: LedgerReport
) -> dict[str, dict[str, User]]:
    """Villages whose cases can be signed: the demo village user's, then 镇川镇's, then the largest, until they
    hold `need` houses (at most MAX_SIGNING_VILLAGES). The choice depends on the data only, not on the signers
    an earlier run created, so one seed gives one ledger."""
    counts = Counter(h.village for h in houses)
    ordered = sorted(counts, key=lambda v: (v not in demo_villages, v[:9] != DEMO_TOWN[:9], -counts[v], v))
    chosen: dict[str, dict[str, User]] = {}
    held = 0
    for village in ordered[:MAX_SIGNING_VILLAGES]:
        if held >= need:
            break
        people = signers_for(village, report)
        if people is not None:
            chosen[village] = people
            held += counts[village]
    return chosen


# -- writing one case --------------------------------------------------------------------------------------------


def _steps(rng: random.Random, first: dt.date, last: dt.date, names: list[str]) -> dict[str, dt.date]:
    """Dates for `names`, in this order, spread between `first` and `last`."""
    last = max(last, first)
    span = (last - first).days
    offsets = sorted(rng.randint(0, span) for _ in names)
    return {name: first + dt.timedelta(days=d) for name, d in zip(names, offsets, strict=True)}


def _components(house: House, grade: str, rng: random.Random) -> dict[str, str]:
    """Component grades whose worst is `grade` (C, D, or B for a house found safe)."""
    if grade in ("C", "D"):
        return grades_for(house, grade.lower(), rng)
    grades = {s.code: rng.choice("aab") for s in component_specs(house.structure)}
    plain = [code for code, _value in sorted(grades.items())]
    if plain and "b" not in grades.values():
        grades[plain[rng.randrange(len(plain))]] = "b"
    return grades


def _method(grade: str, rng: random.Random) -> str:
    """P21: reinforce a C house (sometimes 抗震改造 or an idle house), rebuild, relocate or rent for a D."""
    r = rng.random()
    if grade == "C":
        return RenovationMethod.REINFORCE if r < 0.8 else RenovationMethod.IDLE_REPAIR
    if r < 0.6:
        return RenovationMethod.REBUILD
    return RenovationMethod.RELOCATE if r < 0.85 else RenovationMethod.PUBLIC_RENTAL


@dataclass
class _World:
    today: dt.date
    county: User
    appraiser: User
    craftsmen: list[Craftsman]
    signers: dict[str, dict[str, User]]
    report: LedgerReport

    def opener(self, village: str) -> User:
        """Who records the problem and the household's application: the village, else the town, else the county."""
        if village in self.signers:
            return self.signers[village]["village"]
        town = next((p["town"] for v, p in self.signers.items() if v[:9] == village[:9]), None)
        return town or self.county


def _sign(world: _World, case: Case, signing: str) -> Case:
    people = world.signers.get(case.division_id)
    if not people:
        return case
    for kind, level in SIGNING[signing]:
        if signable(case, kind):
            signoff_sign(actor=people[level], case=case, kind=kind, comment="情况属实")
            world.report.signoffs += 1
    return Case.objects.get(pk=case.pk)


def write_case(world: _World, plan: CasePlan, house: House) -> Case:
    """Open one case and move it, with past dates, to what its plan shows."""
    spec, today = plan.spec, world.today
    rng = random.Random(f"anju-demo-case-{plan.index}-{house.household.id_hash[:16]}")
    county, opener = world.county, world.opener(house.division_id)
    signing = spec.signing or DEFAULT_SIGNING.get(spec.kind, "none")
    household = house.household

    if plan.appraised_on is None:  # registered, waiting for its appraisal, or withdrawn
        opened_on = today - dt.timedelta(days=rng.randint(3, 40))
        case = case_services.case_open(
            actor=opener,
            household=household,
            house=house,
            source=spec.source,
            description=DESCRIPTIONS[spec.source],
            opened_on=opened_on,
        )
        if spec.kind == "awaiting":
            case = case_services.case_request_appraisal(actor=opener, case=case)
        case = _sign(world, case, signing)
        if spec.kind == "cancelled":
            case = case_services.case_cancel(
                actor=county, case=case, reason="重复登记：该户房屋问题已在本村另一台账中跟踪处理"
            )
        return case

    appraised_on = plan.appraised_on
    if spec.source != CaseSource.SUSPECTED:  # a problem found elsewhere, then appraised (逐户鉴定)
        opened_on = appraised_on - dt.timedelta(days=rng.randint(3, 25))
        problem_list = spec.source == CaseSource.PROBLEM_LIST
        transferred_on = opened_on - dt.timedelta(days=rng.randint(0, 10)) if problem_list else None
        case_services.case_open(
            actor=opener,
            household=household,
            house=house,
            source=spec.source,
            description=DESCRIPTIONS[spec.source],
            opened_on=opened_on,
            household_type=rng.choice(PROBLEM_TYPES) if problem_list else "",
            transferred_on=transferred_on,
            source_ref=f"{transferred_on.year}年第{rng.randint(1, 4)}批-{rng.randint(1, 60):02d}"
            if problem_list
            else "",
        )
    grade = "B" if spec.kind == "closed_safe" else (house.grade if house.grade in ("C", "D") else rng.choice("CCD"))
    components = _components(house, grade, rng)
    appraisal_record(
        actor=world.appraiser,
        house=house,
        appraised_on=appraised_on,
        disaster_prevention=rng.choice(["partial", "none"]),
        components=components,
        conclusion=CONCLUSIONS.get(grade, "房屋基本安全，可正常使用"),
    )
    case = Case.objects.get(house=house, state=CaseState.APPRAISED)
    due_on = case.due_on or today
    # P19: done cases finished their works before the deadline when there was time for it
    done_by = min(today, due_on) if due_on >= appraised_on + dt.timedelta(days=30) else today

    if spec.kind == "closed_safe":
        case = _sign(world, case, "all")
        closed_on = _between(rng, appraised_on, today)
        return case_services.case_close(actor=county, case=case, closed_on=closed_on)

    if spec.kind in ("secured", "closed_secured"):
        means, evidence = SECURE[rng.randrange(len(SECURE))]
        secured_on = min(_between(rng, appraised_on + dt.timedelta(days=1), done_by), today)
        case = case_services.case_secure(actor=county, case=case, means=means, secured_on=secured_on, evidence=evidence)
        if spec.kind == "closed_secured":
            case = _sign(world, case, "all")
            return case_services.case_close(actor=county, case=case, closed_on=_between(rng, secured_on, today))
        return _sign(world, case, signing)

    if spec.kind == "appraised":
        if spec.applied:
            renovation.renovation_apply(
                actor=opener,
                case=case,
                applied_on=_between(rng, appraised_on, today),
                consent_on=None,
                application_note="申请危房改造补助",
            )
        return _sign(world, case, signing)

    return _renovate(world, plan, case, rng, signing=signing, done_by=done_by)


def _renovate(world: _World, plan: CasePlan, case: Case, rng: random.Random, *, signing: str, done_by: dt.date) -> Case:
    """P20–P22: application and consent, plan, design, builder, works with visits, completion, acceptance."""
    spec, today, county = plan.spec, world.today, world.county
    opener = world.opener(case.division_id)
    method = _method(case.grade, rng)
    must_move_out = method != RenovationMethod.PUBLIC_RENTAL and (
        method != RenovationMethod.REINFORCE or rng.random() < 0.4
    )
    if spec.transitional:
        must_move_out = True
    works = ["applied", "consent", "planned", "started", "visited", "completed"]
    if spec.kind in DONE_KINDS:
        dates = _steps(rng, case.appraised_on, done_by, works)
    else:
        dates = _steps(rng, case.appraised_on, today, works)
    after = _steps(rng, dates["completed"], today, ["accepted", "paid", "closed", "paid2"])
    dates |= after

    renovation.renovation_apply(
        actor=opener,
        case=case,
        applied_on=dates["applied"],
        consent_on=dates["consent"],
        consent_by=case.household.head_name,
        application_note="申请危房改造补助",
        consent_note=f"同意按「{RenovationMethod(method).label}」方式改造",
        household_chose_plan=True,
        own_labour=rng.random() < 0.6,
        self_funding=Decimal(rng.choice([0, 5000, 10000, 20000])),
    )
    case = renovation.case_plan(actor=county, case=case, method=method, planned_on=dates["planned"])
    if spec.kind == "planned":
        if rng.random() < 0.5:
            renovation.renovation_design(
                actor=county, case=case, design_kind="atlas", design_reference=rng.choice(ATLAS)
            )
        return _sign(world, case, signing)

    renovation.renovation_design(actor=county, case=case, design_kind="atlas", design_reference=rng.choice(ATLAS))
    builder = world.craftsmen[rng.randrange(len(world.craftsmen))]
    renovation.renovation_builder(actor=county, case=case, builder=builder)
    case = renovation.case_start(
        actor=county,
        case=case,
        started_on=dates["started"],
        must_move_out=must_move_out,
        energy_saving=rng.random() < 0.5,
        toilet_retrofit=rng.random() < 0.7,
    )
    if must_move_out and spec.transitional != "unconfirmed" and (spec.transitional or spec.kind != "construction"):
        kind, place = TRANSITIONS[rng.randrange(len(TRANSITIONS))]
        ends = dates["completed"] if spec.kind != "construction" else None
        housing = renovation.transitional_add(
            actor=opener, case=case, kind=kind, place=place, from_on=dates["started"], to_on=ends
        )
        renovation.transitional_confirm(actor=opener, housing=housing, confirmed_on=dates["started"])
    elif spec.transitional == "unconfirmed":
        kind, place = TRANSITIONS[rng.randrange(len(TRANSITIONS))]
        renovation.transitional_add(actor=opener, case=case, kind=kind, place=place, from_on=dates["started"])

    visited = dates["visited"]
    if spec.open_fix:
        renovation.site_visit_add(
            actor=county,
            case=case,
            visited_on=visited,
            findings="圈梁未按图集设置，砂浆强度不足",
            needs_fix=True,
            fix_due_on=visited + dt.timedelta(days=15),
        )
    elif spec.kind != "construction" or rng.random() < 0.6:
        fix = rng.random() < 0.3
        visit = renovation.site_visit_add(
            actor=county,
            case=case,
            visited_on=visited,
            findings="部分墙体拉结筋缺失" if fix else "施工规范，质量符合要求",
            needs_fix=fix,
            fix_due_on=visited + dt.timedelta(days=10) if fix else None,
        )
        if fix:
            renovation.site_visit_fix(actor=county, visit=visit, fixed_on=visited, fix_note="已按要求补设拉结筋")
    if spec.kind == "construction":
        return _sign(world, case, signing)

    case = renovation.case_complete(actor=county, case=case, completed_on=dates["completed"])
    if spec.kind == "completed":
        return _sign(world, case, signing)

    case = renovation.case_accept(
        actor=county,
        case=case,
        accepted_on=dates["accepted"],
        acceptance_team="县住建局、镇村干部、农户",
        household_signed=True,
        house_grade_after=rng.choice("AB"),
    )
    subsidy = Renovation.objects.get(case=case).subsidy_amount or Decimal(0)
    first = subsidy if spec.payments == 1 and spec.kind != "accepted" else (subsidy * Decimal("0.6")).quantize(CENT)
    account = "6228" + "".join(str(rng.randrange(10)) for _ in range(15))  # synthetic; stored masked
    for i, amount in enumerate([first, subsidy - first][: spec.payments]):
        renovation.subsidy_payment_add(
            actor=county,
            case=case,
            paid_on=dates["paid" if i == 0 else "paid2"],
            amount=amount,
            account=account,
            note="补助资金（首笔）" if spec.payments > 1 and i == 0 else "补助资金",
        )
        world.report.payments += 1
    if spec.kind == "accepted":
        return _sign(world, case, signing)
    case = _sign(world, case, "all")
    return case_services.case_close(actor=county, case=case, closed_on=dates["closed"])


# -- the whole ledger ------------------------------------------------------------------------------------------


def _user(users: list[User], username: str, role: str) -> User | None:
    for user in users:
        if user.username == username and user.is_active and role in (user.roles or []):
            return user
    return None


def ledger_county(free: dict[str, int]) -> str:
    """The first of COUNTIES with houses enough for twice the essential cases, else the one with the most."""
    for county, _appraiser in COUNTIES:
        if free.get(county, 0) >= 2 * MIN_CASES:
            return county
    return max((county for county, _a in COUNTIES), key=lambda c: free.get(c, 0))


def demo_ledger(*, seed: int, users: list[User], households: int, today: dt.date | None = None) -> LedgerReport:
    """Write the demo's ledger in one county (P19): `ledger_size(households)` cases, fewer when the county has
    fewer free houses (the first ones of the plan show every state). Each service is its own transaction."""
    today = today or min(dt.date.today(), timezone.localdate())  # the services refuse dates after dt.date.today()
    report = LedgerReport()
    admin = _user(users, "admin", Role.ADMIN)
    rng = random.Random(f"anju-demo-ledger-houses-{seed}")
    free = {county: _free_houses(county, rng) for county, _appraiser in COUNTIES}
    county = ledger_county({code: len(houses) for code, houses in free.items()})
    houses = free[county]
    appraiser = _user(users, dict(COUNTIES)[county], Role.APPRAISER) or admin
    plans = plan_ledger(seed=seed, today=today, count=min(ledger_size(households), len(houses)))
    if appraiser is None or not plans:
        return report
    need = sum(p.spec.kind in CLOSED_KINDS or bool(p.spec.signing) for p in plans)
    demo_villages = {u.division_id for u in users if Role.VILLAGE_STAFF in (u.roles or []) and u.division_id}
    signers = _signing_villages(houses, need, demo_villages, report)
    if not signers:
        return report
    county_person = next(iter(signers.values()))["county"]
    years = sorted({today.year - 1, today.year})
    sample_rates_ensure(admin=admin, years=years)
    world = _World(
        today=today,
        county=county_person,
        appraiser=appraiser,
        craftsmen=sample_craftsmen_ensure(actor=county_person, county=county, years=years, today=today),
        signers=signers,
        report=report,
    )

    pool = _Pool(houses, set(signers))
    chosen: list[tuple[CasePlan, _House | None]] = []
    for plan in plans:  # the closed ones first take the houses of villages with signers
        house = None
        if plan.spec.kind in CLOSED_KINDS:
            house = pool.take(["signing"], dangerous=plan.spec.kind != "closed_safe")
            if house is None:
                plan = replace(plan, spec=replace(plan.spec, kind=_NOT_CLOSED[plan.spec.kind], signing=""))
        chosen.append((plan, house))
    picked: list[tuple[CasePlan, _House]] = []
    for plan, house in chosen:
        if house is None:
            zones = ["town", "signing", "other"] if rng.random() < TOWN_SHARE else ["other", "town", "signing"]
            if plan.spec.signing:
                zones = ["signing", "town", "other"]
            house = pool.take(zones, dangerous=plan.spec.kind != "closed_safe")
        if house is not None:
            picked.append((plan, house))
    rows = House.objects.select_related("household").in_bulk([h.pk for _p, h in picked])
    for plan, house in picked:
        case = write_case(world, plan, rows[house.pk])
        report.cases += 1
        report.digest_lines.append(
            f"{plan.index}|{plan.spec.kind}|{case.household.id_hash}|{case.state}|{case.grade}|{case.due_on}"
        )
    Case.objects.filter(household__is_sample=True, is_sample=False).update(is_sample=True)
    report.states, report.late, report.due_soon = ledger_counts(today)
    return report


_NOT_CLOSED = {"closed_renovated": "accepted", "closed_safe": "appraised", "closed_secured": "secured"}


def ledger_counts(today: dt.date | None = None) -> tuple[dict[str, int], int, int]:
    """The demo's cases by state, and how many are late and due within 30 days (P19)."""
    today = today or dt.date.today()
    cases = Case.objects.filter(is_sample=True)
    states = Counter(cases.values_list("state", flat=True))
    ordered = {state: states[state] for state in CaseState.values if states[state]}
    return ordered, cases.filter(late_q(today)).count(), cases.filter(due_soon_q(today)).count()
