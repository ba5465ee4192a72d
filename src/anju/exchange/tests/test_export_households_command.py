"""`anju export households|statistics`: the list page's filters by name or code, `--as` scope, progress, and clear
Chinese errors for bad options (never a traceback)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.core import idnumber
from anju.registry import services as registry
from anju.registry.models import TargetCategory
from anju.testing import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def first_sheet(path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


@pytest.fixture
def world():
    home = factories.village(factories.YUYANG_TOWN, 1)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    cave = factories.household(home, head_name="周窑洞")
    factories.house(cave, structure="earth_cave")
    poor = factories.household(home, head_name="吴特困")
    factories.house(poor, structure="brick_concrete")
    registry.household_category_add(
        actor=factories._system(home), household=poor, category=TargetCategory.objects.get(code="tekun"),
        certified_on=None,
    )  # fmt: skip
    far = factories.household(shenmu, head_name="郑神木")
    return {"cave": cave, "poor": poor, "far": far}


def test_households_with_filters_by_name(world, tmp_path, capsys):
    target = tmp_path / "h.xlsx"
    out, _err = run("households", "--division", factories.YUYANG, "-o", str(target))
    assert "已导出农户 2 户" in out
    assert "2/2" in capsys.readouterr().err  # the progress bar (on the terminal), with the total counted first
    assert sorted(r[5] for r in first_sheet(target)[1:]) == ["吴特困", "周窑洞"]
    run("households", "--division", "610800000000", "--structure", "土窑洞", "-o", str(target))
    assert [r[5] for r in first_sheet(target)[1:]] == ["周窑洞"]
    run("households", "--division", factories.YUYANG, "--category", "特困人员", "-o", str(target))  # a short name
    assert [r[5] for r in first_sheet(target)[1:]] == ["吴特困"]
    run("households", "--division", factories.YUYANG, "--target", "否", "--grade", "未鉴定", "-o", str(target))
    assert [r[5] for r in first_sheet(target)[1:]] == ["周窑洞"]
    run("households", "--division", "610800000000", "--q", "郑", "-o", str(target))
    assert [r[5] for r in first_sheet(target)[1:]] == ["郑神木"]


def test_households_as_a_user_and_full_ids(world, tmp_path):
    target = tmp_path / "h.xlsx"
    factories.user("sm_xian", factories.SHENMU, "county_manager")
    factories.user("yy_cun", world["cave"].division_id, "village_staff")
    run("households", "--division", factories.SHENMU, "--as", "sm_xian", "--full-id", "-o", str(target))
    assert [r[6] for r in first_sheet(target)[1:]] == [idnumber.decrypt(world["far"].id_cipher)]
    event = Event.objects.filter(action=Action.HOUSEHOLDS_EXPORTED).latest("id")
    assert event.extra["full_ids"] == 1 and event.actor.username == "sm_xian"
    with pytest.raises(CommandError, match="不在您的管辖范围内"):
        run("households", "--division", factories.YUYANG, "--as", "sm_xian", "-o", str(target))
    with pytest.raises(CommandError, match="无权导出完整身份证号码"):
        run("households", "--division", world["cave"].division_id, "--as", "yy_cun", "--full-id", "-o", str(target))


def test_bad_options_are_chinese_errors(world, tmp_path):
    target = str(tmp_path / "h.xlsx")
    with pytest.raises(CommandError, match="未知房屋结构「草房」，可选：砖混"):
        run("households", "--division", factories.YUYANG, "--structure", "草房", "-o", target)
    with pytest.raises(CommandError, match="未知安全等级「E」"):
        run("households", "--division", factories.YUYANG, "--grade", "E", "-o", target)
    with pytest.raises(CommandError, match="未知重点对象类型「五保」"):
        run("households", "--division", factories.YUYANG, "--category", "五保", "-o", target)
    with pytest.raises(CommandError, match="是否闲置应为「是」或「否」"):
        run("households", "--division", factories.YUYANG, "--idle", "也许", "-o", target)
    with pytest.raises(CommandError, match="不存在"):
        run("households", "--division", "999999999999", "-o", target)
    with pytest.raises(CommandError, match=r"\.xlsx"):
        run("statistics", "--division", factories.YUYANG, "-o", str(tmp_path / "s.csv"))


def test_statistics_command(world, tmp_path):
    target = tmp_path / "s.xlsx"
    out, _err = run("statistics", "--division", "610800000000", "-o", str(target))
    assert "已导出分区划统计表" in out
    rows = {r[1]: r for r in first_sheet(target)[3:]}
    assert (rows["榆阳区"][2], rows["神木市"][2], rows["合计"][2]) == (2, 1, 3)
    assert rows["榆阳区"][3] == 1  # 重点对象户
