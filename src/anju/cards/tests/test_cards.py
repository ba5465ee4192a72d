"""P13 policy cards: the printed PDF (A5 / two per A4, Chinese text, a QR code that decodes to the county hotline),
the distribution rules, coverage, the P13.card_missing alert at the deadline, and scope on every page and endpoint."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cards.models import Audience, CardDistribution, CardRound, CardTemplate
from anju.cards.printing import FALLBACK_HOTLINE
from anju.cards.selectors import coverage
from anju.cards.services import cards_distribute, round_set, template_save
from anju.cases.models import CaseState
from anju.complaints.models import Hotline
from anju.core.errors import DomainError, ScopeError
from anju.divisions.models import Division
from anju.exchange.models import ExportJob, ExportKind, RunStatus
from anju.policy.rules import Context, rule_get
from anju.registry.models import Household
from anju.testing import cases, factories
from anju.testing.scope import CITY, ScopeTestCase

POPPLER = shutil.which("pdftoppm") is not None
HOTLINE = "0912-3282345"
TODAY = dt.date.today()


def renovated(village: Division, name: str = "") -> Household:
    """A household whose dangerous house was renovated (works completed)."""
    household = factories.household(village, **({"head_name": name} if name else {}))
    case = cases.dangerous_case(factories.house(household))
    cases.advance(case, CaseState.COMPLETED)
    return household


def publish_hotline(county: str = factories.YUYANG) -> None:
    Hotline.objects.create(division_id=county, number=HOTLINE, published_on=TODAY, published_where="县政府网站")


def pages(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[Path]:
    path = tmp_path / "cards.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(path), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page*.png"))


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout.decode()
    return "".join(out.split())


@pytest.fixture
def village():
    return factories.village(factories.YUYANG_TOWN, 1)


@pytest.fixture
def village_staff(village):
    return factories.user("card_clerk", village.code, "village_staff")


@pytest.mark.django_db
@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")
def test_a_batch_prints_two_cards_per_a4_sheet_in_chinese_with_a_qr_code_dialling_the_hotline_p13(
    client, village, village_staff, tmp_path
):
    """policy: P13 — the household card carries the policy and the feedback channel (the county hotline, also as
    a QR code a phone dials); the batch is A4 with two A5 cards, and printing is audited."""
    publish_hotline()
    renovated(village, "张明白")
    renovated(village, "李改造")
    renovated(village, "王验收")
    client.force_login(village_staff)
    response = client.get("/cards/print.pdf", {"audience": "household", "division": village.code})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("inline")
    pdf = b"".join(response.streaming_content)
    images = pages(pdf, tmp_path)
    assert len(images) == 2, "three cards: two on the first sheet, one on the second"
    with Image.open(images[0]) as image:
        width, height = image.size
        assert abs(height / width - 297 / 210) < 0.02, "A4 portrait"
        codes = zxingcpp.read_barcodes(image)
    assert [c.text for c in codes] == [f"tel:{HOTLINE}"] * 2
    text = pdf_text(pdf, tmp_path)
    for expected in ("农村住房安全保障政策明白卡", "张明白", "李改造", "王验收", f"监督举报电话：{HOTLINE}", "榆阳区"):
        assert expected in text, expected
    event = Event.objects.get(action=Action.CARDS_PRINTED)
    assert event.extra["count"] == 3 and event.actor_id == village_staff.pk


@pytest.mark.django_db
@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")
def test_the_preview_is_one_a5_card_and_falls_back_to_12345_without_a_published_hotline(
    client, village_staff, tmp_path
):
    """policy: P13 — a county without a published hotline still prints a working feedback number (12345)."""
    client.force_login(village_staff)
    response = client.get("/cards/templates/staff/preview.pdf")
    assert response.status_code == 200
    images = pages(response.content, tmp_path, dpi=150)
    assert len(images) == 1
    with Image.open(images[0]) as image:
        width, height = image.size
        assert abs(width / height - 210 / 148) < 0.02, "A5 landscape"
        assert [c.text for c in zxingcpp.read_barcodes(image)] == [f"tel:{FALLBACK_HOTLINE}"]
    text = pdf_text(response.content, tmp_path)
    assert "农村住房安全保障工作人员明白卡" in text and "接待群众来访" in text and "政务服务便民热线：12345" in text


@pytest.mark.django_db
@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")
def test_a_large_batch_is_printed_by_a_background_job_whose_page_offers_the_pdf(
    client, village, village_staff, tmp_path, settings, monkeypatch
):
    """P13 at a town's scale: more than DIRECT_CARDS cards (~50 ms each) would keep the page blank for seconds,
    so the click goes to a job page (DESIGN "Long jobs") and the finished PDF opens from there; printed once."""
    settings.ANJU_JOBS_SYNC, settings.MEDIA_ROOT = True, tmp_path / "media"
    monkeypatch.setattr("anju.exchange.export_jobs.DIRECT_CARDS", 2)
    for name in ("张明白", "李改造", "王验收"):
        renovated(village, name)
    client.force_login(village_staff)
    response = client.get("/cards/print.pdf", {"audience": "household", "division": village.code})
    assert response.status_code == 302 and "/exports/jobs/" in response["Location"]
    job = ExportJob.objects.get()
    assert (job.kind, job.status, job.rows_done, job.file.name.endswith(".pdf")) == (
        ExportKind.CARDS,
        RunStatus.DONE,
        3,
        True,
    )
    page = client.get(response["Location"]).content.decode()
    download = reverse("exchange:export_job_file", kwargs={"pk": job.pk})
    assert download in page
    pdf = client.get(download)
    assert pdf["Content-Type"] == "application/pdf" and pdf["Content-Disposition"].startswith("inline")
    content = b"".join(pdf.streaming_content)
    assert len(pages(content, tmp_path)) == 2 and "王验收" in pdf_text(content, tmp_path)
    assert Event.objects.get(action=Action.CARDS_PRINTED).extra["count"] == 3


@pytest.mark.django_db
def test_a_batch_too_large_or_empty_is_refused_in_chinese(client, village, village_staff, monkeypatch):
    client.force_login(village_staff)
    response = client.get("/cards/print.pdf", {"audience": "household", "division": village.code})
    assert response.status_code == 400
    assert "没有需要打印的明白卡" in response.content.decode()
    monkeypatch.setattr("anju.cards.services.MAX_CARDS", 1)
    renovated(village)
    renovated(village)
    response = client.get("/cards/print.pdf", {"audience": "household", "division": village.code})
    assert response.status_code == 400
    assert "一次最多打印1张" in response.content.decode()


@pytest.mark.django_db
def test_editing_a_card_makes_a_new_version_and_distributions_keep_theirs(village, village_staff):
    """policy: P13 — the city edits the texts; what was handed out stays known."""
    admin = factories.user("card_admin", CITY, "admin")
    household = renovated(village)
    first = cards_distribute(
        actor=village_staff, audience="household", recipient_ids=[household.pk], distributed_on=TODAY, signed=True
    )[0]
    assert first.template.version == 1
    new = template_save(
        actor=admin, audience="household", title="新版明白卡", body="要点一\n要点二", feedback="请拨打电话"
    )
    assert new.version == 2 and CardTemplate.objects.filter(audience="household").count() == 2
    assert CardDistribution.objects.get(pk=first.pk).template.version == 1
    with pytest.raises(DomainError) as error:
        template_save(actor=admin, audience="household", title="", body="x", feedback="y")
    assert error.value.errors == {"title": "请填写标题"}
    with pytest.raises(Exception, match="无权"):
        template_save(actor=village_staff, audience="household", title="t", body="b", feedback="f")


@pytest.mark.django_db
def test_distribution_refuses_the_not_renovated_the_already_recorded_and_the_foreign(village, village_staff):
    """policy: P13 — household cards go to households that had a renovation, once; all or nothing."""
    done = renovated(village)
    not_done = factories.household(village)
    foreign = renovated(factories.village(factories.SHENMU_TOWN, 1))
    with pytest.raises(DomainError, match="1个对象尚未完成危房改造"):
        cards_distribute(
            actor=village_staff, audience="household", recipient_ids=[done.pk, not_done.pk], distributed_on=TODAY
        )
    assert not CardDistribution.objects.exists()
    with pytest.raises(ScopeError):
        cards_distribute(actor=village_staff, audience="household", recipient_ids=[foreign.pk], distributed_on=TODAY)
    with pytest.raises(DomainError, match="不能晚于今天"):
        cards_distribute(
            actor=village_staff, audience="household", recipient_ids=[done.pk], distributed_on=TODAY + dt.timedelta(1)
        )
    cards_distribute(actor=village_staff, audience="household", recipient_ids=[done.pk], distributed_on=TODAY)
    with pytest.raises(DomainError, match="已登记发放"):
        cards_distribute(actor=village_staff, audience="household", recipient_ids=[done.pk], distributed_on=TODAY)
    department = factories.user("card_department", factories.YUYANG, "department")
    county = factories.user("card_county", factories.YUYANG, "county_manager")
    with pytest.raises(DomainError, match="不是住房建设工作人员"):
        cards_distribute(actor=county, audience="staff", recipient_ids=[department.pk], distributed_on=TODAY)
    cards_distribute(
        actor=county, audience="staff", recipient_ids=[village_staff.pk], distributed_on=TODAY, signed=True
    )
    assert Event.objects.filter(action=Action.CARDS_DISTRIBUTED).count() == 2


@pytest.mark.django_db
def test_coverage_counts_due_and_covered_per_child_division(village, village_staff):
    other = factories.village(factories.YUYANG_TOWN_2, 1)
    covered, _due, _elsewhere = renovated(village), renovated(village), renovated(other)
    cards_distribute(actor=village_staff, audience="household", recipient_ids=[covered.pk], distributed_on=TODAY)
    total, children = coverage(Division.objects.get(code=factories.YUYANG))
    assert (total.households, total.households_covered, total.households_missing) == (3, 1, 2)
    rows = {c.division.code: c for c in children}
    assert (rows[factories.YUYANG_TOWN].households, rows[factories.YUYANG_TOWN].households_covered) == (2, 1)
    assert rows[factories.YUYANG_TOWN_2].households == 1
    assert total.staff >= 1 and rows[factories.YUYANG_TOWN].staff >= 1


@pytest.mark.django_db
def test_uncovered_are_alerts_the_day_after_the_deadline_not_on_it_p13(village, village_staff):
    """policy: P13 — after the round's deadline every renovated household and staff member without a card is an
    alert; the deadline day itself is not late."""
    admin = factories.user("card_admin", CITY, "admin")
    household = renovated(village)
    deadline = TODAY - dt.timedelta(days=1)
    round_set(actor=admin, year=deadline.year, deadline=deadline)
    rule = rule_get("P13.card_missing")
    assert list(rule.evaluate(Context(today=deadline))) == []
    found = {(f.object_type, f.object_id) for f in rule.evaluate(Context(today=TODAY))}
    assert ("registry.household", household.pk) in found
    assert ("accounts.user", village_staff.pk) in found
    cards_distribute(actor=village_staff, audience="household", recipient_ids=[household.pk], distributed_on=TODAY)
    found = {(f.object_type, f.object_id) for f in rule.evaluate(Context(today=TODAY))}
    assert ("registry.household", household.pk) not in found
    incremental = rule.evaluate(Context(today=TODAY, household_ids=frozenset([household.pk])))
    assert list(incremental) == []
    assert CardRound.objects.get().deadline == deadline


class CardScopeTests(ScopeTestCase):
    """Every card page and endpoint shows and writes only inside the user's subtree."""

    model = CardDistribution
    action_app = "cards"
    covers = (
        "cards:overview",
        "cards:template_edit",
        "cards:template_preview",
        "cards:recipient_list",
        "cards:print_batch",
        "api:cards_coverage",
        "api:cards_distributions",
        "api:cards_distribute",
    )

    @classmethod
    def build_in_scope(cls, village: Division) -> CardDistribution:
        household = renovated(village)
        return CardDistribution.objects.create(
            audience=Audience.HOUSEHOLD,
            household=household,
            division_id=household.division_id,
            template=CardTemplate.objects.filter(audience="household").first(),
            distributed_on=TODAY,
        )

    def test_refusals(self) -> None:
        for url in ("/cards/", "/cards/recipients/", "/cards/print.pdf", "/cards/templates/household/preview.pdf"):
            self.as_user(None)
            self.assertLoginRedirect(self.client.get(url))
            self.as_user("no_role")
            self.assertEqual(self.client.get(url).status_code, 403, url)
        self.as_user("county")
        self.assertEqual(self.client.get("/cards/templates/household/").status_code, 403)  # the city edits
        self.assertEqual(self.client.get("/cards/", {"division": factories.SHENMU}).status_code, 404)
        self.assertEqual(self.client.get("/cards/recipients/", {"division": factories.SHENMU}).status_code, 404)
        self.assertEqual(self.client.get("/cards/print.pdf", {"division": factories.SHENMU}).status_code, 404)
        self.assertEqual(self.client.get("/cards/templates/nobody/preview.pdf").status_code, 404)
        self.as_user("supervisor")
        self.assertEqual(self.client.get("/cards/print.pdf").status_code, 403)  # reads, does not hand out
        self.assertEqual(self.api("get", "/api/v1/cards/coverage", None).status_code, 401)
        self.assertEqual(self.api("get", "/api/v1/cards/coverage", "no_role").status_code, 403)
        response = self.api("get", "/api/v1/cards/coverage", "county", division=factories.SHENMU)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["errors"][0]["field"], "division")

    def test_each_user_sees_exactly_their_distributions_and_coverage(self) -> None:
        for key in self.user_keys():
            if not self.may(key, "view") or key == "no_division":
                continue
            with self.subTest(user=key):
                rows = self.api("get", "/api/v1/cards/distributions", key).json()["items"]
                expected = {o.pk for o in self.fixture_objects() if self.can_see(key, o)}
                self.assertEqual({r["id"] for r in rows}, expected)
                total = self.api("get", "/api/v1/cards/coverage", key).json()["total"]
                self.assertEqual(total["households_covered"], len(expected))
                self.as_user(key)
                page = self.client.get("/cards/")
                self.assertEqual(page.status_code, 200)
                self.assertEqual(page.context["total"].households_covered, len(expected))

    def test_the_recipient_list_and_the_print_show_only_the_subtree(self) -> None:
        mine = renovated(self.villages["home"], "本村待发户")
        theirs = renovated(self.villages["other_county"], "外县待发户")
        self.as_user("village")
        page = self.client.get("/cards/recipients/", {"missing": "1"})
        names = {p.name for p in page.context["people"]}
        self.assertIn(mine.head_name, names)
        self.assertNotIn(theirs.head_name, names)
        self.assertEqual(self.client.get("/cards/recipients/", {"division": factories.YUYANG}).status_code, 404)

    def test_distribute_writes_inside_the_scope_only(self) -> None:
        mine = renovated(self.villages["home"])
        theirs = renovated(self.villages["other_county"])
        payload = {"audience": "household", "recipient_ids": [theirs.pk], "distributed_on": TODAY.isoformat()}
        before = CardDistribution.objects.count()
        response = self.api("post", "/api/v1/cards/distributions", "village", payload)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(CardDistribution.objects.count(), before)
        self.assertEqual(self.api("post", "/api/v1/cards/distributions", "supervisor", payload).status_code, 403)
        response = self.api("post", "/api/v1/cards/distributions", "village", payload | {"recipient_ids": [mine.pk]})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()[0]["household_id"], mine.pk)
        bad = self.api("post", "/api/v1/cards/distributions", "village", payload | {"distributed_on": "昨天"})
        self.assertEqual(bad.status_code, 400)
        self.as_user("town")
        response = self.client.post(
            f"/cards/recipients/?audience=household&division={factories.YUYANG_TOWN}",
            {"recipient": [str(theirs.pk)], "distributed_on": TODAY.isoformat(), "signed": "on"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["form"].non_field_errors())
        self.assertFalse(CardDistribution.objects.filter(household=theirs).exists())
