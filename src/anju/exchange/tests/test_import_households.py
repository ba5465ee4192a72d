"""`anju import households`: the registry from a spreadsheet, keyed by the head's ID number (DESIGN.md
"Spreadsheets/Households"; issue 5 deliver 1) — created, updated in place, unchanged rows not written, every bad
row reported, nothing half-written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core import idnumber
from anju.exchange import pipeline
from anju.exchange.importers import households as households_importer
from anju.exchange.models import ImportMode, ImportRun, RunStatus
from anju.exchange.pipeline import run_import
from anju.policy.models import Alert
from anju.registry.models import GradeRecord, House, Household, HouseholdCategory
from anju.testing import factories
from anju.testing.processes import anju as run_anju

pytestmark = pytest.mark.django_db

HEADER = ["县（市、区）", "乡镇（街道）", "行政村", "村民小组", "户主姓名", "身份证号码", "联系电话", "家庭人口"]
HEADER += ["重点对象类型", "房屋结构", "建造年份", "层数", "建筑面积", "安全等级", "鉴定日期", "是否闲置", "备注"]


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1, name="高家沟村")


def person(n: int) -> str:
    return idnumber.compose("610802", dt.date(1960, 1, 1) + dt.timedelta(days=n // 1000), n % 1000)


def row(n: int, **cells: str) -> dict[str, str]:
    base = {
        "县（市、区）": "榆阳区",
        "乡镇（街道）": "鼓楼街道",
        "行政村": "高家沟村",
        "村民小组": "一组",
        "户主姓名": f"张{n}",
        "身份证号码": person(n),
        "联系电话": "13900000000",
        "家庭人口": "3",
        "重点对象类型": "",
        "房屋结构": "砖混",
        "建造年份": "1998",
        "层数": "1",
        "建筑面积": "80.5",
        "安全等级": "",
        "鉴定日期": "",
        "是否闲置": "否",
        "备注": "",
    }
    return base | cells


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def snapshot() -> list[tuple]:
    return [
        *Household.objects.order_by("id").values_list("id", "head_name", "phone", "size", "updated_at"),
        *House.objects.order_by("id").values_list("id", "structure", "grade", "graded_on", "updated_at"),
        (HouseholdCategory.objects.count(), GradeRecord.objects.count()),
    ]


def test_new_ids_create_households_houses_categories_and_grades(tmp_path, village):
    path = write_csv(
        tmp_path / "h.csv",
        [
            row(1, 重点对象类型="特困人员、低保边缘户", 安全等级="C", 鉴定日期="2021/5/14"),
            row(2, 房屋结构="土窑洞", 层数="", 建筑面积="", 是否闲置="是"),
        ],
    )
    call_command("import", "households", str(path))

    first = Household.objects.get(id_hash=idnumber.keyed_hash(person(1)))
    assert (first.head_name, first.division_id, first.size, first.phone) == ("张1", village.code, 3, "13900000000")
    assert first.id_masked == idnumber.mask(person(1)) and idnumber.decrypt(first.id_cipher) == person(1)
    assert sorted(first.categories.values_list("category__code", flat=True)) == ["dibao_bianyuan", "tekun"]
    house = first.houses.get()
    assert (house.structure, house.grade, house.graded_on) == ("brick_concrete", "C", dt.date(2021, 5, 14))
    assert list(house.grade_history.values_list("grade", "source")) == [("C", "import")]
    second = Household.objects.get(id_hash=idnumber.keyed_hash(person(2))).houses.get()
    assert (second.structure, second.storeys, second.floor_area, second.is_idle, second.grade) == (
        "earth_cave",
        1,
        None,
        True,
        "U",
    )

    run = ImportRun.objects.get()
    assert (run.status, run.total, run.created, run.updated, run.unchanged, run.invalid) == ("done", 2, 2, 0, 0, 0)
    event = Event.objects.get(action=Action.HOUSEHOLDS_IMPORTED)
    assert event.extra["sha256"] == run.file_sha256 and len(run.file_sha256) == 64
    assert (event.extra["created"], event.extra["categories_added"], event.extra["grade_records"]) == (2, 2, 1)


def test_reimport_changes_nothing_and_corrected_file_updates_in_place(tmp_path, village, capsys):
    rows = [row(1, 重点对象类型="低保户"), row(2)]
    path = write_csv(tmp_path / "h.csv", rows)
    call_command("import", "households", str(path))
    before = snapshot()

    call_command("import", "households", str(path))
    assert snapshot() == before  # not one row written: updated_at unchanged too
    assert "新增 0，更新 0，未变化 2" in capsys.readouterr().out

    rows[0] |= {"家庭人口": "5", "联系电话": "", "重点对象类型": "特困人员", "安全等级": "D", "鉴定日期": "20240301"}
    call_command("import", "households", str(write_csv(tmp_path / "h2.csv", rows)))
    assert "新增 0，更新 1，未变化 1" in capsys.readouterr().out
    changed = Household.objects.get(id_hash=idnumber.keyed_hash(person(1)))
    assert Household.objects.count() == 2 and House.objects.count() == 2
    assert changed.size == 5
    assert changed.phone == "13900000000"  # a blank cell never erases
    # categories are added, never silently ended (the file no longer says 低保户)
    assert sorted(changed.categories.filter(ended_on=None).values_list("category__code", flat=True)) == [
        "dibao",
        "tekun",
    ]
    assert changed.houses.get().grade == "D"
    untouched = Household.objects.get(id_hash=idnumber.keyed_hash(person(2)))
    assert untouched.updated_at == next(r for r in before if r[0] == untouched.pk)[4]


def test_every_bad_row_reported_and_nothing_written(tmp_path, village, capsys):
    bad_checksum = person(3)[:-1] + ("0" if person(3)[-1] != "0" else "1")
    rows = [
        row(1),
        row(2, 身份证号码=bad_checksum),
        row(3, 行政村="不存在村"),
        row(4, 身份证号码=person(1)),
        row(5, 家庭人口="31"),
        row(6, 房屋结构="茅草房"),
        row(7, 安全等级="C"),
        row(8, 重点对象类型="低保户/五保"),
        row(9, 鉴定日期="2999-01-01", 安全等级="B"),
    ]
    path = write_csv(tmp_path / "h.csv", rows)
    out = tmp_path / "errors.xlsx"
    events = Event.objects.count()
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import", "households", str(path), "--errors", str(out))
    err = capsys.readouterr().err
    assert "第3行" in err and "校验位" in err
    assert "不存在村" in err
    assert "与第2行重复" in err
    assert "家庭人口应在1–30之间" in err
    assert "茅草房" in err
    assert "填写了安全等级时必须填写鉴定日期" in err
    assert "未知的重点对象类型「五保」" in err  # 五保户 is a short name of 特困人员, 五保 is not
    assert "晚于" in err
    assert Household.objects.count() == 0 and Event.objects.count() == events
    assert ImportRun.objects.get().status == RunStatus.REFUSED

    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert sheet[0][:4] == ["行号", "列", "值", "原因"] and "原表：户主姓名" in sheet[0]
    numbers = [int(r[0]) for r in sheet[1:]]
    assert numbers == sorted(numbers) and set(numbers) == {3, 4, 5, 6, 7, 8, 9, 10}
    duplicate = next(r for r in sheet[1:] if int(r[0]) == 5)
    assert duplicate[1] == "身份证号码" and "与第2行重复" in duplicate[3]
    assert duplicate[sheet[0].index("原表：户主姓名")] == "张4"


def test_skip_invalid_writes_the_good_rows(tmp_path, village, capsys):
    path = write_csv(tmp_path / "h.csv", [row(1), row(2, 家庭人口="0"), row(3)])
    call_command("import", "households", str(path), "--skip-invalid")
    assert Household.objects.count() == 2
    out = capsys.readouterr()
    assert "第3行" in out.err and "新增 2，更新 0，未变化 0，错误 1" in out.out
    run = ImportRun.objects.get()
    assert (run.status, run.mode, run.invalid) == (RunStatus.DONE, ImportMode.SKIP_INVALID, 1)


def test_dry_run_writes_nothing(tmp_path, village, capsys):
    call_command("import", "households", str(write_csv(tmp_path / "h.csv", [row(1)])), "--dry-run")
    assert Household.objects.count() == 0
    assert "校验完成（未写入）：共 1 行：新增 1" in capsys.readouterr().out


def test_scope_of_the_actor(tmp_path, village, capsys):
    other = factories.village(factories.YUYANG_TOWN, 2, name="李家畔村")
    staff = factories.user("cun", village.code, "village_staff")
    foreign = factories.household(other)
    rows = [row(1), row(2, 行政村="李家畔村"), row(3, 身份证号码=idnumber.decrypt(foreign.id_cipher))]
    with pytest.raises(CommandError):
        call_command("import", "households", str(write_csv(tmp_path / "h.csv", rows)), "--as", "cun")
    err = capsys.readouterr().err
    assert "第3行" in err and "「李家畔村」不在您的管辖范围内" in err
    assert "第4行" in err and "不在您的管辖范围内" in err and foreign.head_name not in err
    assert staff.pk and Household.objects.count() == 1

    factories.user("dudao", factories.YUYANG, "city_supervisor")
    with pytest.raises(CommandError, match="无权"):
        call_command("import", "households", str(write_csv(tmp_path / "h.csv", [row(1)])), "--as", "dudao")


def test_ugly_workbook(tmp_path, village):
    """Title rows, a two-level merged header, Excel dates and serials, full-width digits, lowercase x, spaces."""
    path = tmp_path / "ugly.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("农户")
    sheet.merge_range(0, 0, 0, 8, "榆阳区农村住房安全信息表")
    sheet.write(1, 0, "填报单位：鼓楼街道（盖章）")
    for col, title in enumerate(["区划代码", "户主姓名", "身份证号码", "家庭人口"]):
        sheet.merge_range(2, col, 3, col, title)
    sheet.merge_range(2, 4, 2, 6, "房屋")
    sheet.write_row(3, 4, ["结构", "安全等级", "鉴定日期"])
    sheet.write_row(3, 7, ["重点对象类型"])
    with_x = next(person(n) for n in range(100, 200) if person(n).endswith("X"))
    full_width = person(7).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    sheet.write_row(4, 0, [int(village.code), " 王五 ", with_x.lower(), 4.0, "砖木结构", "b"])
    sheet.write_datetime(4, 6, dt.datetime(2022, 3, 1), book.add_format({"num_format": "yyyy/m/d"}))
    sheet.write_row(5, 0, [village.code, "赵六", full_width, "２", "土木", "A", 44197, "其他脱贫户"])
    book.close()

    result = run_import(kind="households", path=path, actor=None)
    assert result.error_count == 0, result.errors
    wang = Household.objects.get(id_hash=idnumber.keyed_hash(with_x))
    assert (wang.head_name, wang.size) == ("王五", 4)
    assert wang.houses.get().structure == "brick_wood" and wang.houses.get().graded_on == dt.date(2022, 3, 1)
    zhao = Household.objects.get(id_hash=idnumber.keyed_hash(person(7)))
    assert zhao.houses.get().graded_on == dt.date(2021, 1, 1)
    assert list(zhao.categories.values_list("category__code", flat=True)) == ["qita_tuopin"]


def test_gbk_csv_with_code_column(tmp_path, village):
    rows = [{"区划代码": village.code, "户主姓名": "刘七", "身份证号码": person(1), "家庭人口": "2"}]
    rows[0]["房屋结构"] = "框架"
    result = run_import(kind="households", path=write_csv(tmp_path / "h.csv", rows, "gbk"), actor=None)
    assert result.written and Household.objects.get().head_name == "刘七"


def test_missing_columns_refused(tmp_path, village):
    rows = [{"户主姓名": "刘七", "身份证号码": person(1), "家庭人口": "2", "房屋结构": "框架"}]
    with pytest.raises(CommandError, match="须有「区划代码」，或「县（市、区）」、「乡镇（街道）」、「行政村」列"):
        call_command("import", "households", str(write_csv(tmp_path / "h.csv", rows)))
    assert ImportRun.objects.get().status == RunStatus.REFUSED


def test_killed_import_leaves_the_database_as_before(tmp_path, subprocess_env):
    """SIGKILL while pass 2 is writing (after its first progress output): the one transaction is never committed."""
    env = subprocess_env
    run_anju(env, "migrate", "-v", "0")
    base = Path(factories.__file__).parents[1] / "divisions" / "data" / "yulin-divisions.csv"
    run_anju(env, "import", "divisions", str(base))
    village_file = tmp_path / "v.csv"
    village_file.write_text("code,name,level,parent_code\n610802001201,高家沟村,village,610802001000\n")
    run_anju(env, "import", "divisions", str(village_file))
    small = write_csv(tmp_path / "small.csv", [row(n) for n in range(1, 4)])
    run_anju(env, "import", "households", str(small))

    big = write_csv(tmp_path / "big.csv", [row(n) for n in range(1, 30_001)])
    anju = Path(sys.executable).with_name("anju")
    process = subprocess.Popen(
        [str(anju), "import", "households", str(big)], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    seen = b""
    assert process.stderr is not None
    while "写入: ".encode() not in seen:  # the bar of pass 2 shows once its first batch is in the transaction
        chunk = process.stderr.read1(4096)
        assert chunk, f"the import ended before writing: {seen.decode(errors='replace')[-500:]}"
        seen += chunk
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert big.stat().st_size >= pipeline.PARSE_APART_BYTES  # so it was parsed in a child process: that one ends too
    deadline = time.monotonic() + 30
    while _processes_reading(big) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _processes_reading(big), "the parsing child outlived the killed import"

    check = (
        "from anju.registry.models import Household, House;"
        "from anju.audit.models import Event;"
        "from anju.exchange.models import ImportRun;"
        "print(Household.objects.count(), House.objects.count(),"
        " Event.objects.filter(action='exchange.households.imported').count(),"
        " ImportRun.objects.filter(kind='households').order_by('id').last().status)"
    )
    done = run_anju(env, "shell", "-c", check)
    # nothing of the killed run: the first import's rows and event only; the killed run never finished
    assert done.stdout.splitlines()[-1].split() == ["3", "3", "1", "running"]


def test_a_small_import_refreshes_the_alerts_of_its_households(tmp_path, village, django_capture_on_commit_callbacks):
    """P7: a 低保户 is on the monitoring list as soon as the import commits."""
    with django_capture_on_commit_callbacks(execute=True):
        run_import(kind="households", path=write_csv(tmp_path / "h.csv", [row(1, 重点对象类型="低保户")]), actor=None)
    assert Alert.objects.filter(rule_id="P7.monitoring", household__head_name="张1").exists()


def test_a_city_wide_import_leaves_the_alerts_to_the_scheduled_refresh(
    tmp_path, village, monkeypatch, django_capture_on_commit_callbacks
):
    """P7: more than INCREMENTAL_MAX households would mean a city-wide refresh inside the import (as long as the
    load itself at 1,000,000 rows): the command says the daily `anju alerts refresh` updates them."""
    monkeypatch.setattr(households_importer, "INCREMENTAL_MAX", 2)
    path = write_csv(tmp_path / "h.csv", [row(n, 重点对象类型="低保户") for n in range(1, 4)])
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import", "households", str(path), stdout=out)
    assert Household.objects.count() == 3 and not Alert.objects.exists()
    assert "本次导入涉及 3 户" in out.getvalue() and "anju alerts refresh" in out.getvalue()
    event = Event.objects.get(action=Action.HOUSEHOLDS_IMPORTED)
    assert event.extra["alerts_deferred"] == 3
    call_command("alerts", "refresh", stdout=io.StringIO())
    assert Alert.objects.filter(rule_id="P7.monitoring").count() == 3


def _processes_reading(path: Path) -> list[int]:
    """Processes whose command line names `path` (the import and its forked parsing child share it)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(path).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found
