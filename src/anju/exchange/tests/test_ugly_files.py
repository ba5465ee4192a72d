"""The library of ugly real-world files (issue 5 "Tests"; DESIGN.md "Spreadsheets"): every file through the dry
run, the default all-or-nothing and --skip-invalid gives the right counts and Chinese messages, and the database is
unchanged wherever it must be (a digest of everything a households import writes, before and after)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from anju.core import idnumber
from anju.core.errors import DomainError
from anju.exchange import pipeline
from anju.exchange.models import ImportMode, ImportRun, RunStatus
from anju.exchange.pipeline import run_import
from anju.registry.models import Household
from anju.testing import factories, ugly_files
from anju.testing.ugly_files import LIBRARY, registry_digest

pytestmark = pytest.mark.django_db

MODES = {
    "dry_run": {"dry_run": True},
    "all_or_nothing": {},
    "skip_invalid": {"mode": ImportMode.SKIP_INVALID},
}
CJK = range(0x4E00, 0xA000)


@pytest.fixture
def registry():
    """The files' two villages and one household registered beforehand (so 'unchanged' covers existing rows)."""
    village, _other = ugly_files.villages()
    return factories.household(village, head_name="已登记", id_number=ugly_files.person(9000))


@pytest.fixture(params=["here", "apart"])
def parsing(request, monkeypatch) -> list[int]:
    """Each file parsed in this process, and in a child process as a city's large file is (`pipeline._apart`):
    the outcome must not tell them apart. Yields the calls of `_apart` made (to prove the child was used)."""
    calls: list[int] = []
    if request.param == "apart":
        monkeypatch.setattr(pipeline, "_parse_apart", lambda table: True)  # whatever the size and threads
        apart = pipeline._apart
        monkeypatch.setattr(pipeline, "_apart", lambda *args: calls.append(1) or apart(*args))
    yield calls
    if request.param == "apart":
        assert calls, "the file was not parsed in a child process"


def chinese(text: str) -> bool:
    return any(ord(ch) in CJK for ch in text)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", list(LIBRARY))
def test_ugly_file(tmp_path, registry, name, mode, parsing):
    ugly = LIBRARY[name](tmp_path)
    if ugly.refused and not parsing:  # refused before any row is parsed (a wrong type, no header): no child
        parsing.append(0)
    before = registry_digest()

    if ugly.refused:
        with pytest.raises(DomainError, match=ugly.refused) as refusal:
            run_import(kind="households", path=ugly.path, actor=None, **MODES[mode])
        assert chinese(refusal.value.message)
        assert registry_digest() == before
        run = ImportRun.objects.get()
        assert run.status == RunStatus.REFUSED and ugly.refused in run.message
        return

    result = run_import(kind="households", path=ugly.path, actor=None, **MODES[mode])
    run = result.run
    bad = ugly.bad_rows
    assert (run.total, run.created, run.updated, run.unchanged, run.invalid) == (ugly.good + bad, ugly.good, 0, 0, bad)

    # every bad row with its row number, column, value and reason in Chinese; no other row blamed
    assert result.error_count == len(result.errors)
    assert {e.row for e in result.errors} == {row for row, _c, _m in ugly.errors}
    for row, column, fragment in ugly.errors:
        matching = [e for e in result.errors if e.row == row and e.column == column]
        assert any(fragment in e.message for e in matching), (row, column, fragment, result.errors)
    for error in result.errors:
        assert error.row > 0 and error.column and chinese(error.message), error

    written = mode == "skip_invalid" or (mode == "all_or_nothing" and not bad)
    if not written:
        assert registry_digest() == before
        assert run.status == (RunStatus.REFUSED if mode == "all_or_nothing" else RunStatus.DONE)
        return
    assert run.status == RunStatus.DONE
    assert Household.objects.count() == 1 + ugly.good
    for number, fields in ugly.expect.items():
        household = Household.objects.get(id_hash=idnumber.keyed_hash(number))
        house = household.houses.get()
        for key, value in fields.items():
            stored = getattr(household, key) if hasattr(household, key) else getattr(house, key)
            assert stored == value, (number, key, stored, value)

    # importing the same file again writes nothing: the good rows are all unchanged now
    after = registry_digest()
    again = run_import(kind="households", path=ugly.path, actor=None, **MODES[mode]).run
    assert (again.created, again.updated, again.unchanged) == (0, 0, ugly.good)
    counts, _digest = registry_digest()
    assert counts[:4] == after[0][:4]  # only the second run's audit event is new


def test_two_level_header_reads_every_column(tmp_path, registry):
    """户主信息 over 姓名/身份证号码, 房屋信息 over 结构/年份/面积: the lower cells name the columns."""
    ugly = LIBRARY["two_level_merged_header"](tmp_path)
    run_import(kind="households", path=ugly.path, actor=None)
    house = Household.objects.get(id_hash=idnumber.keyed_hash(ugly_files.person(11))).houses.get()
    assert (house.structure, house.build_year, house.floor_area) == ("brick_wood", 1987, Decimal("96.50"))


def test_existing_household_is_updated_from_an_ugly_file(tmp_path, registry):
    """A known ID in a GBK file with title rows and full-width digits updates the household in place."""
    row = ugly_files.household_row(9000, 户主姓名="已登记", 家庭人口="５", 身份证号码=ugly_files.person(9000).lower())
    path = ugly_files.write_csv(tmp_path / "更新.csv", [row], encoding="gbk", titles=[ugly_files.TITLE])
    run = run_import(kind="households", path=path, actor=None).run
    assert (run.created, run.updated, run.unchanged) == (0, 1, 0)
    registry.refresh_from_db()
    assert registry.size == 5 and Household.objects.count() == 1


@pytest.mark.parametrize("name", ["everything_wrong", "docx", "truncated_xlsx"])
def test_terminal_reports_in_chinese_and_writes_nothing(tmp_path, registry, capsys, name):
    """`anju import households` exits non-zero with the reasons; the database is as before."""
    ugly = LIBRARY[name](tmp_path)
    before = registry_digest()
    with pytest.raises(CommandError) as failure:
        call_command("import", "households", str(ugly.path))
    assert registry_digest() == before
    if ugly.refused:
        assert ugly.refused in str(failure.value)
        return
    assert "未写入任何数据" in str(failure.value)
    err = capsys.readouterr().err
    for row, column, fragment in ugly.errors:
        assert f"第{row}行「{column}」" in err and fragment in err


@pytest.mark.slow
def test_50_mb_csv_in_constant_memory(tmp_path, registry, monkeypatch):
    """A 50 MB file (about 120,000 households) is checked in a dry run without holding it: the process's peak
    resident memory grows by less than the file (the one per-row cost is the in-file duplicate index; the rest is
    one batch of rows). Parsed in this process, so that the peak measured is the whole import's (a file this large
    is otherwise parsed by a child process, whose peak this one would not see)."""
    if not STATUS.exists() or not CLEAR_REFS.exists():
        pytest.skip("peak RSS is read from /proc (Linux)")
    monkeypatch.setattr(pipeline, "_parse_apart", lambda table: False)
    path = tmp_path / "big.csv"
    count = ugly_files.big_csv(path, 50_000_000)
    size = path.stat().st_size
    assert size >= 50_000_000

    warm_up = tmp_path / "small.csv"  # one-time loads (code, the division tree, ID address codes) are not per file
    ugly_files.big_csv(warm_up, 1_000_000, first=2_000_000)
    run_import(kind="households", path=warm_up, actor=None, dry_run=True)

    CLEAR_REFS.write_text("5")  # resets VmHWM (the peak) to the current resident size
    before = _memory("VmRSS")
    run = run_import(kind="households", path=path, actor=None, dry_run=True).run
    growth = _memory("VmHWM") - before
    assert (run.total, run.created, run.invalid) == (count, count, 0)
    # measured 31–35 MB for 51 MB (what the rest of the suite left in the allocator moves it by a few MB): the
    # duplicate index (~14 MB at 116,000 rows: digests, row numbers, the dict) and a batch of rows (~12 MB, by
    # tracemalloc); a file held in memory would cost several times its size as Python strings
    assert growth < size, f"peak RSS grew by {growth / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _memory(field: str) -> int:
    """VmRSS (resident now) or VmHWM (peak since the last reset) of this process, in bytes."""
    line = next(line for line in STATUS.read_text().splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1]) * 1024


def test_dates_arrive_as_one_day(tmp_path, registry):
    """Every date spelling of DESIGN.md and every Excel form of the same day is stored as that day."""
    for name in ("date_spellings", "excel_dates"):
        ugly = LIBRARY[name](tmp_path)
        run_import(kind="households", path=ugly.path, actor=None)
        for number in ugly.expect:
            house = Household.objects.get(id_hash=idnumber.keyed_hash(number)).houses.get()
            assert house.graded_on == dt.date(2021, 5, 14)
