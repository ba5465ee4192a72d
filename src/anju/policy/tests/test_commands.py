"""`anju alerts refresh` and `anju monitoring export`: the same services as the pages, with progress and a summary."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from anju.policy.models import Alert, AlertStatus
from anju.registry import services as registry
from anju.registry.models import GradeSource
from anju.testing import campaigns, factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def world():
    yuyang = factories.village(factories.YUYANG_TOWN, 1)
    shenmu = factories.village(factories.SHENMU_TOWN, 1)
    households = []
    for village, structure in [(yuyang, "earth_wood"), (yuyang, "brick_concrete"), (shenmu, "earth_cave")]:
        household = factories.household(village)
        house = factories.house(household, structure=structure)
        registry.house_grade(
            actor=factories._system(village), house=house, grade="B", graded_on=dt.date(2025, 5, 14),
            source=GradeSource.MANUAL,
        )  # fmt: skip
        households.append(household)
    campaigns.campaign("610800000000", year=2026)
    return households


def test_refresh_prints_a_summary_per_rule(world, capsys):
    out, _err = run("alerts", "refresh", "--date", "2026-05-01")
    lines = {line.split()[0]: line.split()[1:5] for line in out.splitlines() if line.startswith("P")}
    assert lines["P7.monitoring"] == ["3", "0", "0", "3"]
    assert lines["P5.annual_check"] == ["3", "0", "0", "3"]
    assert lines["P8.appraisal_overdue"] == ["0", "0", "0", "0"]
    assert "2026-05-01" in out
    assert "P7.monitoring 动态监测对象: 3" in capsys.readouterr().err  # the progress bars (on the terminal)
    out, _err = run("alerts", "refresh", "--date", "2026-05-01")
    lines = {line.split()[0]: line.split()[1:5] for line in out.splitlines() if line.startswith("P")}
    assert lines["P7.monitoring"] == ["0", "0", "0", "3"]


def test_refresh_one_rule_and_the_date_boundary(world):
    run("alerts", "refresh", "--rule", "P5.annual_check", "--date", "2026-04-30")
    assert not Alert.objects.exists()
    run("alerts", "refresh", "--rule", "P5.annual_check", "--date", "2026-05-01")
    assert set(Alert.objects.values_list("rule_id", flat=True)) == {"P5.annual_check"}
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 3


def test_refresh_refuses_unknown_rules_bad_dates_and_users_without_the_action(world):
    with pytest.raises(CommandError, match="未知规则"):
        run("alerts", "refresh", "--rule", "P99.none")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("alerts", "refresh", "--date", "1 May")
    factories.user("xian", factories.YUYANG, "county_manager")
    with pytest.raises(CommandError, match="无权"):
        run("alerts", "refresh", "--as", "xian")
    factories.user("guanli", "610800000000", "admin")
    run("alerts", "refresh", "--as", "guanli", "--date", "2026-05-01")
    # the world's P5 and P7 alerts (later rules, e.g. P18.unassigned with nobody named yet, add their own)
    assert Alert.objects.filter(rule_id__in=("P5.annual_check", "P7.monitoring")).count() == 6


def test_monitoring_export_reads_back(world, tmp_path):
    run("alerts", "refresh", "--date", "2026-05-01")
    target = tmp_path / "p7.xlsx"
    out, _err = run("monitoring", "export", "--division", factories.YUYANG, "-o", str(target))
    assert "已导出 2 户" in out
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert rows[0][:6] == ["序号", "县", "乡镇", "村", "户主姓名", "身份证号码"]
    assert [r[4] for r in rows[1:]] == [world[0].head_name, world[1].head_name]
    assert rows[1][9] == "B级房屋（土木），土木、生土、窑洞优先关注" and rows[2][9] == "B级房屋（砖混）"
    run("monitoring", "export", "-o", str(target))
    assert len(CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()) == 4
    run("monitoring", "export", "--reason", "grade_b", "-o", str(target))
    assert len(CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()) == 2
    # Every export of names is on record (PIPL).
    from anju.audit.models import Event

    assert Event.objects.filter(action="policy.monitoring.exported").count() == 3


def test_monitoring_export_as_a_user_stays_in_scope(world, tmp_path):
    run("alerts", "refresh", "--date", "2026-05-01")
    factories.user("shenmu_xian", factories.SHENMU, "county_manager")
    target = tmp_path / "p7.xlsx"
    run("monitoring", "export", "--as", "shenmu_xian", "-o", str(target))
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert [r[4] for r in rows[1:]] == [world[2].head_name]
    with pytest.raises(CommandError, match="不在您的管辖范围内"):
        run("monitoring", "export", "--as", "shenmu_xian", "--division", factories.YUYANG, "-o", str(target))
    with pytest.raises(CommandError, match=r"\.xlsx"):
        run("monitoring", "export", "-o", str(tmp_path / "p7.csv"))
    with pytest.raises(CommandError, match="不存在"):
        run("monitoring", "export", "--division", "999999999999", "-o", str(target))
