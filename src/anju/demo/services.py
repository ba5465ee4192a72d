"""`anju demo`: divisions, sample villages, one demo user per role and level, and synthetic households.

Everything it writes is marked 示例 (`is_sample`). Villages and users are added only when missing, so
`make run` can run it again and keep the data; households are written once per database.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.accounts.models import User
from anju.accounts.permissions import Role
from anju.accounts.services import user_create
from anju.audit.actions import Action
from anju.audit.services import event_record
from anju.core import bulk, idnumber
from anju.core.errors import ConflictError
from anju.divisions.models import Division, Level
from anju.divisions.services import division_load_base
from anju.inspections.models import CheckRecord, HouseFinding
from anju.registry.models import GradeRecord, GradeSource, House, Household, HouseholdCategory, TargetCategory
from anju.training.demo import demo_staff_training_ensure

from . import cases as demo_cases
from . import inspections as demo_inspections
from . import vocab
from .generator import DemoGenerator, HouseholdSpec, VillageRef, village_names
from .responsibility import demo_chain_ensure
from .special import demo_special_ensure

CITY = "610800000000"
YUYANG = "610802000000"
SHENMU = "610881000000"
DEMO_TOWN = "610802102000"  # 镇川镇, a rural town of 榆阳区
DEMO_TOWN_USER = "zhenchuan_zhen"
DEFAULT_HOUSEHOLDS = 20_000
DEFAULT_SEED = 2021
DEFAULT_CHUNK = 20_000


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    division_code: str
    full_name: str


# DESIGN.md "Demo users"; the village user is added by `demo_users_ensure` (its name follows its village).
DEMO_USERS: list[DemoUser] = [
    DemoUser("admin", Role.ADMIN, CITY, "演示-系统管理员"),
    DemoUser("shi_dudao", Role.CITY_SUPERVISOR, CITY, "演示-市级督导"),
    DemoUser("yuyang_admin", Role.COUNTY_MANAGER, YUYANG, "演示-榆阳区管理员"),
    DemoUser("yuyang_jianding", Role.APPRAISER, YUYANG, "演示-榆阳区鉴定人员"),
    DemoUser("shenmu_admin", Role.COUNTY_MANAGER, SHENMU, "演示-神木市管理员"),
    DemoUser(DEMO_TOWN_USER, Role.TOWN_STAFF, DEMO_TOWN, "演示-镇川镇乡镇人员"),
    DemoUser("bumen_minzheng", Role.DEPARTMENT, CITY, "演示-市民政局"),
]


@dataclass
class DemoReport:
    villages_created: int = 0
    users: list[tuple[User, bool]] = field(default_factory=list)  # (user, created now)
    households: int = 0
    houses: int = 0
    grade_records: int = 0
    categories: int = 0
    digest: str = ""
    campaign: str = ""
    checks: int = 0
    findings: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    checks_digest: str = ""
    requests: dict[str, int] = field(default_factory=dict)
    requests_digest: str = ""
    alerts: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)  # by state
    cases_late: int = 0
    cases_due_soon: int = 0
    cases_digest: str = ""
    signers_created: set[int] = field(default_factory=set)
    villages: int = 0
    campaign_id: int | None = None
    skipped: bool = False
    existing: int = 0


def demo_households_count() -> int:
    return Household.objects.filter(is_sample=True).count()


# -- divisions and villages -----------------------------------------------------------------------------------


def demo_divisions_ensure() -> int:
    """The bundled Yulin tree if the database has none, then 5–20 sample villages (201…) per town without any.

    Returns the number of villages added. Names and codes depend only on the town code, so they are the same
    on every installation (the village user's name in README stays true).
    """
    if not Division.objects.exists():
        division_load_base()
    with transaction.atomic():
        towns = list(Division.objects.filter(level=Level.TOWN).order_by("code"))
        with_villages = set(Division.objects.filter(level=Level.VILLAGE).values_list("parent_id", flat=True).distinct())
        rows = [
            Division(
                code=f"{town.code[:9]}{201 + i:03d}",
                name=name,
                level=Level.VILLAGE,
                parent_id=town.code,
                is_sample=True,
            )
            for town in towns
            if town.code not in with_villages
            for i, name in enumerate(village_names(town.code))
        ]
        if not rows:
            return 0
        Division.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        event_record(  # the sample villages, like any division import
            actor=None,
            action=Action.DIVISIONS_IMPORTED,
            division_code=_city_code(),
            extra={
                "source": "demo",
                "is_sample": True,
                "created": len(rows),
                "towns": len({r.parent_id for r in rows}),
            },
        )
    return len(rows)


def _city_code() -> str:
    return Division.objects.filter(level=Level.CITY).order_by("code").values_list("code", flat=True).first() or ""


# -- users ------------------------------------------------------------------------------------------------------


def demo_village_user() -> DemoUser | None:
    """The village staff user: first village of the demo town, named after the village (王家沟村 → wangjiagou_cun)."""
    village = Division.objects.filter(parent_id=DEMO_TOWN, level=Level.VILLAGE).order_by("code").first()
    if village is None:
        return None
    spelled = vocab.pinyin(village.name.removesuffix("村"))
    username = f"{spelled}_cun" if spelled else f"cun_{village.code}"
    return DemoUser(username, Role.VILLAGE_STAFF, village.code, f"演示-{village.name}信息员")


def demo_users_ensure() -> list[tuple[User, bool]]:
    """Create each missing demo user (system actor); existing ones, maybe changed by an admin, are left alone."""
    wanted = list(DEMO_USERS)
    village_user = demo_village_user()
    if village_user is not None:
        wanted.append(village_user)
    out: list[tuple[User, bool]] = []
    for spec in wanted:
        user = User.objects.select_related("division").filter(username=spec.username).first()
        created = user is None
        if created:
            if not Division.objects.filter(code=spec.division_code).exists():
                continue
            user = user_create(
                actor=None,
                username=spec.username,
                password=settings.ANJU_DEMO_PASSWORD,
                division_code=spec.division_code,
                roles=[spec.role],
                full_name=spec.full_name,
            )
        out.append((user, created))
    _demo_training_ensure([user for user, _created in out])
    return out


def _demo_training_ensure(users: list[User]) -> None:
    """P17: the demo's field staff took this year's and last year's training (the training ledger), so they can work."""
    this_year = timezone.localdate().year
    demo_staff_training_ensure(users, (this_year - 1, this_year))


# -- households -------------------------------------------------------------------------------------------------

HOUSEHOLD_FIELDS = [
    "id",
    "division",
    "head_name",
    "id_cipher",
    "id_hash",
    "id_masked",
    "phone",
    "size",
    "group_name",
    "security_method",
    "note",
    "is_sample",
    "created_at",
    "updated_at",
]
HOUSE_FIELDS = [
    "id",
    "household",
    "division",
    "structure",
    "build_year",
    "storeys",
    "floor_area",
    "longitude",
    "latitude",
    "is_idle",
    "grade",
    "graded_on",
    "note",
    "is_sample",
    "created_at",
    "updated_at",
]
GRADE_FIELDS = ["house", "division", "grade", "graded_on", "source", "appraiser", "note", "recorded_by", "recorded_at"]
CATEGORY_FIELDS = ["household", "division", "category", "certified_on", "ended_on"]


def _villages() -> list[VillageRef]:
    streets = set(Division.objects.filter(level=Level.TOWN, name__endswith="街道").values_list("code", flat=True))
    villages = Division.objects.filter(level=Level.VILLAGE).order_by("code").values_list("code", "parent_id")
    return [VillageRef(code=code, street_town=parent in streets) for code, parent in villages]


@dataclass
class _Chunk:
    """Generated households with their ID number already hashed, encrypted and masked (the costly part)."""

    specs: list[HouseholdSpec]
    hashes: list[str] = field(default_factory=list)
    ciphers: list[str] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)

    def seal(self) -> _Chunk:
        for spec in self.specs:
            self.hashes.append(idnumber.keyed_hash(spec.id_number))
            self.ciphers.append(idnumber.encrypt(spec.id_number))
            self.masks.append(idnumber.mask(spec.id_number))
        return self

    def reseal(self, i: int) -> None:
        number = self.specs[i].id_number
        self.hashes[i], self.ciphers[i], self.masks[i] = (
            idnumber.keyed_hash(number),
            idnumber.encrypt(number),
            idnumber.mask(number),
        )


_DONE = object()


def _chunks(generator: DemoGenerator, total: int, size: int, *, background: bool) -> Iterator[_Chunk]:
    """The households in sealed chunks; with `background`, produced by a thread while this one writes.

    Generation and encryption are pure Python; the database works without holding the GIL (COPY and
    sqlite3_step release it), so on two cores the two overlap. At most two chunks wait in the queue, which
    keeps memory bounded. The thread owns the generator: nothing else may touch it meanwhile.
    """

    def produce() -> Iterator[_Chunk]:
        specs: list[HouseholdSpec] = []
        for spec in generator.households(total):
            specs.append(spec)
            if len(specs) >= size:
                yield _Chunk(specs).seal()
                specs = []
        if specs:
            yield _Chunk(specs).seal()

    if not background:
        yield from produce()
        return
    pending: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in produce():
                while not stop.is_set():
                    try:
                        pending.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            pending.put(_DONE)
        except BaseException as exc:  # handed to the writer, which re-raises it
            pending.put(exc)

    thread = threading.Thread(target=run, name="anju-demo-generator", daemon=True)
    thread.start()
    try:
        while (item := pending.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _avoid_real_ids(generator: DemoGenerator, chunk: _Chunk) -> None:
    """A synthetic number may by chance be a real resident's already registered: give that head another."""
    taken: set[str] = set()
    for start in range(0, len(chunk.hashes), 500):
        batch = chunk.hashes[start : start + 500]
        taken.update(Household.objects.filter(id_hash__in=batch).values_list("id_hash", flat=True))
    for i, value in enumerate(chunk.hashes):
        while value in taken:
            generator.reissue_id(chunk.specs[i])
            chunk.reseal(i)
            value = chunk.hashes[i]


def _write_chunk(
    chunk: _Chunk,
    *,
    category_ids: dict[str, int],
    now_db: object,
    layouts: dict[str, tuple[list[str], tuple]],
    digest: Any,
    checks: demo_inspections.CheckPlan | None = None,
    checks_digest: Any = None,
) -> tuple[int, int, int]:
    specs = chunk.specs
    first_household = bulk.reserve_ids(Household, len(specs))
    first_house = bulk.reserve_ids(House, sum(len(s.houses) for s in specs))

    households: list[tuple] = []
    houses: list[tuple] = []
    grades: list[tuple] = []
    categories: list[tuple] = []
    hh_extra, house_extra = layouts["household"][1], layouts["house"][1]
    grade_extra, cat_extra = layouts["grade"][1], layouts["category"][1]
    source = GradeSource.DEMO.value
    house_id = first_house
    checked: list[tuple[int, HouseholdSpec, int]] = []
    for offset, (spec, id_hash, id_cipher, id_masked) in enumerate(
        zip(specs, chunk.hashes, chunk.ciphers, chunk.masks, strict=True)
    ):
        household_id = first_household + offset
        digest.update(spec.digest_line().encode())
        village = spec.village
        checked.append((household_id, spec, house_id))
        households.append(
            (
                household_id,
                village,
                spec.head_name,
                id_cipher,
                id_hash,
                id_masked,
                spec.phone,
                spec.size,
                spec.group_name,
                spec.security_method,
                "",
                True,
                now_db,
                now_db,
                *hh_extra,
            )
        )
        for code, certified_on in spec.categories:
            if code in category_ids:
                categories.append((household_id, village, category_ids[code], certified_on, None, *cat_extra))
        for h in spec.houses:
            houses.append(
                (
                    house_id,
                    household_id,
                    village,
                    h.structure,
                    h.build_year,
                    h.storeys,
                    h.floor_area,
                    h.longitude,
                    h.latitude,
                    h.is_idle,
                    h.grade,
                    h.graded_on,
                    "",
                    True,
                    now_db,
                    now_db,
                    *house_extra,
                )
            )
            if h.graded_on is not None:
                grades.append(
                    (house_id, village, h.grade, h.graded_on, source, h.appraiser, "", None, now_db, *grade_extra)
                )
            house_id += 1

    bulk.insert_rows(Household, layouts["household"][0], households)
    bulk.insert_rows(House, layouts["house"][0], houses)
    bulk.insert_rows(GradeRecord, layouts["grade"][0], grades)
    bulk.insert_rows(HouseholdCategory, layouts["category"][0], categories)
    if checks is not None:
        checks.write(checked, checks_digest)
    return len(houses), len(grades), len(categories)


@transaction.atomic(durable=True)
def demo_households_load(
    *,
    households: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Generate and write `households` synthetic households in one transaction, streamed in chunks.

    One transaction: a killed run leaves no demo household at all, so running the command again simply starts
    over (per-chunk commits would leave a partial load that `--if-empty` would then keep). Chunks bound memory:
    a few chunks' rows exist in Python at a time. The run's audit event is `demo_loaded_record`.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # one demo load at a time; released at commit
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('anju.demo.load'))")
    existing = demo_households_count()
    if existing:
        raise ConflictError(_("数据库中已有演示农户 {count} 户，不会重复生成").format(count=existing))

    report = DemoReport()
    villages = _villages()
    if not villages or households <= 0:
        return report
    generator = DemoGenerator(seed=seed, villages=villages)
    category_ids = dict(TargetCategory.objects.filter(is_active=True).values_list("code", "id"))
    check_real = Household.objects.exists()
    now_db = connection.ops.adapt_datetimefield_value(timezone.now())
    layouts = {
        "household": bulk.columns_for(Household, HOUSEHOLD_FIELDS),
        "house": bulk.columns_for(House, HOUSE_FIELDS),
        "grade": bulk.columns_for(GradeRecord, GRADE_FIELDS),
        "category": bulk.columns_for(HouseholdCategory, CATEGORY_FIELDS),
    }
    digest = hashlib.sha256()
    checks_digest = hashlib.sha256()
    users = list(User.objects.filter(username__in=[u.username for u in _demo_user_specs()]))
    admin = next((u for u in users if u.username == "admin"), None)
    campaign = demo_inspections.annual_campaign(admin, _city_code())
    checks = None
    if campaign is not None:
        checks = demo_inspections.CheckPlan(
            seed=seed,
            campaign=campaign,
            checkers=demo_inspections.field_users(users, "inspections.check"),
            now_db=now_db,
        )
        report.campaign = campaign.name
    # A clash with real data makes the writer change the generator's state, so then no background thread.
    chunks = _chunks(generator, households, chunk_size, background=not check_real)
    with bulk.bulk_session(), closing(chunks):  # closing: stop the thread at once if a write fails
        for chunk in chunks:
            if check_real:
                _avoid_real_ids(generator, chunk)
            houses, grades, categories = _write_chunk(
                chunk,
                category_ids=category_ids,
                now_db=now_db,
                layouts=layouts,
                digest=digest,
                checks=checks,
                checks_digest=checks_digest,
            )
            report.households += len(chunk.specs)
            report.houses += houses
            report.grade_records += grades
            report.categories += categories
            if progress:
                progress(len(chunk.specs))
    # Fresh statistics, or the planner guesses a few hundred rows and picks slow plans for the first pages.
    bulk.analyze([Household, House, GradeRecord, HouseholdCategory, CheckRecord, HouseFinding])

    report.digest = digest.hexdigest()
    report.villages = len(villages)
    report.campaign_id = campaign.pk if campaign is not None else None
    if checks is not None:
        report.checks, report.findings = checks.checks, checks.findings
        report.verdicts = dict(checks.verdicts)
        report.checks_digest = checks_digest.hexdigest()
    return report


def demo_loaded_record(report: DemoReport, *, seed: int) -> None:
    """One audit event per run with the counts and SHA-256 digests of everything generated (ID numbers included),
    so two runs with one seed can be compared; written last, so it also carries the ledger's cases by state."""
    event_record(
        actor=None,
        action=Action.DEMO_LOADED,
        division_code=_city_code(),
        extra={
            "seed": seed,
            "households": report.households,
            "houses": report.houses,
            "grade_records": report.grade_records,
            "categories": report.categories,
            "villages": report.villages,
            "sha256": report.digest,
            "campaign_id": report.campaign_id,
            "checks": report.checks,
            "findings": report.findings,
            "verdicts": report.verdicts,
            "checks_sha256": report.checks_digest,
            "requests": report.requests,
            "cases": report.cases,
            "cases_late": report.cases_late,
            "cases_due_soon": report.cases_due_soon,
            "cases_sha256": report.cases_digest,
        },
    )


def demo_loop(report: DemoReport, *, seed: int, users: list[User]) -> None:
    """After the load: P8 requests, assignments and appraisals, then the ledger's cases (P19), all through their
    services, then a full alerts refresh.

    Each service is its own (durable) transaction, so this runs after the households are committed.
    """
    from anju.policy.models import Alert, AlertStatus
    from anju.policy.services import alerts_refresh, alerts_refresh_deferred

    with alerts_refresh_deferred():  # hundreds of services: their households' alerts once, not after each
        requests = demo_inspections.demo_requests(seed=seed, users=users)
        ledger = demo_cases.demo_ledger(seed=seed, users=users, households=report.households)
    report.requests = demo_inspections.request_counts()
    report.requests_digest = hashlib.sha256("\n".join(requests.digest_lines).encode()).hexdigest()
    _demo_training_ensure(ledger.signers_created)
    report.signers_created = {user.pk for user in ledger.signers_created}
    report.cases, report.cases_late, report.cases_due_soon = ledger.states, ledger.late, ledger.due_soon
    report.cases_digest = hashlib.sha256("\n".join(ledger.digest_lines).encode()).hexdigest()
    demo_chain_ensure()  # P18: the demo users answer for their divisions before the alerts name them
    with alerts_refresh_deferred():  # issue 6: disasters, idle houses, returns, complaints, cards, supervision
        demo_special_ensure(seed=seed)
    alerts_refresh()
    rows = Alert.objects.filter(status=AlertStatus.OPEN).values("rule_id").annotate(n=Count("id"))
    counts: dict[str, int] = {}
    for row in rows:
        key = row["rule_id"].split(".")[0]
        counts[key] = counts.get(key, 0) + row["n"]
    report.alerts = dict(sorted(counts.items()))


def _demo_user_specs() -> list[DemoUser]:
    village_user = demo_village_user()
    return [*DEMO_USERS, *([village_user] if village_user else [])]


def demo_run(
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    seed: int = DEFAULT_SEED,
    if_empty: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """The whole demo: refuse to duplicate households, ensure divisions and users, then load households."""
    existing = demo_households_count()
    if existing and not if_empty:
        raise ConflictError(
            _(
                "数据库中已有演示农户 {count} 户，不会重复生成。"
                "如只需确保区划和演示用户存在，请加 --if-empty；如需重新生成，请换用空数据库。"
            ).format(count=existing)
        )
    villages = demo_divisions_ensure()
    users = demo_users_ensure()
    if existing:
        report = DemoReport(skipped=True, existing=existing)
    else:
        report = demo_households_load(households=households, seed=seed, chunk_size=chunk_size, progress=progress)
        if report.households:
            demo_loop(report, seed=seed, users=[user for user, _created in users])
            demo_loaded_record(report, seed=seed)
    listed = {user.pk for user, _created in users}
    for signer in demo_cases.sample_signers():  # the ledger's sample signers, after the demo users
        if signer.pk not in listed:
            users.append((signer, signer.pk in report.signers_created))
    report.villages_created = villages
    report.users = users
    return report
