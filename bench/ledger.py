"""Give the ledger (台账, issue 4) city-scale data on a demo database and time its pages, API, exports and rules.

Usage (after `anju migrate` and `anju demo --households 1000000`, e.g. `bench/demo_1m.sh sqlite`):

    ANJU_DATA_DIR=/tmp/bench_ledger .venv/bin/python bench/ledger.py               # seed once, then time
    ANJU_DATA_DIR=/tmp/bench_ledger .venv/bin/python bench/ledger.py --seed-only   # only write the ledger
    ANJU_DATA_DIR=/tmp/bench_ledger .venv/bin/python bench/ledger.py --skip-seed --runs 5
    ANJU_DATA_DIR=/tmp/bench_ledger .venv/bin/python bench/ledger.py --reset       # remove the bench ledger, seed anew

Seeding (skipped when the bench ledger is already there) writes, by COPY (PostgreSQL) or executemany (SQLite), not
through the services (it only makes data to measure): one case for about 3 % of the households (`--cases`, default
30,000), on one house graded C/D each (houses are graded C/D where the demo has too few), spread over every village,
in every state with the proportions of `STATES`; appraisal dates over the last two years give P19 due dates
(`completion_deadline`), so the open cases appraised long ago are late. Planned and later cases have a renovation,
cases under construction that must move out mostly a confirmed transitional home, closed cases the twelve
sign-offs (四清 × village, town, county), accepted ones the first nine. Every row is `is_sample`; the cases carry
`source_ref = bench/ledger.py`, which is how `--reset` finds them again.

Timing: the median of `--runs` requests with their SQL query count (as bench/pages.py), the ledger export of one
county and of the city and the P19 rules as an operator runs them (`anju export ledger`, `anju alerts refresh
--rule …` in a child process: wall time and peak RSS from `wait4`), then the query plans of the city's list and of
the late filter. Throwaway: the data is for measuring, not for the demo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anju.settings.dev")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from anju.accounts.models import User  # noqa: E402
from anju.cases.models import Case, Renovation, SignOff, TransitionalHousing  # noqa: E402
from anju.cases.selectors import CaseFilters, case_list  # noqa: E402
from anju.core.bulk import analyze, bulk_session, columns_for, insert_rows, reserve_ids  # noqa: E402
from anju.demo.services import DEMO_TOWN_USER, demo_village_user  # noqa: E402
from anju.divisions.models import Division  # noqa: E402
from anju.policy.deadlines import completion_deadline  # noqa: E402
from anju.registry.models import House  # noqa: E402

MARK = "bench/ledger.py"
CITY = "610800000000"
COUNTY = "610802000000"  # 榆阳区, yuyang_admin's county
ROOT = Path(__file__).resolve().parent.parent
#: state → (share of the cases, (min, max) days since the appraisal); older cases are further along.
STATES = {
    "registered": (0.02, None),
    "awaiting_appraisal": (0.04, None),
    "appraised": (0.07, (10, 500)),
    "planned": (0.09, (30, 560)),
    "under_construction": (0.12, (60, 620)),
    "completed": (0.05, (90, 650)),
    "accepted": (0.08, (120, 700)),
    "secured": (0.03, (60, 700)),
    "closed": (0.48, (200, 730)),
    "cancelled": (0.02, (10, 700)),
}
SOURCES = [("annual_check", 55), ("suspected", 15), ("problem_list", 15), ("disaster", 5), ("complaint", 4),
           ("supervision", 4), ("reapplication", 2)]  # fmt: skip
PROBLEM_TYPES = ["unstable", "edge", "sudden_hardship", "other_registered"]
METHODS = [("rebuild", 45, "35000.00"), ("reinforce", 35, "15000.00"), ("relocate", 8, "40000.00"),
           ("idle_repair", 7, "10000.00"), ("seismic", 5, "12000.00")]  # fmt: skip
RENOVATED = ("planned", "under_construction", "completed", "accepted", "closed")
KINDS = ["problem", "appraisal", "renovation", "acceptance"]
LEVELS = ["village", "town", "county"]


def _columns(model, given: list[str]) -> tuple[list[str], tuple]:
    """`columns_for` with the blank text fields the bench leaves empty (they have no default) filled with ''."""
    blank = [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in given
        and f.blank
        and not f.has_default()
        and not f.null
        and f.get_internal_type() in ("CharField", "TextField", "FileField")
    ]
    columns, extra = columns_for(model, [*given, *blank])
    return columns, ("",) * len(blank) + extra


def _weighted(rng: random.Random, pairs: list[tuple]) -> tuple:
    return rng.choices(pairs, weights=[p[1] for p in pairs])[0]


# -- seeding ----------------------------------------------------------------------------------------------------


def bench_cases():
    return Case.objects.filter(source_ref=MARK)


def remove() -> int:
    """Delete the bench ledger (and the alerts about it) with plain SQL: sign-offs refuse the ORM's delete (P2)."""
    ids = list(bench_cases().values_list("id", flat=True))
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bench_ids (id integer PRIMARY KEY)")
        cursor.execute("DELETE FROM bench_ids")
        cursor.executemany("INSERT INTO bench_ids (id) VALUES (%s)", [(pk,) for pk in ids])
        cursor.execute(
            "DELETE FROM policy_alert WHERE object_type = 'cases.case' AND object_id IN (SELECT id FROM bench_ids)"
        )
        for model in (SignOff, TransitionalHousing, Renovation):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE case_id IN (SELECT id FROM bench_ids)")
        cursor.execute(f"DELETE FROM {Case._meta.db_table} WHERE id IN (SELECT id FROM bench_ids)")
        cursor.execute("DROP TABLE bench_ids")
    return len(ids)


def _houses(count: int, rng: random.Random) -> list[tuple[int, int, str, str]]:
    """(house, household, village, grade) of `count` households' C/D houses, spread over the city.

    Houses that already have an open case (the demo's) are left out; where the demo has too few C/D houses, first
    houses of further households are graded C/D."""
    busy = set(
        Case.objects.exclude(state__in=["closed", "cancelled"]).exclude(house=None).values_list("house_id", flat=True)
    )
    chosen: dict[int, tuple[int, int, str, str]] = {}
    rows = House.objects.filter(grade__in=["C", "D"]).order_by("id").values_list("id", "household_id", "division_id",
                                                                                 "grade")  # fmt: skip
    for house, household, village, grade in rows.iterator(chunk_size=50_000):
        if house not in busy and household not in chosen:
            chosen[household] = (house, household, village, grade)
    picked = list(chosen.values())
    if len(picked) >= count:
        return sorted(rng.sample(picked, count))
    missing = count - len(picked)
    firsts = House.objects.order_by("household_id", "id").values_list("id", "household_id", "division_id")
    extra: dict[int, tuple[int, int, str, str]] = {}
    for house, household, village in firsts.iterator(chunk_size=50_000):
        if household in chosen or household in extra or house in busy:
            continue
        extra[household] = (house, household, village, "C" if rng.random() < 0.6 else "D")
    regraded = rng.sample(list(extra.values()), missing)
    for grade in ("C", "D"):
        ids = [h for h, _hh, _v, g in regraded if g == grade]
        for start in range(0, len(ids), 900):
            House.objects.filter(id__in=ids[start : start + 900]).update(grade=grade)
    print(f"houses graded C/D for the bench: {len(regraded):,} (the demo had {len(picked):,} free ones)")
    return sorted(picked + regraded)


def seed(count: int, reset: bool) -> None:
    started = time.monotonic()
    rng = random.Random(2026)
    today = timezone.localdate()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    admin = User.objects.get(username="admin")
    village_spec = demo_village_user()
    signer_ids = {
        "village": User.objects.filter(username=village_spec.username).values_list("id", flat=True).first()
        if village_spec
        else None,
        "town": User.objects.filter(username=DEMO_TOWN_USER).values_list("id", flat=True).first(),
        "county": User.objects.filter(username="yuyang_admin").values_list("id", flat=True).first(),
    }
    signer_ids = {k: v or admin.pk for k, v in signer_ids.items()}
    names = {"village": "基准-村级签字人", "town": "基准-乡镇签字人", "county": "基准-县级签字人"}
    with transaction.atomic(), bulk_session():
        if bench_cases().exists():
            if not reset:
                print(f"bench ledger present ({bench_cases().count():,} cases): seeding skipped (--reset to redo)")
                return
            print(f"removed {remove():,} bench cases")
        houses = _houses(count, rng)
        print(f"houses chosen: {len(houses):,} ({time.monotonic() - started:.1f} s)")
        states = list(STATES)
        weights = [STATES[s][0] for s in states]
        first = reserve_ids(Case, len(houses))
        case_cols, case_extra = _columns(
            Case,
            ["id", "household_id", "house_id", "division_id", "source", "source_ref", "household_type", "categories",
             "description", "measures", "opened_on", "opened_by_id", "state", "outcome", "version", "grade",
             "appraised_on", "due_on", "secured_means", "secured_on", "secured_evidence", "closed_on", "closed_by_id",
             "cancel_reason", "is_sample", "created_at", "updated_at"],
        )  # fmt: skip
        ren_cols, ren_extra = _columns(
            Renovation,
            ["case_id", "division_id", "applied_on", "consent_on", "consent_by", "household_chose_plan", "method",
             "subsidy_amount", "planned_on", "design_kind", "design_reference", "design_file", "must_move_out",
             "started_on", "completed_on", "accepted_on", "acceptance_team", "household_signed_acceptance"],
        )  # fmt: skip
        sign_cols, sign_extra = _columns(
            SignOff, ["case_id", "division_id", "kind", "level", "signer_id", "signer_name", "signed_at", "comment"]
        )
        home_cols, home_extra = _columns(
            TransitionalHousing,
            ["case_id", "division_id", "kind", "place", "from_on", "to_on", "safety_confirmed", "confirmed_by_id",
             "confirmed_on", "note"],
        )  # fmt: skip
        cases, renovations, signoffs, homes = [], [], [], []
        tally: dict[str, int] = {}
        for n, (house, household, village, grade) in enumerate(houses):
            pk = first + n
            state = rng.choices(states, weights=weights)[0]
            tally[state] = tally.get(state, 0) + 1
            source = _weighted(rng, SOURCES)[0]
            household_type = rng.choice(PROBLEM_TYPES) if source == "problem_list" else "general"
            ages = STATES[state][1]
            appraised = today - dt.timedelta(days=rng.randint(*ages)) if ages else None
            if state == "cancelled" and rng.random() < 0.5:
                appraised = None
            opened = (appraised or today) - dt.timedelta(days=rng.randint(5, 60))
            due = completion_deadline(appraised) if appraised else None
            # the renovation's dates follow each other from the appraisal, never past today
            steps = []
            day = appraised
            if state in RENOVATED:
                for _step in range(RENOVATED.index(state) + (2 if state == "closed" else 1)):
                    day = min(today, day + dt.timedelta(days=rng.randint(10, 70)))
                    steps.append(day)
            secured_on = appraised + dt.timedelta(days=rng.randint(5, 50)) if state == "secured" else None
            secured_on = min(today, secured_on) if secured_on else None
            closed_on = steps[-1] if state == "closed" else None
            cases.append((
                pk, household, house, village, source, MARK, household_type, "[]",
                f"基准测试：{grade}级危房" if appraised else "基准测试：核查发现疑似危房",
                "拆除重建或加固改造" if appraised else "", opened, admin.pk, state,
                "renovated" if state == "closed" else "", 1 + len(steps) + (2 if appraised else 1),
                grade if appraised else "", appraised, due,
                "relatives" if state == "secured" else "", secured_on, "投亲靠友，已签协议" if secured_on else "",
                closed_on, admin.pk if closed_on else None, "误登记" if state == "cancelled" else "",
                True, now, now, *case_extra,
            ))  # fmt: skip
            if state in RENOVATED:
                method, _w, subsidy = _weighted(rng, METHODS)
                move_out = method in ("rebuild", "relocate")
                planned = steps[0]
                begun = steps[1] if len(steps) > 1 else None
                completed = steps[2] if len(steps) > 2 else None
                accepted = steps[3] if len(steps) > 3 else None
                renovations.append((
                    pk, village, planned - dt.timedelta(days=7), planned - dt.timedelta(days=3), "户主",
                    True, method, subsidy, planned, "atlas" if begun else "", "陕西省农房设计图集" if begun else "",
                    "", move_out, begun, completed, accepted, "县住建局验收组" if accepted else "", bool(accepted),
                    *ren_extra,
                ))  # fmt: skip
                if state == "under_construction" and move_out and rng.random() < 0.85:
                    homes.append((pk, village, "relatives", "亲属家", begun, None, True, admin.pk, begun, "",
                                  *home_extra))  # fmt: skip
            kinds = KINDS if state == "closed" else KINDS[:3] if state == "accepted" else []
            for k, kind in enumerate(kinds):
                signed = connection.ops.adapt_datetimefield_value(
                    dt.datetime.combine(steps[min(k, len(steps) - 1)], dt.time(2 + k), tzinfo=dt.UTC)
                )
                for level in LEVELS:
                    signoffs.append(
                        (pk, village, kind, level, signer_ids[level], names[level], signed, "", *sign_extra)
                    )
        insert_rows(Case, case_cols, cases)
        insert_rows(Renovation, ren_cols, renovations)
        insert_rows(TransitionalHousing, home_cols, homes)
        for start in range(0, len(signoffs), 50_000):
            insert_rows(SignOff, sign_cols, signoffs[start : start + 50_000])
        analyze([Case, Renovation, SignOff, TransitionalHousing, House])
    late = sum(1 for c in cases if c[17] and c[17] < today and c[12] in ("appraised", "planned", "under_construction"))
    print(
        f"seeded {len(cases):,} cases ({', '.join(f'{s} {tally.get(s, 0):,}' for s in states)}), late {late:,}; "
        f"{len(renovations):,} renovations, {len(homes):,} transitional homes, {len(signoffs):,} sign-offs "
        f"in {time.monotonic() - started:.1f} s"
    )


# -- timing -----------------------------------------------------------------------------------------------------


def timed(client: Client, url: str, runs: int) -> tuple[float, int, int]:
    client.get(url)  # warm-up (template loading, the connection's first statements), not counted
    times, queries, status = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append(time.perf_counter() - start)
        queries, status = len(ctx), response.status_code
    return statistics.median(times) * 1000, queries, status


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def pages(runs: int) -> None:
    from anju.accounts.services import token_issue

    admin = User.objects.get(username="admin")
    village_user = demo_village_user().username
    clients = {name: _client(name) for name in ("admin", "yuyang_admin", DEMO_TOWN_USER, village_user)}
    api = Client(HTTP_AUTHORIZATION="Bearer " + token_issue(user=admin))
    sample = bench_cases().filter(state="closed").order_by("id")[bench_cases().count() // 4]
    name = sample.household.head_name[:1]
    rows = [
        ("ledger (city admin)", "admin", "/cases/"),
        ("ledger (county, yuyang_admin)", "yuyang_admin", "/cases/"),
        (f"ledger (town, {DEMO_TOWN_USER})", DEMO_TOWN_USER, "/cases/"),
        (f"ledger (village, {village_user})", village_user, "/cases/"),
        ("ledger late=on (city)", "admin", "/cases/?late=on"),
        ("ledger state=under_construction (city)", "admin", "/cases/?state=under_construction"),
        (f"ledger q={name} (city)", "admin", f"/cases/?q={name}"),
        ("ledger late=on (county)", "yuyang_admin", "/cases/?late=on"),
        ("ledger page 100 (city)", "admin", "/cases/?page=100"),
        ("case page (closed, 12 sign-offs)", "admin", f"/cases/{sample.pk}/"),
        ("API cases page_size=50", "api", "/api/v1/cases?page_size=50"),
        ("API cases late=true", "api", "/api/v1/cases?late=true"),
        ("API case detail", "api", f"/api/v1/cases/{sample.pk}"),
        ("rectification.xlsx (city)", "admin", f"/cases/export/rectification.xlsx?division={CITY}"),
    ]
    print(f"\nengine={connection.vendor} cases={Case.objects.count():,} runs={runs}")
    print(f"{'request':42} {'median ms':>10} {'queries':>8} {'status':>7}   (after one warm-up request)")
    for label, who, url in rows:
        ms, queries, status = timed(api if who == "api" else clients[who], url, runs)
        print(f"{label:42} {ms:10.1f} {queries:8d} {status:7d}")
    summary(runs)


def summary(runs: int) -> None:
    from anju.cases.exports import rectification_summary

    admin = User.objects.get(username="admin")
    city = Division.objects.get(code=CITY)
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            result = rectification_summary(actor=admin, division=city)
            times.append((time.perf_counter() - start) * 1000)
        queries = len(ctx)
    total = result.total.counts
    print(
        f"{'rectification_summary (city, in-process)':42} {statistics.median(times):10.1f} {queries:8d}"
        f"   total {total['total']:,}, late {total['late']:,}, due soon {total['due_soon']:,}"
    )


def _child(argv: list[str]) -> tuple[float, int, int, list[str]]:
    """Run an `anju` command as an operator does: wall seconds, peak RSS (MiB), exit code, its output lines."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=os.environ.copy())
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
    return wall, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status), lines


def commands(city_export: bool) -> None:
    from anju.cases.exports import ledger_cases

    anju = str(ROOT / ".venv/bin/anju")
    print(f"\n{'command':58} {'wall s':>7} {'peak MiB':>9} {'rows':>8}")
    exports = [("county", COUNTY)] + ([("city", CITY)] if city_export else [])
    with tempfile.TemporaryDirectory() as tmp:
        for label, code in exports:
            rows = ledger_cases(actor=None, filters=CaseFilters(division=code)).count()
            argv = [anju, "export", "ledger", "--division", code, "-o", f"{tmp}/{label}.xlsx", "--as", "admin"]
            wall, rss, rc, _last = _child(argv)
            size = os.path.getsize(f"{tmp}/{label}.xlsx") // 1024 if rc == 0 else 0
            print(f"{'anju export ledger (' + label + f', {size:,} KiB)':58} {wall:7.1f} {rss:9,} {rows:8,}"
                  + ("" if rc == 0 else f"  exit {rc}"))  # fmt: skip
        argv = [anju, "export", "rectification", "--division", CITY, "-o", f"{tmp}/summary.xlsx", "--as", "admin"]
        wall, rss, rc, _last = _child(argv)
        print(f"{'anju export rectification (city)':58} {wall:7.1f} {rss:9,} {'':>8}" + ("" if rc == 0 else f" {rc}"))
    print("(alerts: new / updated / resolved / open, and the rule's own time as `anju alerts refresh` prints it)")
    for rule in ("P19.case_late", "P19.case_due_soon", "P19.transitional_unsafe"):
        for run in ("run 1", "run 2"):
            wall, rss, rc, lines = _child([anju, "alerts", "refresh", "--rule", rule])
            last = next((line for line in lines if line.startswith(rule)), "")
            print(f"{'anju alerts refresh --rule ' + rule + ' (' + run + ')':58} {wall:7.1f} {rss:9,}"
                  f"   {' '.join(last.split()[1:])}" + ("" if rc == 0 else f" exit {rc}"))  # fmt: skip


def explain() -> None:
    admin = User.objects.get(username="admin")
    options = {"analyze": True} if connection.vendor == "postgresql" else {}
    for label, filters in [("city ledger list", CaseFilters()), ("city ledger, late", CaseFilters(late=True))]:
        paged = case_list(admin, filters)
        print(f"\n-- {label}: page 1, as the page reads it\n{paged[0:30].explain(**options)}")
        print(f"-- {label}: count for the pager\n{paged.rows.order_by().values('id').explain(**options)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--reset", action="store_true", help="remove the bench ledger first, then seed again")
    parser.add_argument("--no-city-export", action="store_true", help="export only one county")
    parser.add_argument("--no-commands", action="store_true", help="skip the exports and the alert refreshes")
    args = parser.parse_args()
    if not args.skip_seed:
        seed(args.cases, args.reset)
    if args.seed_only:
        return
    pages(args.runs)
    if not args.no_commands:
        commands(not args.no_city_export)
    explain()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
