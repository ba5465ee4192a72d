"""docs/POLICY-TRACE.md maps every requirement P1–P24 to the code that implements it and the tests that would fail
without it. This keeps the table true: every P id has a row, and every file a row names exists and cites that id
(code as `P13`, tests also as `p13` in a test name), so a moved or renamed file, or a dropped citation, fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACE = ROOT / "docs" / "POLICY-TRACE.md"
ROW = re.compile(r"^\|\s*(P\d+)\s*\|(.*)\|(.*)\|(.*)\|\s*$")
PATH = re.compile(r"`([^`]+)`")


def rows() -> dict[str, tuple[list[str], list[str]]]:
    found = {}
    for line in TRACE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            pid, _requirement, code, tests = match.groups()
            found[pid] = (PATH.findall(code), PATH.findall(tests))
    return found


def cites(path: str, pid: str, *, ignore_case: bool) -> bool:
    text = (ROOT / path).read_text(encoding="utf-8")
    return re.search(rf"{pid}(?!\d)", text, re.IGNORECASE if ignore_case else 0) is not None


def test_every_requirement_has_a_row_with_code_and_tests():
    table = rows()
    assert sorted(table, key=lambda p: int(p[1:])) == [f"P{n}" for n in range(1, 25)]
    for pid, (code, tests) in table.items():
        assert code, f"{pid}: no code named"
        assert tests, f"{pid}: no test named"


def test_every_named_file_exists_and_cites_its_requirement():
    problems = []
    for pid, (code, tests) in rows().items():
        for path in code + tests:
            if not (ROOT / path).is_file():
                problems.append(f"{pid}: {path} does not exist")
        problems += [
            f"{pid}: {p} does not cite {pid}"
            for p in code
            if (ROOT / p).is_file() and not cites(p, pid, ignore_case=False)
        ]
        problems += [
            f"{pid}: {p} does not cite {pid}"
            for p in tests
            if (ROOT / p).is_file() and not cites(p, pid, ignore_case=True)
        ]
    assert not problems, "\n".join(problems)
