"""Time the registry pages and API calls on a populated database (e.g. after `anju demo --households 1000000`).

Usage:  ANJU_DATA_DIR=/path [DATABASE_URL=...] .venv/bin/python bench/pages.py [--runs 5]
Prints the median wall time and query count per request, then EXPLAIN of the scoped list query.
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
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

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

    sql, params = household_list(actor=user, filters={}).query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql + " LIMIT 30", params)
        print("\nEXPLAIN scoped household list:")
        for row in cursor.fetchall():
            print("  ", " ".join(str(x) for x in row))


def _token(user: User) -> str:
    from anju.accounts.services import token_issue

    return token_issue(user=user)


if __name__ == "__main__":
    main()
