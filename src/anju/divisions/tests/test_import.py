"""`anju import divisions`: NBS files, with bad codes, unknown parents and cycles refused."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from anju.audit.models import Event
from anju.divisions.models import Division

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "villages.csv"
    path.write_text("code,name,level,parent_code\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_base_file_loaded():
    assert Division.objects.filter(level="county").count() == 12
    assert Division.objects.filter(level="town").count() == 184
    assert Division.objects.get(code="610800000000").name == "榆林市"


def test_villages_import_and_reimport_is_idempotent(tmp_path):
    path = write(tmp_path, ["610802001201,高家沟村,village,610802001000", "610802001202,李家畔村,village,610802001000"])
    call_command("import", "divisions", str(path))
    assert Division.objects.filter(parent_id="610802001000").count() == 2
    call_command("import", "divisions", str(path))
    assert Division.objects.filter(parent_id="610802001000").count() == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("61080200120,短码村,village,610802001000", "12位数字"),
        ("610802001201,无父村,village,610802099000", "上级区划不存在"),
        ("610802001201,错级村,town,610802001000", "按编码规则属于"),
        ("610802001201,错父村,village,610803001000", "不是上级区划"),
    ],
)
def test_bad_rows_rejected_and_nothing_written(tmp_path, row, message, capsys):
    good = "610802001203,好村,village,610802001000"
    path = write(tmp_path, [good, row])
    before = Event.objects.count()
    with pytest.raises(CommandError):
        call_command("import", "divisions", str(path))
    assert message in capsys.readouterr().err
    assert not Division.objects.filter(code="610802001203").exists()
    assert Event.objects.count() == before


def test_cycle_rejected(tmp_path, capsys):
    path = write(tmp_path, ["610802001201,甲村,village,610802001202", "610802001202,乙村,village,610802001201"])
    with pytest.raises(CommandError):
        call_command("import", "divisions", str(path))
    assert "循环" in capsys.readouterr().err


def test_dry_run_writes_nothing(tmp_path):
    path = write(tmp_path, ["610802001201,高家沟村,village,610802001000"])
    call_command("import", "divisions", str(path), "--dry-run")
    assert not Division.objects.filter(code="610802001201").exists()
