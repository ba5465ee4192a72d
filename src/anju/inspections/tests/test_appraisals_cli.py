"""`anju appraisal …`: the same services from the command line (P8, P17)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from anju.inspections.models import Appraisal, AppraisalRequest
from anju.testing import appraisals as build
from anju.testing import factories

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("appraisal", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def world():
    village = factories.village(factories.YUYANG_TOWN, 1)
    house = factories.house(factories.household(village, head_name="白窑洞"), structure="earth_cave")
    factories.user("cun", village.code, "village_staff")
    factories.user("xian", factories.YUYANG, "county_manager")
    factories.trained(factories.user("jd", factories.YUYANG, "appraiser"))
    factories.user("jd_new", factories.YUYANG, "appraiser")
    return house


def test_report_assign_record_and_print(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    assert "鉴定期限" in run("report", str(world.pk), "拱顶开裂", "--as", "cun")
    req = AppraisalRequest.objects.get()
    assert req.due_on == dt.date.today() + dt.timedelta(days=15)
    with pytest.raises(CommandError, match="P17"):
        run("assign", str(req.pk), "jd_new", "--as", "xian")
    assert "已指派" in run("assign", str(req.pk), "jd", "--as", "xian")
    listing = run("requests", "--status", "pending", "--as", "xian")
    assert "白窑洞" in listing and "已指派" in listing
    components = [f"--component={code}=a" for code in build.all_a(world)] + ["--component=cave_arch=c"]
    with pytest.raises(CommandError, match="调整理由"):
        run("record", str(world.pk), *components, "--prevention", "partial", "--final-grade", "D", "--as", "jd")
    out = run("record", str(world.pk), *components, "--prevention", "partial", "--as", "jd")
    assert "鉴定等级 C" in out
    appraisal = Appraisal.objects.get()
    req.refresh_from_db()
    assert req.status == "done" and appraisal.request == req
    target = tmp_path / "r.pdf"
    run("pdf", str(appraisal.pk), "-o", str(target), "--as", "xian")
    assert target.read_bytes().startswith(b"%PDF")


def test_scope_and_actor_are_required(world):
    factories.user("sm", factories.SHENMU, "county_manager")
    with pytest.raises(CommandError, match="--as"):
        run("requests")
    with pytest.raises(CommandError, match="管辖范围"):
        run("report", str(world.pk), "x", "--as", "sm")
    with pytest.raises(CommandError, match="无权"):
        run("report", str(world.pk), "x", "--as", "jd")
    assert not AppraisalRequest.objects.exists()
