"""`anju import problems` (P1; issue 5 deliver 3): a problem list opens ledger cases in one batch — source 问题清单,
household type, description, transfer date — creating and flagging households not in the registry yet; a re-import
opens nothing twice, a corrected list updates the open case; every bad row reported with row, column and value."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.audit.services import chain_verify
from anju.cases.models import Case, CaseSource, CaseState
from anju.cases.selectors import case_history
from anju.cases.services.cases import case_open
from anju.core import idnumber
from anju.exchange.importers.problems import NEW_HOUSEHOLD_NOTE
from anju.exchange.models import ImportMode, ImportRun, RunStatus
from anju.exchange.pipeline import run_import
from anju.registry.models import Household, HouseholdCategory, TargetCategory
from anju.testing import factories

pytestmark = pytest.mark.django_db

HEADER = ["县（市、区）", "乡镇（街道）", "行政村", "户主姓名", "身份证号码", "户类型", "问题描述", "移交日期"]


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1, name="高家沟村")


@pytest.fixture
def staff(village):
    """The village's responsible person (P18) and the clerk who imports for it."""
    return factories.user("cun", village.code, "village_staff")


def person(n: int) -> str:
    return idnumber.compose("610802", dt.date(1970, 1, 1) + dt.timedelta(days=n), n % 1000)


def row(n: int, name: str, **cells: str) -> dict[str, str]:
    base = {
        "县（市、区）": "榆阳区",
        "乡镇（街道）": "鼓楼街道",
        "行政村": "高家沟",
        "户主姓名": name,
        "身份证号码": person(n),
        "户类型": "边缘易致贫户",
        "问题描述": f"{name}家房屋墙体开裂",
        "移交日期": "2024/3/5",
    }
    return base | cells


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def registered(village):
    """Two households in the registry: 王一 with one house and a category, 李二 with two houses."""
    wang = factories.household(village, head_name="王一", id_number=person(1))
    house = factories.house(wang)
    HouseholdCategory.objects.create(
        household=wang, division_id=village.code, category=TargetCategory.objects.get(code="dibao")
    )
    li = factories.household(village, head_name="李二", id_number=person(2))
    factories.house(li)
    factories.house(li)
    return wang, house, li


def test_a_list_opens_cases_with_the_rules_of_case_open(tmp_path, village, staff, registered, capsys):
    """P1/P19: source, type, description, dates, state 登记, the village's responsible person (P18), the categories
    snapshot, the only house; a new household is created with a placeholder size and flagged for the village."""
    wang, house, li = registered
    rows = [
        row(1, "王一", 户类型="脱贫不稳定户"),
        row(2, "李二", 移交日期="20240306"),
        row(3, "赵三", 户类型="突发严重困难"),
    ]
    call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows)))
    out = capsys.readouterr().out
    assert "新增 3，更新 0，未变化 0，错误 0" in out and "新建农户 1 户" in out

    first = Case.objects.get(household=wang)
    assert (first.source, first.household_type, first.description) == ("problem_list", "unstable", "王一家房屋墙体开裂")
    assert (first.transferred_on, first.opened_on, first.state) == (dt.date(2024, 3, 5), dt.date.today(), "registered")
    assert (first.house, first.division_id, first.version) == (house, village.code, 1)
    assert (first.responsible, first.responsible_name) == (staff, "cun")
    assert first.categories == [TargetCategory.objects.get(code="dibao").name]
    assert first.source_ref == "p 第2行"
    second = Case.objects.get(household=li)
    assert (second.house, second.transferred_on, second.household_type) == (None, dt.date(2024, 3, 6), "edge")

    new = Household.objects.get(id_hash=idnumber.keyed_hash(person(3)))
    assert (new.head_name, new.size, new.division_id, new.note) == ("赵三", 1, village.code, NEW_HOUSEHOLD_NOTE)
    # P1: the village finds the households it must verify
    assert new.to_verify and not Household.objects.get(pk=li.pk).to_verify
    assert idnumber.decrypt(new.id_cipher) == person(3) and new.id_masked == idnumber.mask(person(3))
    third = Case.objects.get(household=new)
    assert (third.house, third.household_type, third.categories) == (None, "sudden_hardship", [])
    assert third.source_ref == "p 第4行；新建农户待核实"

    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.created, run.total) == ("problems", RunStatus.DONE, 3, 3)
    summary = Event.objects.get(action=Action.PROBLEMS_IMPORTED)
    assert summary.extra["households_created"] == 1 and summary.extra["cases_opened"] == 3
    assert summary.extra["sha256"] == run.file_sha256
    # the case page's history says where the case came from; the bulk-appended events keep the chain intact
    history = list(case_history(third))
    assert [e.action for e in history] == [Action.CASE_OPENED]
    assert history[0].extra == {
        "import_run": run.pk,
        "file": "p.csv",
        "sha256": run.file_sha256,
        "row": 4,
        "new_household": True,
    }
    assert history[0].after["transferred_on"] == "2024-03-05"
    assert chain_verify() is None


def test_reimport_opens_nothing_and_a_corrected_list_updates_the_open_case(tmp_path, village, registered, capsys):
    rows = [row(1, "王一"), row(3, "赵三")]
    call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows)))
    before = list(Case.objects.order_by("id").values_list("id", "description", "version", "updated_at"))
    households = Household.objects.count()
    capsys.readouterr()

    call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows)))
    assert "新增 0，更新 0，未变化 2" in capsys.readouterr().out
    assert list(Case.objects.order_by("id").values_list("id", "description", "version", "updated_at")) == before
    assert Household.objects.count() == households

    rows[0] |= {"问题描述": "王一家房屋屋顶漏雨、墙体开裂", "户类型": "其他建档立卡户"}
    call_command("import", "problems", str(write_csv(tmp_path / "p2.csv", rows)))
    assert "新增 0，更新 1，未变化 1" in capsys.readouterr().out
    corrected = Case.objects.get(household__head_name="王一")
    assert (corrected.description, corrected.household_type) == ("王一家房屋屋顶漏雨、墙体开裂", "other_registered")
    assert corrected.version == 2  # a form opened before the import is now stale
    changed = case_history(corrected).last()
    assert changed.action == Action.CASE_CHANGED and changed.before["description"] == "王一家房屋墙体开裂"
    assert set(changed.after) == {"description", "household_type"} and changed.extra["file"] == "p2.csv"
    assert Case.objects.count() == 2 and chain_verify() is None

    # a closed case of the same problem is not reopened by an old list
    Case.objects.filter(pk=corrected.pk).update(state=CaseState.CLOSED, closed_on=dt.date.today())
    call_command("import", "problems", str(write_csv(tmp_path / "p2.csv", rows)))
    assert "新增 0，更新 0，未变化 2" in capsys.readouterr().out


def test_a_house_with_an_open_case_of_another_source_is_an_error_naming_it(tmp_path, village, registered, capsys):
    """One open case per house (as case_open refuses it): the problem is handled in the case already open."""
    wang, house, _li = registered
    existing = case_open(
        actor=factories._system(village), household=wang, house=house, source=CaseSource.SUSPECTED, description="疑似"
    )
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import", "problems", str(write_csv(tmp_path / "p.csv", [row(1, "王一"), row(2, "李二")])))
    err = capsys.readouterr().err
    assert f"台账#{existing.pk}（疑似上报，登记）" in err and "不能重复登记" in err
    assert Case.objects.count() == 1


def test_every_bad_row_reported_and_nothing_written(tmp_path, village, registered, capsys):
    bad_checksum = person(4)[:-1] + ("0" if person(4)[-1] != "0" else "1")
    rows = [
        row(1, "王一"),
        row(4, "孙四", 身份证号码=bad_checksum),
        row(5, "周五", 行政村="高家构村"),
        row(6, "吴六", 户类型="低保户"),
        row(7, "郑七", 移交日期="2999-01-01"),
        row(8, "冯八", 问题描述=""),
        row(1, "王一"),
        row(2, "李三"),
    ]
    out = tmp_path / "errors.xlsx"
    events = Event.objects.count()
    with pytest.raises(CommandError, match=r"共 8 行.*未写入任何数据"):
        call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows)), "--errors", str(out))
    err = capsys.readouterr().err
    assert "校验位" in err
    assert "高家构村" in err and "高家沟村" in err  # the unknown village names its near candidate
    assert "应为以下之一：脱贫不稳定户、边缘易致贫户、突发严重困难户、其他建档立卡户" in err
    assert "晚于" in err
    assert "不能为空" in err
    assert "与第2行重复" in err
    assert "登记的户主为「李二」" in err
    assert Case.objects.count() == 0 and Household.objects.count() == 2 and Event.objects.count() == events
    assert ImportRun.objects.get().status == RunStatus.REFUSED

    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    found = {(int(r[0]), r[1]): (r[2], r[3]) for r in sheet[1:]}
    assert set(found) == {
        (3, "身份证号码"),
        (4, "行政村"),
        (5, "户类型"),
        (6, "移交日期"),
        (7, "问题描述"),
        (8, "身份证号码"),
        (9, "户主姓名"),
    }
    assert found[(5, "户类型")][0] == "低保户" and found[(6, "移交日期")][0] == "2999-01-01"
    assert found[(4, "行政村")][0] == "榆阳区/鼓楼街道/高家构村"


def test_skip_invalid_opens_the_good_rows(tmp_path, village, registered, capsys):
    rows = [row(1, "王一"), row(6, "吴六", 户类型="低保户"), row(3, "赵三")]
    call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows)), "--skip-invalid")
    out = capsys.readouterr()
    assert "第3行" in out.err and "新增 2，更新 0，未变化 0，错误 1" in out.out
    assert sorted(Case.objects.values_list("household__head_name", flat=True)) == ["王一", "赵三"]
    run = ImportRun.objects.get()
    assert (run.status, run.mode, run.invalid) == (RunStatus.DONE, ImportMode.SKIP_INVALID, 1)


def test_dry_run_opens_nothing(tmp_path, village, registered, capsys):
    call_command("import", "problems", str(write_csv(tmp_path / "p.csv", [row(3, "赵三")])), "--dry-run")
    assert "校验完成（未写入）：共 1 行：新增 1" in capsys.readouterr().out
    assert Case.objects.count() == 0 and not Household.objects.filter(head_name="赵三").exists()


def test_scope_of_the_actor(tmp_path, village, staff, capsys):
    """--as: a row whose village or registered household lies outside the actor's subtree is an error."""
    other = factories.village(factories.YUYANG_TOWN, 2, name="李家畔村")
    foreign = factories.household(other, head_name="钱九", id_number=person(9))
    rows = [row(3, "赵三"), row(4, "孙四", 行政村="李家畔村"), row(9, "钱九")]
    with pytest.raises(CommandError):
        call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows)), "--as", "cun")
    err = capsys.readouterr().err
    assert "第3行" in err and "「李家畔村」不在您的管辖范围内" in err
    assert "第4行" in err and "所在村不在您的管辖范围内" in err
    assert Case.objects.count() == 0 and foreign.cases.count() == 0

    call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows[:1])), "--as", "cun")
    case = Case.objects.get()
    assert case.opened_by == staff and Event.objects.get(action=Action.CASE_OPENED).actor == staff

    factories.user("dudao", factories.YUYANG, "city_supervisor")
    with pytest.raises(CommandError, match="无权"):
        call_command("import", "problems", str(write_csv(tmp_path / "p.csv", rows[:1])), "--as", "dudao")


def test_alerts_refreshed_after_the_write(tmp_path, village, registered, django_capture_on_commit_callbacks):
    """P7/P19: the touched households' alerts are refreshed after the commit (not before: nothing to see yet),
    and the refresh copes with a new household that has no house yet."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_import(kind="problems", path=write_csv(tmp_path / "p.csv", [row(1, "王一"), row(3, "赵三")]), actor=None)
    assert callbacks and Case.objects.count() == 2
