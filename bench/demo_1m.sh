#!/usr/bin/env bash
# Time `anju demo` on a fresh database and report wall time, peak RSS and database size.
#
#   bench/demo_1m.sh sqlite   [HOUSEHOLDS]   # ANJU_DATA_DIR (default /tmp/demo-sqlite) is wiped first
#   bench/demo_1m.sh postgres [HOUSEHOLDS]   # DATABASE_URL's database is dropped and recreated first
#
# HOUSEHOLDS defaults to 1000000. PostgreSQL: DATABASE_URL defaults to
# postgres://anju:anju@127.0.0.1:5433/anju_bench; its user needs CREATEDB. Needs GNU time (/usr/bin/time).
set -euo pipefail

engine="${1:?usage: $0 sqlite|postgres [HOUSEHOLDS]}"
households="${2:-1000000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/.venv/bin/python"
anju="$root/.venv/bin/anju"
export ANJU_DATA_DIR="${ANJU_DATA_DIR:-/tmp/demo-sqlite}"
log="$(mktemp)"

case "$engine" in
  sqlite)
    unset DATABASE_URL
    rm -rf "$ANJU_DATA_DIR"
    ;;
  postgres)
    export DATABASE_URL="${DATABASE_URL:-postgres://anju:anju@127.0.0.1:5433/anju_bench}"
    "$py" - <<'PY'
import os
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

url = urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY
    ;;
  *) echo "engine must be sqlite or postgres" >&2; exit 2 ;;
esac

"$anju" migrate -v0
echo "== anju demo --households $households --seed 2021 ($engine, $(nproc) cores)"
/usr/bin/time -v "$anju" demo --households "$households" --seed 2021 2> >(tee "$log" >&2)
"$anju" audit verify

wall="$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')"
rss_kb="$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')"
if [ "$engine" = sqlite ]; then
  "$py" -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" \
    "$ANJU_DATA_DIR/anju.sqlite3"
  size="$(du -cb "$ANJU_DATA_DIR"/anju.sqlite3* | tail -1 | cut -f1)"
else
  size="$("$anju" shell -c "from django.db import connection
c = connection.cursor(); c.execute('SELECT pg_database_size(current_database())'); print(c.fetchone()[0])" 2>/dev/null \
    | tail -1)"
fi
echo "== result: engine=$engine households=$households wall=$wall peak_rss=$((rss_kb / 1024))MiB" \
  "db_size=$((size / 1024 / 1024))MiB"
rm -f "$log"
