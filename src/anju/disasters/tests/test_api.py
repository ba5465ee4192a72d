"""Bad input to /api/v1/disasters answers 4xx in the one error shape, in Chinese, and writes nothing (never a 500)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from anju.audit.models import Event
from anju.disasters.models import DamageReport
from anju.testing import factories
from anju.testing.api import assert_error_body

from . import world
from .test_scope import MediaWorld

TODAY = dt.date.today()
TOMORROW = TODAY + dt.timedelta(days=1)


class BadInputTests(MediaWorld):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.event = cls.event_of(factories.YUYANG)
        cls.house = factories.house(factories.household(cls.villages["home"]))
        cls.report = world.report(factories.house(factories.household(cls.villages["home"])), cls.event, level="minor")

    def refused(self, method: str, name: str, payload: Any, status: int, key: str = "county", **kwargs: Any) -> dict:
        before = Event.objects.count()
        response = self.api(method, reverse(name, kwargs=kwargs or None), key, payload)
        body = assert_error_body(response, status, errors=status == 400)
        self.assertEqual(Event.objects.count(), before)
        return body

    def test_damage_reports(self) -> None:
        good = {"event_id": self.event.pk, "house_id": self.house.pk, "level": "severe"}
        for change, status in [
            ({"level": "很严重"}, 400),
            ({"people_affected": -1}, 400),
            ({"casualties": "许多"}, 400),
            ({"reported_on": str(TOMORROW)}, 400),
            ({"reported_on": "2026-13-01"}, 400),
            ({"event_id": 999999}, 404),
            ({"house_id": 999999}, 404),
            ({"event_id": self.event_of(factories.SHENMU).pk}, 404),
            ({"house_id": self.report.house_id}, 409),
        ]:
            with self.subTest(change=change):
                self.refused("POST", "api:reports_create", good | change, status, key="village")
        body = self.refused("POST", "api:reports_create", good | {"reported_on": str(TOMORROW)}, 400, key="village")
        self.assertEqual(body["errors"][0]["field"], "reported_on")
        self.assertFalse(DamageReport.objects.filter(house=self.house).exists())
        response = self.api("GET", reverse("api:reports_list"), "county", level="很严重")
        assert_error_body(response, 400)

    def test_resettlement_and_photos(self) -> None:
        for payload in [
            {"method": "tent", "place": "操场", "since": str(TODAY), "is_safe": True},
            {"method": "boat", "place": "操场", "since": str(TODAY)},
            {"method": "tent", "place": "  ", "since": str(TODAY)},
            {"method": "tent", "place": "操场", "since": str(TOMORROW)},
        ]:
            with self.subTest(payload=payload):
                self.refused("POST", "api:resettlements_create", payload, 400, key="village", pk=self.report.pk)
        not_a_picture = SimpleUploadedFile("x.jpg", b"not a picture", content_type="image/jpeg")
        response = Client().post(
            reverse("api:reports_photos", kwargs={"pk": self.report.pk}),
            {"photo": not_a_picture},
            HTTP_AUTHORIZATION=f"Bearer {self.tokens['village']}",
        )
        assert_error_body(response, 400)

    def test_events_and_notes(self) -> None:
        good = {"kind": "earthquake", "name": "地震", "started_on": str(TODAY), "affected_codes": [factories.YUYANG]}
        for change in [
            {"kind": "海啸"},
            {"name": ""},
            {"affected_codes": []},
            {"affected_codes": ["123"]},
            {"started_on": str(TOMORROW)},
            {"ended_on": str(TODAY - dt.timedelta(days=1))},
            {"division": factories.YUYANG_TOWN},
        ]:
            with self.subTest(change=change):
                self.refused("POST", "api:events_create", good | change, 400)
        self.refused("PATCH", "api:events_update", {"ended_on": "2000-01-01"}, 400, pk=self.event.pk)
        self.refused("POST", "api:notes_create", {"department": "公安", "noted_on": str(TODAY), "content": "x"}, 400,
                     pk=self.event.pk)  # fmt: skip
        self.refused("POST", "api:notes_create", {"department": "finance", "noted_on": str(TODAY), "content": " "},
                     400, pk=self.event.pk)  # fmt: skip

    def test_seasons_and_plans(self) -> None:
        good = {"county": factories.YUYANG, "season": "flood", "start_month": 6, "start_day": 1, "end_month": 9,
                "end_day": 30}  # fmt: skip
        for change in [{"start_month": 13}, {"end_day": 32}, {"start_month": 2, "start_day": 30}, {"season": "夏"}]:
            with self.subTest(change=change):
                self.refused("PUT", "api:seasons_set", good | change, 400)
        self.refused("PUT", "api:seasons_set", good | {"county": factories.YUYANG_TOWN}, 400)
        self.refused("PUT", "api:seasons_set", good | {"county": factories.SHENMU}, 403)
        url = reverse("api:plans_create")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {self.tokens['county']}"}
        fields = {"county": factories.YUYANG, "season": "flood", "year": TODAY.year, "title": "预案",
                  "filed_on": str(TODAY)}  # fmt: skip
        before = Event.objects.count()
        assert_error_body(Client().post(url, fields, **auth), 400)
        exe = SimpleUploadedFile("plan.exe", b"MZ", content_type="application/octet-stream")
        assert_error_body(Client().post(url, fields | {"document": exe}, **auth), 400)
        assert_error_body(Client().post(url, fields | {"year": 1990, "document": world.pdf()}, **auth), 400)
        self.assertEqual(Event.objects.count(), before)
