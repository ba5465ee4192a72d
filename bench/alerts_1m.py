"""Give the policy rules realistic work on a demo database, then time what `anju alerts refresh` cannot show.

Usage (after `anju demo --households 1000000` and `anju migrate`):

    ANJU_DATA_DIR=/tmp/b1m .venv/bin/python bench/alerts_1m.py prepare        # campaign, checks, findings, requests
    /usr/bin/time -v .venv/bin/anju alerts refresh --date 2026-11-28           # first run, then a second one
    ANJU_DATA_DIR=/tmp/b1m .venv/bin/python bench/alerts_1m.py incremental    # one household, in-process
    ANJU_DATA_DIR=/tmp/b1m .venv/bin/python bench/alerts_1m.py pages          # alert and monitoring pages, API
    ANJU_DATA_DIR=/tmp/b1m .venv/bin/python bench/alerts_1m.py rules          # each rule's evaluation alone
    ANJU_DATA_DIR=/tmp/b1m .venv/bin/python bench/alerts_1m.py explain        # query plans

`prepare` creates the city-wide 2026 annual check (1 March – 30 April 2026) with a check record for 90 % of the
households (every household whose id is not a multiple of 10), one finding per house of each checked household
(1 % of them with a site hazard), and 2,000 appraisal requests from suspected checks, half of them still open and
overdue. Rows are written by COPY (PostgreSQL) or executemany (SQLite). `prepare --reset` removes what an earlier
run wrote first; `remove` deletes it (and its P5/P8 alerts; the next refresh resolves what follows from it).
Throwaway: the data is for measuring, not for the demo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anju.settings.dev")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from anju.accounts.models import User  # noqa: E402
from anju.core.bulk import analyze, bulk_session, columns_for, insert_rows, reserve_ids  # noqa: E402
from anju.inspections.models import (  # noqa: E402
    AppraisalRequest,
    Campaign,
    CampaignKind,
    CheckRecord,
    HouseFinding,
    RequestSource,
    RequestStatus,
)
from anju.policy.models import Alert, AlertStatus  # noqa: E402
from anju.registry.models import House, Household  # noqa: E402

CITY = "610800000000"
NAME = "基准测试：2026年度农村住房安全核查"
HAZARDS = ["landslide", "flood", "subsidence"]
CHUNK = 50_000


def _chunks(rows, size=CHUNK):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def remove() -> bool:
    """Delete what `prepare` wrote (the bench campaign, its checks, findings and requests, and their alerts)."""
    old = Campaign.objects.filter(name=NAME)
    if not old.exists():
        return False
    Alert.objects.filter(
        rule_id="P5.annual_check", reason__in=[f"campaign:{pk}" for pk in old.values_list("pk", flat=True)]
    ).delete()
    requests = AppraisalRequest.objects.filter(check_record__campaign__in=old)
    Alert.objects.filter(object_type="inspections.appraisalrequest", object_id__in=requests.values("pk")).delete()
    requests.delete()
    HouseFinding.objects.filter(check_record__campaign__in=old).delete()
    CheckRecord.objects.filter(campaign__in=old).delete()
    old.delete()
    return True


def prepare(reset: bool, requests: int) -> None:
    started = time.monotonic()
    checker = User.objects.filter(username="admin").first() or User.objects.order_by("id").first()
    with transaction.atomic(), bulk_session():
        if Campaign.objects.filter(name=NAME).exists():
            if not reset:
                raise SystemExit("already prepared (use --reset to start again)")
            remove()
        campaign = Campaign.objects.create(
            name=NAME, kind=CampaignKind.ANNUAL, year=2026, starts_on=dt.date(2026, 3, 1),
            ends_on=dt.date(2026, 4, 30), division_id=CITY, note="bench/alerts_1m.py",
        )  # fmt: skip
        households = list(Household.objects.order_by("id").values_list("id", "division_id"))
        checked = [(pk, code) for pk, code in households if pk % 10]
        first = reserve_ids(CheckRecord, len(checked))
        check_of = {}
        now = timezone.now()
        columns, extra = columns_for(
            CheckRecord,
            [
                "id",
                "campaign_id",
                "household_id",
                "division_id",
                "checked_on",
                "checker_id",
                "verdict",
                "created_at",
                "note",
            ],
        )

        def check_rows():
            for i, (pk, code) in enumerate(checked):
                check_of[pk] = first + i
                day = dt.date(2026, 3, 1) + dt.timedelta(days=pk % 61)
                verdict = "suspected" if pk % 500 == 1 else "no_danger"
                yield (first + i, campaign.pk, pk, code, day, checker.pk, verdict, now, "", *extra)

        for batch in _chunks(check_rows()):
            insert_rows(CheckRecord, columns, batch)
        print(f"check records: {len(checked):,} ({time.monotonic() - started:.1f} s)")

        columns, extra = columns_for(
            HouseFinding, ["check_record_id", "house_id", "division_id", "site_hazard", "note"]
        )
        houses = House.objects.order_by("id").values_list("id", "household_id", "division_id")
        findings = hazards = 0
        suspected_houses = []

        def finding_rows():
            nonlocal findings, hazards
            for house_id, household_id, code in houses.iterator(chunk_size=CHUNK):
                record = check_of.get(household_id)
                if record is None:
                    continue
                hazard = HAZARDS[house_id % 3] if house_id % 100 == 7 else ""
                findings += 1
                hazards += bool(hazard)
                if household_id % 500 == 1:
                    suspected_houses.append((house_id, household_id, code, record))
                yield (record, house_id, code, hazard, "", *extra)

        for batch in _chunks(finding_rows()):
            insert_rows(HouseFinding, columns, batch)
        print(f"house findings: {findings:,}, with a site hazard: {hazards:,} ({time.monotonic() - started:.1f} s)")

        columns, extra = columns_for(
            AppraisalRequest,
            ["house_id", "division_id", "source", "check_record_id", "reported_on", "reported_by_id", "description",
             "due_on", "status", "created_at"],
        )  # fmt: skip

        def request_rows():
            for n, (house_id, household_id, code, record) in enumerate(suspected_houses[:requests]):
                reported = dt.date(2026, 3, 1) + dt.timedelta(days=household_id % 61)
                status = RequestStatus.OPEN if n % 2 else RequestStatus.DONE
                yield (house_id, code, RequestSource.CHECK, record, reported, checker.pk, "核查发现疑似危房",
                       reported + dt.timedelta(days=15), status, now, *extra)  # fmt: skip

        insert_rows(AppraisalRequest, columns, list(request_rows()))
        print(f"appraisal requests: {min(requests, len(suspected_houses)):,}")
        analyze([CheckRecord, HouseFinding, AppraisalRequest, Campaign])
    print(f"prepared in {time.monotonic() - started:.1f} s")


def _household_with_reasons() -> int:
    """A household with several open P7 reasons and a P5 alert, if the refresh has run; else any household."""
    found = (
        Alert.objects.filter(rule_id="P7.monitoring", status=AlertStatus.OPEN, reason="category")
        .filter(household_id__in=Alert.objects.filter(rule_id="P5.annual_check").values("household_id"))
        .values_list("household_id", flat=True)
        .first()
    )
    return found or Household.objects.order_by("id").values_list("id", flat=True).first()


def incremental(runs: int) -> None:
    from anju.policy.services import alerts_refresh

    household = _household_with_reasons()
    times, counts = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            report = alerts_refresh(household_ids=[household])
            times.append((time.perf_counter() - start) * 1000)
        counts.append(len(ctx))
    print(
        f"incremental refresh of household {household}: median {statistics.median(times):.1f} ms "
        f"(min {min(times):.1f}, max {max(times):.1f}), {counts[-1]} queries, open {report.open_by_rule}"
    )
    rules(household)


def rules(household: int | None = None) -> None:
    """Each rule's evaluation alone (no writing), for everyone or for one household."""
    from anju.policy.rules import Context, all_rules
    from anju.policy.services import _begin

    context = Context(today=timezone.localdate(), household_ids=frozenset([household]) if household else None)
    with transaction.atomic():
        _begin()
        for rule in all_rules():
            start = time.perf_counter()
            found = sum(1 for _ in rule.evaluate(context))
            print(f"  {rule.id:22} {found:9,} findings  {(time.perf_counter() - start) * 1000:9.1f} ms")


def pages(runs: int) -> None:
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    urls = [
        ("alerts page (city)", "/alerts/"),
        ("alerts page, P5 only", "/alerts/?rule=P5.annual_check"),
        ("alerts page, overdue", "/alerts/?due=overdue"),
        ("alerts page p1000", "/alerts/?page=1000"),
        ("alerts page (county)", "/alerts/?division=610802000000"),
        ("monitoring page (city)", "/monitoring/"),
        ("monitoring page, grade_b_earth", "/monitoring/?reason=grade_b_earth"),
        ("monitoring page (village)", "/monitoring/?division=" + _a_village()),
        ("GET /api/v1/alerts", "/api/v1/alerts"),
        ("GET /api/v1/monitoring", "/api/v1/monitoring"),
    ]
    for label, url in urls:
        times, queries = [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            queries = len(ctx)
        print(f"{label:34} {statistics.median(times):8.1f} ms  {queries:3} queries  HTTP {response.status_code}")


def _a_village() -> str:
    return Household.objects.order_by("id").values_list("division_id", flat=True).first()


def explain() -> None:
    """Plans of the P5 query (the selector's NOT IN, and NOT EXISTS for comparison) and of the list pages."""
    from django.db.models import Exists, OuterRef

    from anju.inspections.selectors import campaign_targets, campaign_unchecked
    from anju.policy.selectors import alert_list, monitoring_list
    from anju.policy.services import _begin

    campaign = Campaign.objects.get(name=NAME)
    admin = User.objects.get(username="admin")
    not_exists = campaign_targets(campaign).filter(
        ~Exists(CheckRecord.objects.filter(campaign=campaign, household_id=OuterRef("pk")))
    )
    with transaction.atomic():
        print(f"-- P5 campaign_unchecked, default work_mem\n{campaign_unchecked(campaign).explain()}\n")
        _begin()
        for label, qs in [
            ("P5 campaign_unchecked, work_mem as in a refresh", campaign_unchecked(campaign)),
            ("P5 as NOT EXISTS", not_exists),
            ("alert list, city", alert_list(actor=admin)[:30]),
            ("monitoring list, city", monitoring_list(actor=admin)[:30]),
        ]:
            print(f"-- {label}\n{qs.explain()}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--reset", action="store_true")
    p.add_argument("--requests", type=int, default=2000)
    sub.add_parser("incremental").add_argument("--runs", type=int, default=5)
    sub.add_parser("pages").add_argument("--runs", type=int, default=3)
    sub.add_parser("explain")
    sub.add_parser("rules")
    sub.add_parser("remove")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.reset, args.requests)
    elif args.command == "incremental":
        incremental(args.runs)
    elif args.command == "pages":
        pages(args.runs)
    elif args.command == "rules":
        rules()
    elif args.command == "remove":
        with transaction.atomic():
            print("removed" if remove() else "nothing to remove")
    else:
        explain()


if __name__ == "__main__":
    main()
