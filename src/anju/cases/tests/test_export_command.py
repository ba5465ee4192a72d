"""`anju export ledger|rectification`: the same writers as the downloads, scoped by `--as`, with Chinese errors."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from anju.accounts.models import User
from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import CaseSource, CaseState
from anju.cases.services import cases as case_services
from anju.core import idnumber
from anju.testing import cases, factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def read(path) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def names(path) -> set[str]:
    return {r[4] for r in next(iter(read(path).values()))[2:]}


@pytest.fixture
def world():
    """P19: one case late (appraised in March last year, due 30 November last year), one under construction, one
    from a problem list (P1) in 榆阳, one late in 神木."""
    home = factories.village(factories.YUYANG_TOWN, 1)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    last_year = dt.date(dt.date.today().year - 1, 3, 1)
    listed = factories.household(home)
    return {
        "late": cases.dangerous_case(factories.house(factories.household(home)), appraised_on=last_year),
        "building": cases.advance(
            cases.dangerous_case(factories.house(factories.household(home))), CaseState.UNDER_CONSTRUCTION
        ),
        "listed": case_services.case_open(
            actor=factories._system(home),
            household=listed,
            source=CaseSource.PROBLEM_LIST,
            household_type="sudden_hardship",
            description="问题清单",
            transferred_on=last_year,
        ),
        "shenmu": cases.dangerous_case(factories.house(factories.household(shenmu)), appraised_on=last_year),
    }


def head(world, key: str) -> str:
    return world[key].household.head_name


def test_ledger_reads_back_with_a_success_line_and_a_progress_bar(world, tmp_path, capsys):
    target = tmp_path / "台账.xlsx"
    out = run("ledger", "--division", factories.YUYANG, "-o", str(target))
    assert f"已导出台账 3 条到 {target}" in out
    assert "危房台账" in capsys.readouterr().err  # the bar, on the terminal's stderr
    assert names(target) == {head(world, k) for k in ("late", "building", "listed")}
    rows = next(iter(read(target).values()))
    assert rows[1][0] == "序号" and rows[1][-1] == "销号日期"
    assert all("*" in r[5] for r in rows[2:])
    event = Event.objects.filter(action=Action.LEDGER_EXPORTED).latest("id")
    assert event.actor_id is None and event.extra["rows"] == 3 and event.extra["full_ids"] == 0


def test_ledger_filters_by_label_or_code(world, tmp_path):
    target = tmp_path / "x.xlsx"
    run("ledger", "--division", factories.YUYANG, "-o", str(target), "--state", "施工中")
    assert names(target) == {head(world, "building")}
    run("ledger", "--division", factories.YUYANG, "-o", str(target), "--state", "under_construction")
    assert names(target) == {head(world, "building")}
    run("ledger", "--division", factories.YUYANG, "-o", str(target), "--source", "问题清单")
    assert names(target) == {head(world, "listed")}
    run("ledger", "--division", "610800000000", "-o", str(target), "--late")
    assert names(target) == {head(world, "late"), head(world, "shenmu")}  # P19


def test_full_ids_need_a_user_allowed_to_see_them(world, tmp_path):
    target = tmp_path / "full.xlsx"
    with pytest.raises(CommandError, match="无权导出完整身份证号码"):
        run("ledger", "--division", factories.YUYANG, "-o", str(target), "--full-id")  # the system actor: no
    factories.user("cun", world["late"].division_id, "village_staff")
    with pytest.raises(CommandError, match="无权导出完整身份证号码"):
        run("ledger", "--division", world["late"].division_id, "-o", str(target), "--full-id", "--as", "cun")
    assert not target.exists()
    factories.user("xian", factories.YUYANG, "county_manager")
    out = run("ledger", "--division", factories.YUYANG, "-o", str(target), "--full-id", "--as", "xian")
    assert "3 条" in out
    rows = next(iter(read(target).values()))
    late = world["late"].household
    assert next(r for r in rows[2:] if r[4] == late.head_name)[5] == idnumber.decrypt(late.id_cipher)
    event = Event.objects.filter(action=Action.LEDGER_EXPORTED).latest("id")
    assert event.actor.username == "xian" and event.extra["full_ids"] == 3


def test_scope_of_as_and_chinese_errors(world, tmp_path):
    target = str(tmp_path / "x.xlsx")
    factories.user("shenmu_xian", factories.SHENMU, "county_manager")
    with pytest.raises(CommandError, match="「榆阳区」不在您的管辖范围内"):
        run("ledger", "--division", factories.YUYANG, "-o", target, "--as", "shenmu_xian")
    with pytest.raises(CommandError, match="不在您的管辖范围内"):
        run("rectification", "--division", factories.YUYANG, "-o", target, "--as", "shenmu_xian")
    with pytest.raises(CommandError, match="「榆林市」不在您的管辖范围内"):
        run("ledger", "--division", "610800000000", "-o", target, "--as", "shenmu_xian")
    run("ledger", "--division", factories.SHENMU, "-o", target, "--as", "shenmu_xian")
    assert names(target) == {head(world, "shenmu")}
    with pytest.raises(CommandError, match="区划代码999999999999不存在"):
        run("ledger", "--division", "999999999999", "-o", target)
    with pytest.raises(CommandError, match=r"\.xlsx 结尾"):
        run("ledger", "--division", factories.YUYANG, "-o", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="输出目录不存在"):
        run("rectification", "--division", factories.YUYANG, "-o", str(tmp_path / "no" / "x.xlsx"))
    with pytest.raises(CommandError, match="未知状态「开工」"):
        run("ledger", "--division", factories.YUYANG, "-o", target, "--state", "开工")
    with pytest.raises(CommandError, match="未知问题来源"):
        run("ledger", "--division", factories.YUYANG, "-o", target, "--source", "x")
    with pytest.raises(CommandError, match="用户「nobody」不存在"):
        run("ledger", "--division", factories.YUYANG, "-o", target, "--as", "nobody")
    User.objects.create(username="norole", division_id=factories.YUYANG, roles=[])
    with pytest.raises(CommandError, match="无权导出"):
        run("ledger", "--division", factories.YUYANG, "-o", target, "--as", "norole")


def test_rectification_per_county_with_definitions(world, tmp_path):
    """P1: one row per county of the city and a total; the 说明 sheet names the definitions."""
    target = tmp_path / "汇总.xlsx"
    out = run("rectification", "--division", "610800000000", "-o", str(target))
    assert "已导出整改情况汇总" in out and str(target) in out
    book = read(target)
    header = book["整改情况汇总"][2]
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in book["整改情况汇总"][3:]}
    yuyang = rows["榆阳区"]
    assert yuyang["台账总数"] == 3 and yuyang["逾期未完成"] == 1 and yuyang["突发严重困难户"] == 1
    assert rows["神木市"]["台账总数"] == 1 and rows["合计"]["台账总数"] == 4 and rows["合计"]["施工中"] == 1
    assert "P19" in dict((r[0], r[1]) for r in book["说明"])["逾期未完成"]
    factories.user("shenmu_xian2", factories.SHENMU, "county_manager")
    run("rectification", "--division", factories.SHENMU, "-o", str(target), "--as", "shenmu_xian2")
    rows = {r[1]: r for r in read(target)["整改情况汇总"][3:]}
    assert rows["合计"][2] == 1
