"""Time the registry pages and API calls on a populated database (e.g. after `anju demo --households 1000000`).

Usage:  ANJU_DATA_DIR=/path [DATABASE_URL=...] .venv/bin/python bench/pages.py [--runs 5] [--site] [--user NAME]
Prints the median wall time and query count per request, then EXPLAIN of the scoped list query.

--site also opens every other page of the site that takes no argument (found in the URL configuration, so a new
page is timed without editing this file), a few pages that take a division or a record, and the downloads
(spreadsheets, PDFs) once each; a download that becomes a background job is waited for (its wall time printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anju.settings.dev")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import URLResolver, get_resolver, reverse  # noqa: E402

from anju.accounts.models import User  # noqa: E402
from anju.registry.models import Household  # noqa: E402
from anju.registry.selectors import household_list  # noqa: E402


def timed(client: Client, url: str, runs: int) -> tuple[float, int, int]:
    times, queries, status = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        queries, status = len(ctx), response.status_code
    return statistics.median(times) * 1000, queries, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--site", action="store_true", help="also every page without an argument, and downloads")
    args = parser.parse_args()

    user = User.objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    token_client = Client(HTTP_AUTHORIZATION="Bearer " + _token(user))
    total = Household.objects.count()
    sample = Household.objects.order_by("id")[total // 2]
    name = sample.head_name[:1]
    county = "610826000000"
    urls = [
        ("home (city)", client, "/"),
        ("home drill-down (county)", client, f"/divisions/{county}/"),
        ("household list p1", client, "/households/"),
        ("household list p1000", client, "/households/?page=1000"),
        ("list grade=D", client, "/households/?grade=D"),
        ("list category=dibao", client, "/households/?category=dibao"),
        ("list county + earth_cave + idle", client, f"/households/?division={county}&structure=earth_cave&idle=1"),
        ("list name prefix", client, f"/households/?q={name}"),
        ("household detail", client, f"/households/{sample.pk}/"),
        ("API households p1", token_client, "/api/v1/households?page_size=50"),
        ("API households county grade=C", token_client, f"/api/v1/households?division={county}&grade=C"),
        ("API houses p1", token_client, "/api/v1/houses?page_size=50"),
        ("API household detail", token_client, f"/api/v1/households/{sample.pk}"),
    ]
    print(f"engine={connection.vendor} households={total:,} user={user.username} runs={args.runs}")
    print(f"{'request':38} {'median ms':>10} {'queries':>8} {'status':>7}")
    for label, c, url in urls:
        ms, queries, status = timed(c, url, args.runs)
        print(f"{label:38} {ms:10.1f} {queries:8d} {status:7d}")

    if args.site:
        pages, downloads = site_pages()
        pages += record_pages(county)
        print(f"\n{'page (every page without an argument)':38} {'median ms':>10} {'queries':>8} {'status':>7}")
        for label, url in pages:
            ms, queries, status = timed(client, url, args.runs)
            print(f"{label:38} {ms:10.1f} {queries:8d} {status:7d}")
        print(f"\n{'download (once)':38} {'ms':>10} {'queries':>8} {'status':>7}  background job")
        for label, url in downloads:
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(url)
                ms = (time.perf_counter() - start) * 1000
            job = f"  {job_seconds(response):.1f} s" if response.status_code == 302 else ""
            print(f"{label:38} {ms:10.1f} {len(ctx):8d} {response.status_code:7d}{job}")

    sql, params = household_list(actor=user, filters={}).query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql + " LIMIT 30", params)
        print("\nEXPLAIN scoped household list:")
        for row in cursor.fetchall():
            print("  ", " ".join(str(x) for x in row))


def job_seconds(response: HttpResponse) -> float:
    """A large export answers with a redirect to its job (run in a thread of this process): wait for the job and
    return its wall time, so that the next download is not timed while the job takes the CPU and the GIL."""
    from anju.exchange.models import ExportJob, RunStatus

    pk = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    start = time.perf_counter()
    while (job := ExportJob.objects.get(pk=pk)).status in (RunStatus.PENDING, RunStatus.RUNNING):
        time.sleep(0.2)
    if job.status != RunStatus.DONE:
        raise SystemExit(f"export job {pk} ended {job.status}: {job.message}")
    return time.perf_counter() - start


#: pages already in the first table, or not pages to time (the login form, logging out, the home page again)
SKIPPED = {"login", "logout", "household_list", "home"}


def site_pages() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, url) of every named page without arguments outside the API, and of the downloads among them."""
    pages, downloads = [], []

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
                continue
            route = prefix + str(pattern.pattern)
            if "<" in route or route.startswith("api/") or not pattern.name or pattern.name in SKIPPED:
                continue
            label = f"{namespace}:{pattern.name}" if namespace else pattern.name
            download = route.endswith((".xlsx", ".pdf")) or route.rstrip("/").endswith("export")
            (downloads if download else pages).append((label, "/" + route))

    walk(get_resolver().url_patterns, "", "")
    return pages, downloads


def record_pages(county: str) -> list[tuple[str, str]]:
    """Pages of a division or a record that a county bureau opens every day: the responsibility chain of the
    county and of a village, a ledger case."""
    from anju.cases.models import Case
    from anju.divisions.models import Division

    village = Division.objects.filter(code__startswith=county[:6], level="village").order_by("code").first()
    pages = [("responsibility:chain (county)", reverse("responsibility:chain", args=[county]))]
    if village:
        pages.append(("responsibility:chain (village)", reverse("responsibility:chain", args=[village.code])))
    case = Case.objects.order_by("id").first()
    if case:
        pages.append(("cases:case_detail", reverse("cases:case_detail", args=[case.pk])))
    return pages


def _token(user: User) -> str:
    from anju.accounts.services import token_issue

    return token_issue(user=user)


if __name__ == "__main__":
    main()
