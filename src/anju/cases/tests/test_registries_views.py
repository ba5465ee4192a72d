"""The craftsmen registry pages (P17, P22: county managers register craftsmen and their yearly training; lists are
scoped) and the subsidy rate page (P21: everyone reads, the city sets)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Craftsman, SubsidyRate
from anju.testing import cases, factories
from anju.testing.scope import ScopeTestCase
from anju.training.models import Attendance

YEAR = dt.date.today().year


class CraftsmanPageTests(ScopeTestCase):
    covers = ("cases:craftsman_list", "cases:craftsman_create", "cases:craftsman_training")

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.trained = Craftsman.objects.create(division_id=factories.YUYANG, name="榆阳工匠甲")
        cases.train(cls.trained, YEAR)
        cls.untrained = Craftsman.objects.create(division_id=factories.YUYANG, name="榆阳工匠乙")
        cases.train(cls.untrained, YEAR - 1)
        cls.shenmu = Craftsman.objects.create(division_id=factories.SHENMU, name="神木工匠")

    def snapshot(self) -> tuple[int, ...]:
        return Craftsman.objects.count(), Attendance.objects.count(), Event.objects.count()

    def listed(self, key: str, **params: str) -> set[int]:
        self.as_user(key)
        response = self.client.get(reverse("cases:craftsman_list"), params)
        self.assertEqual(response.status_code, 200)
        return {c.pk for c in response.context["page"].object_list}

    def test_list_is_scoped_and_marks_this_years_training(self) -> None:
        """policy: P17 — the badge says whether the craftsman took this year's training."""
        url = reverse("cases:craftsman_list")
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("no_role")
        self.assertEqual(self.client.get(url).status_code, 403)
        both = {self.trained.pk, self.untrained.pk}
        self.assertEqual(self.listed("county"), both)
        self.assertEqual(self.listed("department"), both)
        self.assertEqual(self.listed("other_county"), {self.shenmu.pk})
        self.assertEqual(self.listed("admin"), both | {self.shenmu.pk})
        self.assertEqual(self.listed("admin", county=factories.SHENMU), {self.shenmu.pk})
        self.assertEqual(self.listed("county", q="榆阳工匠乙"), {self.untrained.pk})
        self.assertEqual(self.listed("no_division"), set())
        self.as_user("county")
        response = self.client.get(url)
        trained = response.content.decode().split(f'id="craftsman-{self.trained.pk}"')[1].split("</tr>")[0]
        untrained = response.content.decode().split(f'id="craftsman-{self.untrained.pk}"')[1].split("</tr>")[0]
        self.assertIn(f"{YEAR}年已培训", trained)
        self.assertIn(f"{YEAR}年未培训", untrained)
        self.assertIn(f"最近：{YEAR - 1}-01-02", untrained)  # the session day, from the ledger
        self.assertContains(response, reverse("cases:craftsman_create"))
        self.as_user("village")
        self.assertNotContains(self.client.get(url), reverse("cases:craftsman_create"))

    def test_create_by_county_managers_in_their_county(self) -> None:
        url = reverse("cases:craftsman_create")
        data = {"county": factories.YUYANG, "name": "新工匠", "kind": "craftsman", "phone": "13800000000"}
        self.as_user(None)
        self.assertLoginRedirect(self.client.post(url, data))
        for key in ("village", "town", "department", "supervisor", "appraiser"):
            with self.subTest(user=key):
                self.as_user(key)
                before = self.snapshot()
                self.assertEqual(self.client.post(url, data).status_code, 403)
                self.assertNothingWritten(before, "refused")
        self.as_user("county")
        form = self.client.get(url).context["form"]
        self.assertEqual([code for code, _name in form.fields["county"].choices], [factories.YUYANG])
        before = self.snapshot()
        self.assertRefusedForm(self.client.post(url, data | {"county": factories.SHENMU}))
        self.assertRefusedForm(self.client.post(url, data | {"name": " "}))
        self.assertNothingWritten(before, "refused")
        since = self.last_event_id()
        response = self.client.post(url, data)
        made = Craftsman.objects.get(name="新工匠")
        self.assertRedirects(response, reverse("cases:craftsman_training", kwargs={"pk": made.pk}))
        self.assertEqual(made.division_id, factories.YUYANG)
        self.assertOneEvent(since, response, Action.CRAFTSMAN_REGISTERED, self.users["county"])

    def test_training_page(self) -> None:
        """policy: P17 — the training is filed into the ledger once; refusals come back on the form."""
        url = reverse("cases:craftsman_training", kwargs={"pk": self.untrained.pk})
        data = {"year": YEAR, "trained_on": dt.date(YEAR, 1, 1).isoformat(), "topic": "农房抗震构造"}
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("village")
        self.assertEqual(self.client.post(url, data).status_code, 403)
        self.as_user("other_county")
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(url, data).status_code, 404)
        self.as_user("county")
        self.assertContains(self.client.get(url), str(YEAR - 1))
        before = self.snapshot()
        response = self.client.post(url, data | {"trained_on": dt.date(YEAR - 1, 5, 1).isoformat()})
        self.assertIn("trained_on", response.context["form"].errors)
        self.assertNothingWritten(before, response)
        since = self.last_event_id()
        response = self.client.post(url, data)
        self.assertRedirects(response, url)
        self.assertOneEvent(since, response, Action.TRAINING_SESSION_CREATED, self.users["county"])
        again = self.client.post(url, data)
        self.assertEqual(again.status_code, 200)
        self.assertIn("已在本场培训名单中", " ".join(again.context["form"].non_field_errors()))
        self.assertIn(f"{YEAR}年已培训", self.client.get(reverse("cases:craftsman_list")).content.decode())


class RatePageTests(ScopeTestCase):
    covers = ("cases:rate_list",)

    def snapshot(self) -> tuple[int, ...]:
        return SubsidyRate.objects.count(), Event.objects.count()

    def test_everyone_reads_the_rates_and_sample_rows_are_marked(self) -> None:
        """policy: P21"""
        SubsidyRate.objects.create(year=YEAR, method="rebuild", grade="D", amount="35000", is_sample=True)
        url = reverse("cases:rate_list")
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        self.as_user("no_role")
        self.assertEqual(self.client.get(url).status_code, 403)
        for key in ("village", "department", "county", "other_county"):
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(url)
                self.assertContains(response, "拆除重建")
                self.assertContains(response, "示例，待确认")
                self.assertIsNone(response.context["form"])
                self.assertNotContains(response, 'id="rate-form"')

    def test_empty_state(self) -> None:
        self.as_user("village")
        self.assertContains(self.client.get(reverse("cases:rate_list")), "尚未设置补助标准")

    def test_only_the_city_sets_rates(self) -> None:
        url = reverse("cases:rate_list")
        data = {"year": YEAR, "method": "reinforce", "grade": "C", "category_code": "", "amount": "20000",
                "note": "榆政住建发〔2021〕127号"}  # fmt: skip
        for key in ("county", "village", "supervisor"):
            with self.subTest(user=key):
                self.as_user(key)
                before = self.snapshot()
                response = self.client.post(url, data)
                self.assertEqual(response.status_code, 403)
                self.assertNothingWritten(before, response)
        self.as_user("admin")
        self.assertContains(self.client.get(url), 'id="rate-form"')
        self.assertRefusedForm(self.client.post(url, data | {"amount": "-1"}))
        since = self.last_event_id()
        response = self.client.post(url, data)
        self.assertRedirects(response, url)
        self.assertOneEvent(since, response, Action.SUBSIDY_RATE_SET, self.users["admin"])
        rate = SubsidyRate.objects.get()
        self.assertEqual((rate.amount, rate.grade, rate.is_sample), (Decimal("20000.00"), "C", False))
        edit = self.client.get(url, {"edit": rate.pk})
        self.assertEqual(edit.context["form"].initial["amount"], Decimal("20000.00"))
        self.client.post(url, data | {"amount": "22000", "is_sample": "on"})
        rate.refresh_from_db()
        self.assertEqual((rate.amount, rate.is_sample, SubsidyRate.objects.count()), (Decimal("22000.00"), True, 1))
        self.assertContains(self.client.get(url), "示例，待确认")
