"""`anju compare` (P6): a run with --apply from the terminal, and every refusal in Chinese."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from anju.exchange.models import Comparison, RegistrationTask
from anju.exchange.tests.test_compare import build_case, write_list
from anju.testing import factories as f

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("compare", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_compare_and_apply(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = build_case()
    path = write_list(tmp_path / "list.xlsx", case.rows)
    report = tmp_path / "report.xlsx"
    out = run(str(path), "--source", "民政", "-o", str(report), "--as", "county", "--apply", "tasks")
    assert "名单 11 行，比对范围：榆阳区" in out
    assert "疑似身份证号录入错误：2" in out and "问题行：3" in out
    assert "已处理「名单有、系统无」：结果 2，生成待登记任务 1" in out
    assert CalamineWorkbook.from_path(str(report)).sheet_names[0] == "汇总"
    assert Comparison.objects.get().created_by == case.manager
    assert RegistrationTask.objects.count() == 1


def test_a_bar_per_step(tmp_path, capsys):
    """The terminal shows each step as it comes (reading, comparing in 4 steps, the workbook row by row)."""
    case = build_case()
    path = write_list(tmp_path / "list.xlsx", case.rows)
    call_command("compare", str(path), "--source", "民政", "-o", str(tmp_path / "r.xlsx"), "--as", "county")
    bars = capsys.readouterr().err
    assert "读取名单和登记数据" in bars and "比对: 100%" in bars and "4/4" in bars
    assert "生成结果表: 100%" in bars and "10/10" in bars


def test_without_report(tmp_path):
    """-o is optional: the findings are stored for the web page and --apply either way."""
    case = build_case()
    out = run(str(write_list(tmp_path / "list.xlsx", case.rows)), "--source", "民政", "--as", "county")
    assert "名单 11 行" in out and "比对结果已写入" not in out
    comparison = Comparison.objects.get()
    assert comparison.items.count() == 10 and not comparison.report_file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "统计"], "未知来源部门「统计」，可选：民政、乡村振兴、其他"),
        (["--source", "民政", "--division", "610881000000"], "「神木市」不在您的管辖范围内"),
        (["--source", "民政", "--division", "619999000000"], "区划代码619999000000不存在"),
        (["--source", "民政", "--apply", "all", "--as", "town"], "您的角色无权执行此操作"),
        (["--source", "民政", "--as", "city"], "您的角色无权执行此操作"),
        (["--source", "民政", "--as", "nobody"], "用户「nobody」不存在或已停用"),
    ],
)
def test_refusals(tmp_path, args, message):
    case = build_case()
    f.user("town", f.YUYANG_TOWN, "town_staff")
    f.user("city", "610800000000", "city_supervisor")
    path = write_list(tmp_path / "list.xlsx", case.rows)
    if "--as" not in args:
        args = [*args, "--as", "county"]
    with pytest.raises(CommandError) as error:
        run(str(path), "-o", str(tmp_path / "r.xlsx"), *args)
    assert message in str(error.value)
    if "--apply" not in args:
        assert not Comparison.objects.exists()


def test_file_errors(tmp_path):
    case = build_case()
    out = str(tmp_path / "r.xlsx")
    with pytest.raises(CommandError, match="文件不存在"):
        run(str(tmp_path / "missing.xlsx"), "--source", "民政", "-o", out)
    text = tmp_path / "list.txt"
    text.write_text("姓名,身份证号码,类别\n", encoding="utf-8")
    with pytest.raises(CommandError, match="不支持的文件类型"):
        run(str(text), "--source", "民政", "-o", out)
    only_header = write_list(tmp_path / "empty.xlsx", [], title=False)
    with pytest.raises(CommandError, match="只有表头"):
        run(str(only_header), "--source", "民政", "-o", out, "--as", case.manager.username)
    with pytest.raises(CommandError, match=r"输出文件应以 \.xlsx 结尾"):
        run(str(only_header), "--source", "民政", "-o", str(tmp_path / "r.csv"))
    no_header = tmp_path / "other.csv"
    no_header.write_text("户名,金额\n张三,100\n", encoding="utf-8")
    with pytest.raises(CommandError, match="表头"):
        run(str(no_header), "--source", "民政", "-o", out)
    assert not Comparison.objects.exists()
