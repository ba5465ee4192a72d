"""The 1,000,000-row benchmark of `anju import households` and `anju compare` (issue 5 deliver 7).

    B=".venv/bin/python bench/exchange_1m.py --work /tmp/x1m"
    $B setup  --engine sqlite                 # fresh database: migrate + `anju demo --households 1000` (villages,
    $B setup  --engine postgres               #   users), kept as the template every step starts from
    $B generate --households 1000000 --xlsx-rows 100000     # households.csv + households-100k.xlsx (villages
                                              #   of the template; half the rows by 区划代码, half by names)
    $B import --engine sqlite                 # import, re-import, dry run, raw load of the same rows, 100k xlsx
    $B compare --engine sqlite                # 1M-person department list vs the imported registry, polars join

PostgreSQL: DATABASE_URL names the benchmark database (default postgres://postgres@127.0.0.1:5579/anju_bench);
its user must be able to CREATE DATABASE (templates `<name>_tpl` and `<name>_imported` are made beside it).
SQLite: the database lives in WORK/sqlite (ANJU_DATA_DIR), templates are file copies.

Each timed command is a child process (`.venv/bin/anju …`): wall time from start to exit, peak RSS from
`os.wait4`'s resource usage of that child. The raw load is measured in this process: the rows the import wrote
(read back from the database before the timing, already encrypted and hashed, ids assigned) are inserted into
the same tables of a fresh copy of the template by `anju.demo.bulk.insert_rows` (COPY / executemany) in one
transaction, commit included. Results are printed and appended to WORK/results.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
ANJU = str(ROOT / ".venv" / "bin" / "anju")
PG_DEFAULT = "postgres://postgres@127.0.0.1:5579/anju_bench"

HEADER = [
    "区划代码",
    "县（市、区）",
    "乡镇（街道）",
    "行政村",
    "村民小组",
    "户主姓名",
    "身份证号码",
    "联系电话",
    "家庭人口",
    "重点对象类型",
    "房屋结构",
    "建造年份",
    "层数",
    "建筑面积",
    "安全等级",
    "鉴定日期",
    "住房保障方式",
    "是否闲置",
    "经度",
    "纬度",
    "备注",
]
LIST_HEADER = ["姓名", "身份证号码", "类别", "认定日期", "县（市、区）", "乡镇（街道）", "行政村"]
#: the department's spellings of its categories (short names, as civil affairs writes them)
LIST_CATEGORIES = {"dibao": "低保户", "dibao_bianyuan": "低保边缘家庭", "tekun": "特困人员"}


# -- environment ------------------------------------------------------------------------------------------------
def configure(engine: str, work: Path) -> dict[str, str]:
    """Point this process (before Django starts) and its children at the engine's benchmark database."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "anju.settings.dev"
    env["ANJU_DATA_DIR"] = str(work / engine)
    if engine == "postgres":
        env["DATABASE_URL"] = os.environ.get("DATABASE_URL", PG_DEFAULT)
    else:
        env.pop("DATABASE_URL", None)
    (work / engine).mkdir(parents=True, exist_ok=True)
    os.environ.clear()
    os.environ.update(env)
    return env


def django_setup() -> None:
    import django

    django.setup()


def close_db() -> None:
    from django.db import connections

    connections.close_all()


def _pg_admin(sql: str) -> None:
    import psycopg

    url = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(sql)


def _pg_name(suffix: str = "") -> str:
    return urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/") + suffix


def snapshot(engine: str, work: Path, name: str) -> None:
    """Keep the current database as template `name`."""
    close_db()
    if engine == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{_pg_name("_" + name)}"')
        _pg_admin(f'CREATE DATABASE "{_pg_name("_" + name)}" TEMPLATE "{_pg_name()}"')
        return
    import sqlite3

    db = work / engine / "anju.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(db, work / f"sqlite-{name}.sqlite3")


def restore(engine: str, work: Path, name: str) -> None:
    """Replace the database by template `name` (the "truncate in between")."""
    close_db()
    if engine == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{_pg_name()}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{_pg_name()}" TEMPLATE "{_pg_name("_" + name)}"')
        return
    db = work / engine / "anju.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(work / f"sqlite-{name}.sqlite3", db)


def timed(args: list[str], env: dict[str, str], label: str) -> dict[str, Any]:
    """Run `anju ARGS` as a child; wall time and the child's own peak RSS.

    The peak comes from GNU time's wait4 of a process it forked itself: Linux carries a process's high-water RSS
    across exec, so a child forked straight from this (large) process would report this process's peak."""
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS_KB %M", ANJU, *args], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    text = proc.stdout + proc.stderr
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
    rss_kb = int(next(line for line in reversed(lines) if line.startswith("MAXRSS_KB")).split()[1])
    tail = [line for line in lines if not line.startswith("MAXRSS_KB")][-4:]
    result = {"step": label, "wall_s": round(wall, 1), "peak_rss_mib": round(rss_kb / 1024), "rc": proc.returncode}
    print(json.dumps(result, ensure_ascii=False), *tail, sep="\n    ", flush=True)
    if proc.returncode:
        print(text[-3000:], file=sys.stderr)
        raise SystemExit(f"{label} failed")
    return result


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def record(work: Path, engine: str, results: list[dict[str, Any]]) -> None:
    with (work / "results.jsonl").open("a") as handle:
        for item in results:
            handle.write(
                json.dumps(
                    {"engine": engine, "at": dt.datetime.now().isoformat(timespec="seconds")} | item, ensure_ascii=False
                )
                + "\n"
            )


# -- setup ------------------------------------------------------------------------------------------------------
def cmd_setup(args: argparse.Namespace) -> None:
    env = configure(args.engine, args.work)
    if args.engine == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{_pg_name()}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{_pg_name()}"')
    else:
        shutil.rmtree(args.work / "sqlite", ignore_errors=True)
        (args.work / "sqlite").mkdir(parents=True)
    subprocess.run([ANJU, "migrate", "-v0"], env=env, check=True)
    subprocess.run(
        [ANJU, "demo", "--households", "1000", "--seed", "2021"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    snapshot(args.engine, args.work, "tpl")
    print(f"template ready ({args.engine})")


# -- the household file -----------------------------------------------------------------------------------------
def cmd_generate(args: argparse.Namespace) -> None:
    """households.csv over the template's villages (DemoGenerator, seed 5), IDs clear of the demo's."""
    configure("sqlite", args.work)
    restore("sqlite", args.work, "tpl")
    django_setup()
    from anju.core import idnumber
    from anju.demo.generator import DemoGenerator
    from anju.demo.services import _villages
    from anju.divisions.models import Division, Level
    from anju.registry.models import Household, SecurityMethod, Structure, TargetCategory

    villages = _villages()
    tree = {code: (name, parent) for code, name, parent in Division.objects.values_list("code", "name", "parent_id")}
    taken = set(Household.objects.values_list("id_hash", flat=True))
    structures = {k: str(v) for k, v in Structure.choices}
    methods = {k: str(v) for k, v in SecurityMethod.choices}
    shorts = {
        code: (name, *short) for code, name, short in TargetCategory.objects.values_list("code", "name", "short_names")
    }
    assert all(Division.objects.filter(code=v.code, level=Level.VILLAGE).exists() for v in villages[:3])
    rng = random.Random(5)
    generator = DemoGenerator(seed=5, villages=villages)
    path = args.work / "households.csv"
    xlsx_rows: list[list[Any]] = []
    started = time.perf_counter()
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for n, spec in enumerate(generator.households(args.households)):
            while idnumber.keyed_hash(spec.id_number) in taken:
                generator.reissue_id(spec)
            house = spec.houses[0]
            village, town = tree[spec.village]
            town_name, county = tree[town]
            county_name = tree[county][0]
            by_code = n % 2 == 0
            day = house.graded_on
            if day and rng.random() < 0.3:  # the spellings of DESIGN.md, as village clerks type them
                y, m, d = (int(p) for p in day.split("-"))
                day = rng.choice([f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y}{m:02d}{d:02d}", f"{y}.{m}.{d}"])
            row = [
                spec.village if by_code else "",
                "" if by_code else county_name,
                "" if by_code else town_name,
                "" if by_code else village,
                spec.group_name,
                spec.head_name,
                spec.id_number if rng.random() > 0.01 else spec.id_number.lower() + " ",  # a lowercase x, a space
                spec.phone,
                spec.size,
                "、".join(rng.choice(shorts[code]) for code, _day in spec.categories),
                structures[house.structure],
                house.build_year,
                house.storeys,
                house.floor_area,
                "未鉴定" if house.grade == "U" else f"{house.grade}级",
                day or "",
                methods[spec.security_method],
                "是" if house.is_idle else "否",
                house.longitude,
                house.latitude,
                "" if rng.random() > 0.02 else "房屋后有土崖",
            ]
            out.writerow(row)
            if len(xlsx_rows) < args.xlsx_rows:
                xlsx_rows.append(row)
    took = time.perf_counter() - started
    print(f"{path}: {args.households:,} rows, {path.stat().st_size / 2**20:.0f} MiB in {took:.0f} s")
    if args.xlsx_rows:
        import xlsxwriter

        xpath = args.work / f"households-{args.xlsx_rows // 1000}k.xlsx"
        book = xlsxwriter.Workbook(str(xpath), {"constant_memory": True, "strings_to_numbers": False})
        sheet = book.add_worksheet("农户")
        sheet.write_row(0, 0, ["榆林市农村住房信息表（基准测试）"])  # a title row above the header, as bureaus send
        sheet.write_row(1, 0, HEADER)
        for i, row in enumerate(xlsx_rows, start=2):
            sheet.write_row(i, 0, row)
        book.close()
        print(f"{xpath}: {len(xlsx_rows):,} rows, {xpath.stat().st_size / 2**20:.0f} MiB")


# -- import -----------------------------------------------------------------------------------------------------
def _tables():
    from anju.registry.models import GradeRecord, House, Household, HouseholdCategory

    return [Household, House, GradeRecord, HouseholdCategory]


def _max_ids() -> dict[str, int]:
    from django.db import connection

    found = {}
    with connection.cursor() as cursor:
        for model in _tables():
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
            found[model._meta.db_table] = cursor.fetchone()[0]
    return found


def _dump(base: dict[str, int]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every row the import added, in database form, with its columns (ids included)."""
    from django.db import connection

    rows = {}
    with connection.cursor() as cursor:
        for model in _tables():
            table = model._meta.db_table
            columns = [f.column for f in model._meta.concrete_fields]
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id > %s ORDER BY id", [base[table]])
            rows[table] = (columns, cursor.fetchall())
    return rows


def _raw_load(dump: dict[str, tuple[list[str], list[tuple]]]) -> float:
    from django.db import connection, transaction

    from anju.core import bulk

    models = {m._meta.db_table: m for m in _tables()}
    chunk = 2000
    start = time.perf_counter()
    with bulk.bulk_session(), transaction.atomic():
        for table, (columns, rows) in dump.items():
            for i in range(0, len(rows), chunk):  # batches of the import's size, as the import writes them
                bulk.insert_rows(models[table], columns, rows[i : i + chunk])
    elapsed = time.perf_counter() - start
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the sequences, as reserve_ids would have moved them
            for table in dump:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    return elapsed


def cmd_import(args: argparse.Namespace) -> None:
    env = configure(args.engine, args.work)
    csv_path = args.work / "households.csv"
    results: list[dict[str, Any]] = [{"step": "load average at start", "value": load_average()}]
    restore(args.engine, args.work, "tpl")
    # the template may predate a migration of the code under test: bring it up to date once (untimed), since
    # every step below starts from a copy of it
    subprocess.run([ANJU, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    snapshot(args.engine, args.work, "tpl")
    django_setup()
    base = _max_ids()
    close_db()
    results.append(timed(["import", "households", str(csv_path)], env, "import 1M csv"))
    results[-1]["load_after"] = load_average()
    dump = _dump(base)
    counts = {table: len(rows) for table, (_c, rows) in dump.items()}
    results.append({"step": "rows written by the import", "counts": counts})
    print(counts)
    close_db()
    if not args.quick:
        results.append(timed(["import", "households", str(csv_path)], env, "re-import 1M csv (unchanged)"))
        results.append(timed(["import", "households", "--dry-run", str(csv_path)], env, "dry run 1M csv (unchanged)"))
    snapshot(args.engine, args.work, "imported")
    restore(args.engine, args.work, "tpl")
    raw = _raw_load(dump)
    del dump
    results.append({"step": "raw load of the same rows", "wall_s": round(raw, 1), "load_after": load_average()})
    print(results[-1], flush=True)
    restore(args.engine, args.work, "tpl")
    if not args.quick:
        results.append(timed(["import", "households", "--dry-run", str(csv_path)], env, "dry run 1M csv (all new)"))
        for xlsx in sorted(args.work.glob("households-*k.xlsx")):
            restore(args.engine, args.work, "tpl")
            results.append(timed(["import", "households", str(xlsx)], env, f"import {xlsx.name}"))
    results.append({"step": "load average at end", "value": load_average()})
    record(args.work, args.engine, results)
    imported = next(r for r in results if r["step"] == "import 1M csv")
    print(f"ratio import / raw load = {imported['wall_s'] / raw:.2f}")


# -- comparison -------------------------------------------------------------------------------------------------
def _typo(number: str, rng: random.Random) -> str:
    """One wrong digit or two neighbours swapped (what GB 11643's check character catches)."""
    chars = list(number)
    while True:
        i = rng.randrange(16)
        if rng.random() < 0.5 and chars[i] != chars[i + 1]:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = rng.choice([c for c in "0123456789" if c != chars[i]])
        text = "".join(chars)
        if text != number:
            return text


def prepare_list(work: Path, size: int) -> dict[str, int]:
    """The department's list and last month's categories in the registry (see `cmd_compare`)."""
    from django.db import connection, transaction

    from anju.core import bulk, idnumber
    from anju.demo.generator import DemoGenerator
    from anju.demo.services import _villages
    from anju.registry.models import Household, HouseholdCategory, TargetCategory

    rng = random.Random(11)
    codes = dict(TargetCategory.objects.values_list("code", "id"))
    names = dict(TargetCategory.objects.values_list("id", "code"))
    households = {h: (pk, village) for h, pk, village in Household.objects.values_list("id_hash", "id", "division_id")}
    active: dict[int, set[str]] = {}
    for pk, category in HouseholdCategory.objects.filter(ended_on__isnull=True).values_list(
        "household_id", "category_id"
    ):
        active.setdefault(pk, set()).add(names[category])
    people = []
    with (work / "households.csv").open(encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            people.append((row[5], idnumber.normalize(row[6].strip())))
    rng.shuffle(people)
    in_registry = int(size * 0.9)
    listed = people[:in_registry]
    new_categories, counts = [], {"typos": 0, "name_changed": 0, "category_changed": 0, "new_people": 0}
    certified = dt.date(2024, 1, 1)
    list_path = work / "list.csv"
    with list_path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(LIST_HEADER)
        for name, number in listed:
            pk, _village = households[idnumber.keyed_hash(number)]
            have = sorted(active.get(pk, set()) & set(LIST_CATEGORIES)) or [rng.choice(list(LIST_CATEGORIES))]
            category = have[0]
            if pk not in active or not active[pk] & set(LIST_CATEGORIES):
                new_categories.append((pk, _village, codes[category], certified, None))  # last month's list
            if rng.random() < 0.01:  # certified for another category this month
                category = rng.choice([c for c in LIST_CATEGORIES if c != category])
                counts["category_changed"] += 1
            if rng.random() < 0.0004:
                number = _typo(number, rng)
                counts["typos"] += 1
            if rng.random() < 0.001:
                name = name[0] + "某" + name[1:]
                counts["name_changed"] += 1
            day = certified + dt.timedelta(days=rng.randrange(600))
            out.writerow([name, number, LIST_CATEGORIES[category], day.isoformat(), "", "", ""])
        generator = DemoGenerator(seed=77, villages=_villages())
        for spec in generator.households(size - in_registry):  # people the registry does not have
            while idnumber.keyed_hash(spec.id_number) in households:
                generator.reissue_id(spec)
            out.writerow(
                [spec.head_name, spec.id_number, rng.choice(list(LIST_CATEGORIES.values())), "2025-03-01", "", "", ""]
            )
            counts["new_people"] += 1
    columns, extra = bulk.columns_for(
        HouseholdCategory, ["household", "division", "category", "certified_on", "ended_on"]
    )
    with bulk.bulk_session(), transaction.atomic():
        for i in range(0, len(new_categories), 20000):
            bulk.insert_rows(HouseholdCategory, columns, [(*r, *extra) for r in new_categories[i : i + 20000]])
    bulk.analyze([HouseholdCategory])
    counts["categories_added_to_registry"] = len(new_categories)
    connection.close()
    return counts


def _polars_baseline(work: Path, list_keys: list[tuple[str, str]]) -> dict[str, Any]:
    """Plain polars joins of the same keys: the registry read from the database, the list's keys precomputed.

    A second, stricter baseline adds the work any comparison must do before a join: read list.csv (polars) and
    turn its ID numbers into keyed hashes (HMAC-SHA256, key set up once, as `compare.keyed_hashes`)."""
    import polars as pl
    from django.db import connection

    from anju.exchange.compare import keyed_hashes
    from anju.registry.models import HouseholdCategory, TargetCategory

    index = {}
    for code, name, shorts in TargetCategory.objects.values_list("code", "name", "short_names"):
        for spelling in (code, name, *shorts):
            index[spelling] = code
    keys_path = work / "list-keys.parquet"
    pl.DataFrame(
        {"id_hash": [h for h, _c in list_keys], "category": [index.get(c, c) for _h, c in list_keys]}
    ).write_parquet(keys_path)
    table_h = "registry_household"
    table_c = HouseholdCategory._meta.db_table
    table_t = TargetCategory._meta.db_table
    query_c = (
        f"SELECT h.id_hash, t.code AS category FROM {table_c} c JOIN {table_h} h ON h.id = c.household_id "
        f"JOIN {table_t} t ON t.id = c.category_id WHERE c.ended_on IS NULL"
    )
    raw = connection.cursor().connection

    def run(with_io: bool, frames: dict[str, pl.DataFrame], from_csv: bool = False) -> tuple[float, dict[str, int]]:
        start = time.perf_counter()
        if from_csv:
            text = pl.read_csv(work / "list.csv", columns=["身份证号码", "类别"], infer_schema=False)
            frames["list"] = pl.DataFrame(
                {"id_hash": keyed_hashes(text["身份证号码"].to_list()), "category": text["类别"].replace(index)}
            )
        elif with_io:
            frames["list"] = pl.read_parquet(keys_path)
        if with_io or from_csv:
            cur = raw.cursor()
            cur.execute(f"SELECT id_hash, id FROM {table_h}")
            frames["registry"] = pl.DataFrame(cur.fetchall(), schema=["id_hash", "id"], orient="row")
            cur.execute(query_c)
            frames["active"] = pl.DataFrame(cur.fetchall(), schema=["id_hash", "category"], orient="row")
        listed, registry, memberships = frames["list"], frames["registry"], frames["active"]
        matched = listed.join(registry, on="id_hash", how="inner")
        missing = listed.join(registry, on="id_hash", how="anti").unique(["id_hash", "category"])
        pairs = matched.select("id_hash", "category").unique()
        category_missing = pairs.join(memberships, on=["id_hash", "category"], how="anti")
        listed_cats = listed.select("category").unique()
        no_longer = memberships.join(listed_cats, on="category", how="semi").join(
            pairs, on=["id_hash", "category"], how="anti"
        )
        sizes = {
            "matched": matched.height,
            "not_in_registry": missing.height,
            "category_missing": category_missing.height,
            "no_longer_listed": no_longer.height,
        }
        return time.perf_counter() - start, sizes

    frames: dict[str, pl.DataFrame] = {}
    with_io, sizes = min(run(True, frames) for _ in range(2))  # best of two: the first also warms the caches
    joins_only, _ = run(False, frames)
    strict, strict_sizes = min(run(True, frames, from_csv=True) for _ in range(2))
    assert strict_sizes == sizes, (strict_sizes, sizes)
    return {
        "polars_with_reads_s": round(with_io, 2),
        "polars_joins_only_s": round(joins_only, 2),
        "polars_csv_hashes_reads_s": round(strict, 2),
        "sizes": sizes,
    }


def cmd_compare(args: argparse.Namespace) -> None:
    """The department list: 90 % of its people are registry heads (1 % listed for another category this month,
    0.1 % with their name spelt differently, 0.04 % with a typo'd ID), 10 % unknown to the registry. Before it, the
    registry is given last month's list: the listed heads' civil-affairs categories (written in bulk, untimed),
    so most categories agree as they would in practice."""
    env = configure(args.engine, args.work)
    results: list[dict[str, Any]] = [{"step": "load average at start", "value": load_average()}]
    restore(args.engine, args.work, "imported")
    # the snapshot may predate a migration of the code under test (untimed)
    subprocess.run([ANJU, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    django_setup()
    counts = prepare_list(args.work, args.people)
    results.append({"step": "list prepared", "counts": counts})
    print(counts, flush=True)
    from django.db import connection

    with connection.cursor() as cursor:  # the preparation's writes go to disk now, not during the timed runs
        cursor.execute("CHECKPOINT" if connection.vendor == "postgresql" else "PRAGMA wal_checkpoint(TRUNCATE)")
    close_db()
    from django.core.exceptions import ValidationError

    from anju.core import idnumber
    from anju.exchange.compare import keyed_hashes

    list_keys = []
    with (args.work / "list.csv").open(encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            try:
                number = idnumber.validate(row[1])
            except ValidationError:
                number = idnumber.normalize(row[1])
            list_keys.append((keyed_hashes([number])[0], row[2]))
    out = args.work / "comparison.xlsx"
    step = timed(["compare", str(args.work / "list.csv"), "--source", "民政"], env, "anju compare 1M x 1M")
    step["load_after"] = load_average()
    results.append(step)
    report = timed(
        ["compare", str(args.work / "list.csv"), "--source", "民政", "-o", str(out)],
        env,
        "anju compare 1M x 1M -o comparison.xlsx (with the report workbook)",
    )
    report["load_after"] = load_average()
    results.append(report)
    from anju.exchange.models import Comparison

    comparison = Comparison.objects.order_by("-pk").first()
    results.append({"step": "comparison counts", "counts": comparison.counts})
    print(comparison.counts)
    baseline = _polars_baseline(args.work, list_keys)
    results.append({"step": "polars", **baseline})
    print(baseline)
    record(args.work, args.engine, results)
    print(
        f"ratio compare (no workbook) / polars (with reads) = {step['wall_s'] / baseline['polars_with_reads_s']:.1f}, "
        f"/ polars (csv + keyed hashes + reads) = {step['wall_s'] / baseline['polars_csv_hashes_reads_s']:.1f}, "
        f"/ polars (joins only) = {step['wall_s'] / baseline['polars_joins_only_s']:.1f}; "
        f"the workbook adds {report['wall_s'] - step['wall_s']:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/exchange_1m"))
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--engine", choices=["sqlite", "postgres"], required=True)
    p = sub.add_parser("generate")
    p.add_argument("--households", type=int, default=1_000_000)
    p.add_argument("--xlsx-rows", type=int, default=100_000)
    p = sub.add_parser("import")
    p.add_argument("--engine", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--quick", action="store_true", help="only the import and the raw load (the ratio)")
    p = sub.add_parser("compare")
    p.add_argument("--engine", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--people", type=int, default=1_000_000)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    {"setup": cmd_setup, "generate": cmd_generate, "import": cmd_import, "compare": cmd_compare}[args.command](args)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
