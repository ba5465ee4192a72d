"""`anju` in a subprocess, on a database of its own: for what only a separate process shows (a SIGKILL, SQLite's
locking between connections of a real database file; the test database lives in memory and is invisible there)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def anju(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run `anju ARGS` to its end; it must succeed (its stderr's end is the failure message)."""
    command = Path(sys.executable).with_name("anju")
    done = subprocess.run([str(command), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture
def subprocess_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment for `anju` subprocesses with a database of their own: a SQLite file under a fresh data dir,
    or a fresh database on the PostgreSQL server of DATABASE_URL (dropped afterwards)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["ANJU_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield env
        return
    import psycopg

    name = f"anju_sub_{os.getpid()}"
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    env["DATABASE_URL"] = f"{server}/{name}"
    yield env
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
