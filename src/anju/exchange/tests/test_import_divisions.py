"""`anju import divisions` on the import engine: the flags every import has (--skip-invalid, --errors, --as) and
the whole-file checks (a parent further down the file) reported with their rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.divisions.models import Division
from anju.exchange.models import ImportRun
from anju.testing import factories

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "villages.csv"
    path.write_text("code,name,level,parent_code\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_parent_further_down_the_file(tmp_path):
    path = write(tmp_path, ["610802901201,新村,village,610802901000", "610802901000,新镇,town,610802000000"])
    call_command("import", "divisions", str(path))
    assert Division.objects.get(code="610802901201").parent_id == "610802901000"
    event = Event.objects.filter(action=Action.DIVISIONS_IMPORTED).latest("id")
    assert event.extra["created"] == 2 and event.extra["sha256"] == ImportRun.objects.get().file_sha256


def test_skip_invalid_and_error_workbook(tmp_path, capsys):
    path = write(
        tmp_path,
        [
            "610802001201,好村,village,610802001000",
            "610802001202,无父村,village,610802099000",
            "610802001201,重复村,village,610802001000",
        ],
    )
    out = tmp_path / "errors.xlsx"
    call_command("import", "divisions", str(path), "--skip-invalid", "--errors", str(out))
    assert Division.objects.get(code="610802001201").name == "好村"
    assert not Division.objects.filter(code="610802001202").exists()
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert [(int(r[0]), r[1]) for r in rows[1:]] == [(3, "parent_code"), (4, "code")]
    assert "与第2行重复" in rows[2][3]
    assert "新增 1，更新 0，未变化 0，错误 2" in capsys.readouterr().out


def test_scope_of_the_actor(tmp_path, capsys):
    factories.user("xian", factories.YUYANG, "county_manager")
    path = write(tmp_path, ["610881001201,神木村,village,610881001000"])
    with pytest.raises(CommandError):
        call_command("import", "divisions", str(path), "--as", "xian")
    assert "不在您的管辖范围内" in capsys.readouterr().err
    factories.user("cun", "610802001000", "village_staff")
    with pytest.raises(CommandError, match="无权"):
        call_command("import", "divisions", str(path), "--as", "cun")


def test_renamed_division_is_updated_and_same_file_again_is_unchanged(tmp_path, capsys):
    call_command("import", "divisions", str(write(tmp_path, ["610802001201,旧名村,village,610802001000"])))
    call_command("import", "divisions", str(write(tmp_path, ["610802001201,新名村,village,610802001000"])))
    call_command("import", "divisions", str(write(tmp_path, ["610802001201,新名村,village,610802001000"])))
    out = capsys.readouterr().out.splitlines()
    assert "更新 1" in out[1] and "未变化 1" in out[2]
    assert Division.objects.get(code="610802001201").name == "新名村"
