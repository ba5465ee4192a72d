"""The event dashboard, its chart and its workbook (P9, P23); the phone forms; query budgets of every list."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from django.urls import reverse
from python_calamine import CalamineWorkbook

from anju.cases.models import Case
from anju.disasters import services
from anju.testing import cases, factories

from . import world
from .test_scope import MediaWorld

TODAY = dt.date.today()


def read_xlsx(content: bytes) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


class DashboardTests(MediaWorld):
    """One 榆阳 event with reports in two towns at every stage: reported only, resettled, appraised A,
    appraised C, and a C whose case was accepted (rebuilt)."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.event = world.event(started_on=TODAY - dt.timedelta(days=20))
        home, sibling = cls.villages["home"], cls.villages["sibling_town"]

        def new(village, **values):
            house = factories.house(factories.household(village))
            return world.report(house, cls.event, reported_on=TODAY - dt.timedelta(days=10), **values)

        new(home, level="minor", needs_resettlement=False)
        resettled = new(home, level="moderate")
        services.resettlement_record(
            actor=world.reporter(home), report=resettled, method="tent", place="村委会", since=TODAY
        )
        world.appraise(new(home, level="severe"), "A")
        world.appraise(new(home, level="collapsed"), "C")
        rebuilt = new(sibling, level="severe")
        world.appraise(rebuilt, "C")
        cases.advance(Case.objects.get(house=rebuilt.house), "accepted")
        cls.other = world.event(factories.SHENMU)
        new_shenmu = factories.house(factories.household(cls.villages["other_county"]))
        world.report(new_shenmu, cls.other)

    def test_dashboard_counts_per_town_and_in_total(self) -> None:
        self.as_user("county")
        response = self.client.get(reverse("disasters:event_detail", kwargs={"pk": self.event.pk}))
        rows = {row.code: row.counts for row in response.context["rows"]}
        home_town, sibling_town = factories.YUYANG_TOWN, factories.YUYANG_TOWN_2
        self.assertEqual(rows[home_town], {"reported": 4, "resettled": 1, "appraised": 2, "dangerous": 1, "rebuilt": 0})
        self.assertEqual(
            rows[sibling_town], {"reported": 1, "resettled": 0, "appraised": 1, "dangerous": 1, "rebuilt": 1}
        )
        self.assertEqual(
            response.context["total"].counts,
            {"reported": 5, "resettled": 1, "appraised": 3, "dangerous": 2, "rebuilt": 1},
        )
        chart = json.loads(response.context["chart"] and json.dumps(response.context["chart"]))
        self.assertEqual(chart["series"]["reported"], [4, 1])
        self.assertContains(response, 'id="dashboard-chart"')
        self.assertContains(response, "vendor/echarts.min.js")

    def test_a_town_sees_only_its_own_reports_on_the_dashboard(self) -> None:
        self.as_user("town")
        response = self.client.get(reverse("disasters:event_detail", kwargs={"pk": self.event.pk}))
        self.assertEqual([row.code for row in response.context["rows"]], [factories.YUYANG_TOWN])
        self.assertEqual(response.context["total"].counts["reported"], 4)

    def test_api_detail_carries_the_dashboard(self) -> None:
        body = self.api("GET", reverse("api:events_detail", kwargs={"pk": self.event.pk}), "county").json()
        self.assertEqual(body["total"]["dangerous"], 2)
        self.assertEqual(
            [(row["code"], row["reported"]) for row in body["dashboard"]],
            [(factories.YUYANG_TOWN, 4), (factories.YUYANG_TOWN_2, 1)],
        )
        self.assertEqual(body["kind"], {"code": "flood", "label": "暴雨洪涝"})

    def test_export_reads_back(self) -> None:
        self.as_user("county")
        response = self.client.get(reverse("disasters:event_export", kwargs={"pk": self.event.pk}))
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response["Content-Disposition"])
        sheets = read_xlsx(b"".join(response.streaming_content))
        self.assertEqual(list(sheets), ["汇总", "灾损明细"])
        summary = sheets["汇总"]
        self.assertIn("灾情统计", summary[0][0])
        self.assertEqual(summary[1][:3], ["区划代码", "区划", "上报户数"])
        self.assertEqual(summary[-1][1:], ["合计", 5, 1, 3, 2, 1])
        self.assertEqual(summary[2][0], factories.YUYANG_TOWN)  # a code stays text
        detail = sheets["灾损明细"]
        self.assertEqual(len(detail), 2 + 5)
        self.assertEqual({row[3] for row in detail[2:]}, {"轻微", "一般", "严重", "倒塌"})
        self.assertIsInstance(detail[2][8], dt.date)

    def test_report_page_shows_resettlement_missing_and_the_phone_forms_are_single_column(self) -> None:
        self.as_user("village")
        report = self.event.reports.filter(
            needs_resettlement=True, resettlements__isnull=True, division_id=self.villages["home"].code
        ).first()
        response = self.client.get(reverse("disasters:report_detail", kwargs={"pk": report.pk}))
        self.assertContains(response, 'id="resettlement-missing"')
        response = self.client.get(reverse("disasters:report_add", kwargs={"pk": self.event.pk}), {"q": "张"})
        self.assertContains(response, 'name="viewport" content="width=device-width')
        self.assertContains(response, 'style="max-width: 560px"')
        self.assertTrue(response.context["form"].fields["house"].queryset.exists())


class ListQueryCountTests(MediaWorld):
    """Every list costs the same number of queries for few and many rows (no N+1)."""

    def grow_reports(self, n: int) -> None:
        event = self.event_of(factories.YUYANG)
        village = self.villages["home"]
        while event.reports.count() < n:
            house = factories.house(factories.household(village))
            report = world.report(house, event, level="moderate", photos=[world.png(f"#{event.reports.count():06x}")])
            services.resettlement_record(
                actor=world.reporter(village), report=report, method="tent", place="村委会", since=TODAY
            )
            services.note_record(
                actor=world.county_manager(factories.YUYANG), event=event, department="other", noted_on=TODAY,
                content="协调",
            )  # fmt: skip

    def grow_events(self, n: int) -> None:
        while services.DisasterEvent.objects.filter(division_id=factories.YUYANG).count() < n:
            world.event(name="事件")

    def grow_plans(self, n: int) -> None:
        while services.EmergencyPlan.objects.filter(division_id=factories.YUYANG).count() < n:
            count = services.EmergencyPlan.objects.count()
            services.plan_file(
                actor=world.county_manager(factories.YUYANG), county_code=factories.YUYANG,
                season=("flood", "freeze")[count % 2], year=TODAY.year - count // 2, title="预案", filed_on=TODAY,
                document=world.pdf(),
            )  # fmt: skip

    def test_pages(self) -> None:
        self.as_user("county")
        event = self.event_of(factories.YUYANG)
        for name, kwargs, grow, sizes in [
            ("disasters:event_detail", {"pk": event.pk}, self.grow_reports, (3, 12)),
            ("disasters:event_list", None, self.grow_events, (3, 12)),
            ("disasters:plan_list", None, self.grow_plans, (3, 10)),
        ]:
            url = reverse(name, kwargs=kwargs)
            self.assertQueryCountsStable(name, grow=grow, fetch=lambda url=url: self.client.get(url), sizes=sizes)

    def test_api_lists(self) -> None:
        for name, grow in [
            ("api:reports_list", self.grow_reports),
            ("api:resettlements_list", self.grow_reports),
            ("api:notes_list", self.grow_reports),
            ("api:events_list", self.grow_events),
            ("api:plans_list", self.grow_plans),
        ]:
            url = reverse(name)
            self.assertQueryCountsStable(
                name, grow=grow, fetch=lambda url=url: self.api("GET", url, "county"), sizes=(3, 10)
            )

    def test_report_page(self) -> None:
        self.grow_reports(1)
        report = self.event_of(factories.YUYANG).reports.first()
        village = self.villages["home"]
        count = [1]

        def grow(n: int) -> None:
            while count[0] < n:
                count[0] += 1
                services.damage_photo_add(
                    actor=world.reporter(village), report=report, file=world.png(f"#{n:02x}{count[0]:04x}")
                )
                services.resettlement_record(
                    actor=world.reporter(village), report=report, method="rented", place="镇上", since=TODAY
                )

        self.as_user("village")
        url = reverse("disasters:report_detail", kwargs={"pk": report.pk})
        self.assertQueryCountsStable(
            "disasters:report_detail", grow=grow, fetch=lambda: self.client.get(url), sizes=(2, 6)
        )
