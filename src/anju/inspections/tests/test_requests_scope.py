"""Suspected-danger pages and endpoints under the scope/permission helper (P8, P17), plus their query budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.inspections.models import AppraisalRequest, RequestStatus
from anju.registry.models import House
from anju.testing import appraisals as build
from anju.testing import factories
from anju.testing.api import assert_error_body
from anju.testing.scope import APIViewTestCases, ScopeTestCase, ViewTestCases

TODAY = dt.date.today()
PENDING = [RequestStatus.OPEN, RequestStatus.ASSIGNED]


class RequestWorld(ScopeTestCase):
    """Requests in every fixture village, spare houses to report, and a trained appraiser of 榆阳."""

    __test__ = False
    model = AppraisalRequest
    page_model = "request"
    api_basename = "appraisal_requests"
    create_action = Action.REQUEST_OPENED
    #: the helper's verbs → the inspections actions that govern them
    VERBS = {"add": "report", "change": "assign"}
    SPARE_HOUSES = 6

    @classmethod
    def build_in_scope(cls, village):
        return build.request(factories.house(factories.household(village)))

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for village in cls.villages.values():
            owner = factories.household(village)
            for _ in range(cls.SPARE_HOUSES):
                factories.house(owner)
        factories.trained(cls.users["appraiser"])

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))

    def spare_house(self, near: Any) -> House:
        """A house in `near`'s village without an open request (one open request per house)."""
        house = (
            House.objects.filter(division_id=near.division_id)
            .exclude(appraisal_requests__status__in=PENDING)
            .order_by("id")
            .first()
        )
        assert house is not None, "no spare house left in the fixture village"
        return house


class RequestPageTests(RequestWorld, ViewTestCases.ListView, ViewTestCases.DetailView, ViewTestCases.AddView):
    add_url_has_parent = True

    def add_url(self, near: Any) -> str:
        return reverse("inspections:request_add", kwargs={"house_pk": self.spare_house(near).pk})

    def create_data(self, near: Any) -> dict[str, Any]:
        return {"description": "后墙纵向开裂，屋面下沉", "reported_on": TODAY.isoformat()}

    def test_list_filters_and_counts(self) -> None:
        late = self.in_scope[0]
        AppraisalRequest.objects.filter(pk=late.pk).update(
            reported_on=TODAY - dt.timedelta(days=20), due_on=TODAY - dt.timedelta(days=5)
        )
        self.as_user("county")
        response = self.client.get(reverse("inspections:request_list"), {"overdue": "1"})
        self.assertEqual({r.pk for r in response.context["page"].object_list}, {late.pk})
        self.assertContains(response, "超期5天")
        self.assertEqual(response.context["counts"]["overdue"], 1)
        response = self.client.get(reverse("inspections:request_list"), {"division": self.villages["home_town"].code})
        self.assertEqual({r.pk for r in response.context["page"].object_list}, {self.in_town.pk})
        response = self.client.get(reverse("inspections:request_list"), {"status": "done"})
        self.assertEqual(response.context["page"].paginator.count, 0)

    def test_household_page_links_to_report_and_appraise(self) -> None:
        house = self.in_scope[0].house
        url = reverse("registry:household_detail", kwargs={"pk": house.household_id})
        self.as_user("village")
        response = self.client.get(url)
        self.assertContains(response, reverse("inspections:request_add", kwargs={"house_pk": house.pk}))
        self.assertNotContains(response, reverse("inspections:appraisal_add", kwargs={"house_pk": house.pk}))
        self.as_user("appraiser")
        response = self.client.get(url)
        self.assertContains(response, reverse("inspections:appraisal_add", kwargs={"house_pk": house.pk}))
        self.assertNotContains(response, "上报疑似危房")


class RequestAPITests(
    RequestWorld, APIViewTestCases.ListView, APIViewTestCases.DetailView, APIViewTestCases.CreateView
):
    def create_payload(self, near: Any) -> dict[str, Any]:
        return {"house_id": self.spare_house(near).pk, "description": "窑脸鼓闪，拱顶掉土"}

    def test_api_create_sets_the_p8_due_date(self) -> None:
        """policy: P8"""
        reported = TODAY - dt.timedelta(days=2)
        body = {"house_id": self.spare_house(self.in_scope[0]).pk, "description": "x", "reported_on": str(reported)}
        response = self.api("POST", self.api_url("create"), "village", body)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["due_on"], str(reported + dt.timedelta(days=15)))
        self.assertEqual(response.json()["status"], "open")

    def test_api_second_report_of_a_house_is_409_in_chinese(self) -> None:
        body = {"house_id": self.in_scope[0].house_id, "description": "again"}
        body_ = assert_error_body(self.api("POST", self.api_url("create"), "county", body), 409)
        self.assertIn("已有未完成的鉴定申请", body_["errors"][0]["message"])

    def test_api_list_filters(self) -> None:
        AppraisalRequest.objects.filter(pk=self.in_town.pk).update(
            reported_on=TODAY - dt.timedelta(days=16), due_on=TODAY - dt.timedelta(days=1)
        )
        ids, count = self.api_list_all("county", overdue="1")
        self.assertEqual((ids, count), ({self.in_town.pk}, 1))
        self.assertTrue(self.api("GET", self.api_url("detail", self.in_town), "county").json()["overdue"])
        ids, _count = self.api_list_all("county", division=self.villages["home"].code, status="pending")
        self.assertEqual(ids, {o.pk for o in self.in_scope})
        assert_error_body(self.api_list("county", division="123"), 400)


class RequestAssignTests(RequestWorld):
    """The county assigns trained appraisers of its county (P17); pages and the endpoint."""

    covers = ("inspections:request_assign", "inspections:request_cancel", "api:appraisal_requests_assign")

    def assign_url(self, obj: Any) -> str:
        return reverse("inspections:request_assign", kwargs={"pk": obj.pk})

    def test_assign_page_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=obj.division_id):
                    response = self.client.get(self.assign_url(obj))
                    if not self.may(key, "assign"):
                        self.assertEqual(response.status_code, 403)
                    else:
                        self.assertEqual(response.status_code, 200 if self.can_see(key, obj) else 404)

    def test_assign_page_lists_only_trained_appraisers_of_the_county(self) -> None:
        untrained = factories.user("jd_untrained", factories.YUYANG, "appraiser")
        shenmu = factories.trained(factories.user("jd_shenmu", factories.SHENMU, "appraiser"))
        town = factories.trained(factories.user("zhen_trained", factories.YUYANG_TOWN, "town_staff"))
        self.as_user("county")
        choices = dict(self.client.get(self.assign_url(self.in_scope[0])).context["form"].fields["appraiser"].choices)
        self.assertIn(str(self.users["appraiser"].pk), choices)
        for person in (untrained, shenmu, town):
            self.assertNotIn(str(person.pk), choices)

    def test_assign_page_writes_one_audit_event(self) -> None:
        obj, since = self.in_scope[0], Event.objects.order_by("-id").values_list("id", flat=True).first()
        self.as_user("county")
        response = self.client.post(
            self.assign_url(obj), {"appraiser": self.users["appraiser"].pk, "assigned_on": TODAY.isoformat()}
        )
        self.assertEqual(response.status_code, 302, response.content[:300])
        self.assertOneEvent(since, response, Action.REQUEST_ASSIGNED, self.users["county"], obj)
        obj.refresh_from_db()
        self.assertEqual((obj.status, obj.appraiser), (RequestStatus.ASSIGNED, self.users["appraiser"]))

    def test_assign_page_refuses_an_untrained_appraiser_with_the_p17_message(self) -> None:
        """policy: P17"""
        untrained = factories.user("jd_untrained", factories.YUYANG, "appraiser")
        obj = self.in_scope[0]
        self.as_user("county")
        before = self.snapshot()
        # the form only offers trained people: post the id anyway, as a stale page would
        response = self.client.post(self.assign_url(obj), {"appraiser": untrained.pk, "assigned_on": TODAY})
        self.assertRefusedForm(response)
        self.assertNothingWritten(before, response)

    def test_api_assign(self) -> None:
        obj = self.in_scope[1]
        url = reverse("api:appraisal_requests_assign", kwargs={"pk": obj.pk})
        payload = {"appraiser_id": self.users["appraiser"].pk}
        assert_error_body(self.api("POST", url, None, payload), 401, errors=False)
        for key in ("village", "town", "appraiser", "department", "supervisor"):
            with self.subTest(user=key):
                assert_error_body(self.api("POST", url, key, payload), 403, errors=False)
        assert_error_body(self.api("POST", url, "other_county", payload), 404, errors=False)
        untrained = factories.user("jd_untrained", factories.YUYANG, "appraiser")
        body = assert_error_body(self.api("POST", url, "county", {"appraiser_id": untrained.pk}), 400)
        self.assertIn("P17", body["detail"])
        self.assertEqual(body["errors"][0]["field"], "appraiser")
        other = factories.trained(factories.user("jd_shenmu", factories.SHENMU, "appraiser"))
        body = assert_error_body(self.api("POST", url, "county", {"appraiser_id": other.pk}), 400)
        self.assertIn("不属于该房屋所在县", body["errors"][0]["message"])
        assert_error_body(self.api("POST", url, "county", {"appraiser_id": 999999}), 400)
        since = self.last_event_id()
        response = self.api("POST", url, "county", payload)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "assigned")
        self.assertOneEvent(since, response, Action.REQUEST_ASSIGNED, self.users["county"], obj)

    def test_cancel_page(self) -> None:
        obj = self.in_scope[0]
        url = reverse("inspections:request_cancel", kwargs={"pk": obj.pk})
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        for key, status in [("village", 403), ("appraiser", 403), ("other_county", 404)]:
            with self.subTest(user=key):
                self.as_user(key)
                self.assertEqual(self.client.post(url, {"reason": "重复"}).status_code, status)
        self.as_user("county")
        self.assertEqual(self.client.get(url).status_code, 200)
        self.assertRefusedForm(self.client.post(url, {"reason": ""}))
        since = self.last_event_id()
        response = self.client.post(url, {"reason": "重复上报"})
        self.assertEqual(response.status_code, 302)
        self.assertOneEvent(since, response, Action.REQUEST_CANCELLED, self.users["county"], obj)
        self.assertContains(self.client.get(self.page_url("detail", obj)), "重复上报")


class AppraiserQueueTests(RequestWorld):
    """ "我的鉴定任务": only the appraiser's own assigned requests."""

    covers = ("inspections:request_mine",)

    def test_queue(self) -> None:
        url = reverse("inspections:request_mine")
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(url))
        for key in ("county", "village", "department"):
            self.as_user(key)
            self.assertEqual(self.client.get(url).status_code, 403)
        mine = build.request(
            factories.house(factories.household(self.villages["home"])),
            appraiser=self.users["appraiser"],
            assigned_by=self.users["county"],
        )
        other = factories.trained(factories.user("jd_other", factories.YUYANG, "appraiser"))
        build.request(factories.house(factories.household(self.villages["home"])), appraiser=other)
        self.as_user("appraiser")
        response = self.client.get(url)
        self.assertEqual([r.pk for r in response.context["page"].object_list], [mine.pk])
        self.assertContains(response, reverse("inspections:appraisal_add", kwargs={"house_pk": mine.house_id}))


class RequestQueryCountTests(RequestWorld):
    """Lists: the same number of queries for 3 rows and for 30."""

    def grow_requests(self, rows: list) -> Any:
        village = factories.village(factories.YUYANG_TOWN, 9, name="计数村")

        def grow(n: int) -> None:
            while len(rows) < n:
                rows.append(
                    build.request(
                        factories.house(factories.household(village)),
                        appraiser=self.users["appraiser"] if len(rows) % 2 else None,
                        reported_on=TODAY - dt.timedelta(days=len(rows)),
                    )
                )

        return grow

    def test_request_list_page(self) -> None:
        self.as_user("county")
        url = reverse("inspections:request_list")
        self.assertQueryCountsStable(
            "inspections:request_list", grow=self.grow_requests([]), fetch=lambda: self.client.get(url), sizes=(3, 30)
        )

    def test_request_mine_page(self) -> None:
        self.as_user("appraiser")
        url = reverse("inspections:request_mine")
        rows: list = []
        grow = self.grow_requests(rows)
        self.assertQueryCountsStable(
            "inspections:request_mine", grow=lambda n: grow(2 * n), fetch=lambda: self.client.get(url), sizes=(3, 30)
        )

    def test_request_list_api(self) -> None:
        url = reverse("api:appraisal_requests_list")
        self.assertQueryCountsStable(
            "api:appraisal_requests_list",
            grow=self.grow_requests([]),
            fetch=lambda: self.api("GET", url, "county", page_size=100),
            sizes=(3, 30),
        )
