"""The training ledger (培训台账, P17) as a page, an .xlsx file read back, and the command's export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Craftsman
from anju.testing import factories
from anju.training.exports import ledger_export
from anju.training.selectors import LedgerFilters, ledger_rows
from anju.training.services import session_create

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
HELD = TODAY - dt.timedelta(days=2)


def named(username: str, code: str, role: str, full_name: str):
    person = factories.user(username, code, role)
    person.full_name = full_name
    person.save(update_fields=["full_name"])
    return person


@pytest.fixture
def world():
    manager = named("yy", factories.YUYANG, "county_manager", "县管理员")
    village = factories.village(factories.YUYANG_TOWN).code
    trained = named("cun_a", village, "village_staff", "张核查")
    untrained = named("cun_b", village, "village_staff", "李未训")
    craftsman = Craftsman.objects.create(division_id=factories.YUYANG, name="王工匠", phone="13800000000")
    session_create(
        actor=manager,
        division_code=factories.YUYANG,
        held_on=HELD,
        topic="核查培训",
        hours="2.5",
        users=[trained],
        craftsmen=[craftsman],
    )
    session_create(
        actor=manager, division_code=factories.YUYANG_TOWN, held_on=HELD, topic="补训", hours=1, users=[trained]
    )
    return {"manager": manager, "trained": trained, "untrained": untrained, "craftsman": craftsman}


def sheet(content: bytes) -> list[list]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert book.sheet_names == ["培训台账"]
    return book.get_sheet_by_name("培训台账").to_python()


def test_rows_count_sessions_and_hours_of_the_year(world):
    """policy: P17 — sessions, hours and the last day per person; other years do not count."""
    rows = {r.name: r for r in ledger_rows(actor=world["manager"], filters=LedgerFilters(year=HELD.year))}
    assert (rows["张核查"].sessions, rows["张核查"].hours, rows["张核查"].last_on) == (2, 3.5, HELD)
    assert rows["王工匠"].trained and rows["王工匠"].roles == ["建筑工匠"]
    assert not rows["李未训"].trained and rows["李未训"].last_on is None
    assert rows["县管理员"].roles == ["县级管理员"] and not rows["县管理员"].trained
    last_year = ledger_rows(actor=world["manager"], filters=LedgerFilters(year=HELD.year - 1, status="trained"))
    assert last_year == []
    named = ledger_rows(actor=world["manager"], filters=LedgerFilters(year=HELD.year, q="工匠"))
    assert [r.name for r in named] == ["王工匠"]


def test_xlsx_export_reads_back_with_types_and_is_audited(world):
    out = io.BytesIO()
    since = Event.objects.count()
    written = ledger_export(actor=world["manager"], filters=LedgerFilters(year=HELD.year), output=out)
    rows = sheet(out.getvalue())
    assert rows[0][0] == f"{HELD.year}年度培训台账（榆阳区）"
    assert rows[1][:7] == ["序号", "姓名/名称", "人员类别", "所属区划", "区划代码", "联系电话", "是否已培训"]
    body = {row[1]: row for row in rows[2:]}
    assert len(body) == written == 4
    zhang = body["张核查"]
    assert zhang[4] == world["trained"].division_id  # a code stays text
    assert (zhang[6], zhang[7], zhang[8], zhang[9]) == ("是", 2, 3.5, HELD)
    assert body["李未训"][6] == "否" and body["李未训"][9] == ""
    assert body["王工匠"][5] == "13800000000"
    event = Event.objects.order_by("id")[since]
    assert (event.action, event.extra["rows"], event.actor_id) == (
        Action.TRAINING_LEDGER_EXPORTED,
        4,
        world["manager"].pk,
    )


def test_page_filters_and_download(client, world):
    client.force_login(world["manager"])
    url = reverse("training:ledger")
    response = client.get(url, {"status": "untrained"})
    names = {r.name for r in response.context["page"].object_list}
    assert "李未训" in names and "张核查" not in names
    assert "未培训" in response.content.decode()
    response = client.get(url, {"kind": "craftsman", "export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert [row[1] for row in sheet(response.content)[2:]] == ["王工匠"]
    village = factories.user("cun_c", world["trained"].division_id, "village_staff")
    client.force_login(village)
    names = {r.name for r in client.get(url).context["page"].object_list}
    assert names == {"张核查", "李未训", village.get_full_name()}


def test_command_exports_the_ledger(world, tmp_path):
    target = tmp_path / "ledger.xlsx"
    call_command("training", "ledger", "--year", str(HELD.year), "--output", str(target), "--as", "yy")
    assert len(sheet(target.read_bytes())) == 2 + 4
    with pytest.raises(CommandError):
        call_command("training", "ledger", "--output", str(target))
