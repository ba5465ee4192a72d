"""Comparison and registration task pages under the scope/permission helper (P6, DESIGN "Jurisdiction"): every
role and level sees exactly its subtree, foreign rows are 404, roles without the action 403; exchange.compare
(county, admin, department), exchange.apply (county, admin), exchange.task (village and up)."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

import xlsxwriter
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from python_calamine import CalamineWorkbook

from anju.audit.actions import Action
from anju.core import idnumber
from anju.divisions.models import Division
from anju.exchange.compare import comparison_run
from anju.exchange.models import Comparison, ComparisonSet, RegistrationTask, TaskStatus
from anju.testing import factories
from anju.testing.scope import ScopeTestCase, ViewTestCases


def department_list(folder: Path, people: list[tuple[str, str]]) -> Path:
    path = folder / "list.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["姓名", "身份证号码", "类别", "认定日期"])
    for row, (name, id_number) in enumerate(people, start=1):
        sheet.write_row(row, 0, [name, id_number, "低保", "2024-01-05"])
    book.close()
    return path


class ComparisonWorld(ScopeTestCase):
    """A comparison of a one-person list (not in the registry) for each fixture village, run by the system."""

    __test__ = False
    model = Comparison
    page_app = "exchange"
    page_model = "compare"
    action_app = "exchange"

    @classmethod
    def setUpClass(cls) -> None:
        """The reports go to a folder of this class's, made here: a module-level one was left behind whenever the
        module was collected and its tests were not run. Class cleanups run even when setUpClass fails."""
        media_root = tempfile.mkdtemp(prefix="anju-test-media-")
        cls.addClassCleanup(shutil.rmtree, media_root, ignore_errors=True)
        media_override = override_settings(MEDIA_ROOT=media_root, ANJU_JOBS_SYNC=True)
        media_override.enable()
        cls.addClassCleanup(media_override.disable)
        super().setUpClass()

    @classmethod
    def build_in_scope(cls, village: Division) -> Comparison:
        with tempfile.TemporaryDirectory() as folder:
            path = department_list(Path(folder), [("新登记", factories.id_number(village.code[:6]))])
            outcome = comparison_run(
                actor=None, path=path, source="民政", division_code=village.code, output=Path(folder) / "r.xlsx"
            )
        return outcome.comparison


class ComparisonPageTests(ComparisonWorld, ViewTestCases.ListView, ViewTestCases.DetailView):
    covers = ("exchange:compare_report", "exchange:compare_progress", "exchange:compare_apply", "exchange:compare_new")

    def may_apply(self, key: str) -> bool:
        user = self.users[key]
        return self.may(key, "apply") and user.division_id is not None and user.division.level in ("city", "county")

    def test_detail_lists_only_the_findings_in_scope(self) -> None:
        self.as_user("county")
        response = self.client.get(self.page_url("detail", self.in_scope[0]))
        items = list(response.context["page"].object_list)
        self.assertEqual([(i.result, i.name) for i in items], [(ComparisonSet.NOT_IN_REGISTRY, "新登记")])
        self.assertNotIn(idnumber.decrypt(items[0].id_cipher), response.content.decode())  # masked only

    def test_report_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.get(reverse("exchange:compare_report", kwargs={"pk": obj.pk}))
                    expected = 200 if self.can_see(key, obj) else 404
                    self.assertEqual(response.status_code, expected if self.may(key, "view") else 403)
                    if response.status_code == 200:
                        content = b"".join(response.streaming_content)
                        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
                        self.assertEqual(book.sheet_names[0], "汇总")
        self.as_user(None)
        self.assertLoginRedirect(
            self.client.get(reverse("exchange:compare_report", kwargs={"pk": self.in_scope[0].pk}))
        )

    def test_progress_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.get(reverse("exchange:compare_progress", kwargs={"pk": obj.pk}))
                    expected = 200 if self.can_see(key, obj) else 404
                    self.assertEqual(response.status_code, expected if self.may(key, "view") else 403)
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(reverse("exchange:compare_progress", kwargs={"pk": 1})))

    def test_new_page_status_for_every_user(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(reverse("exchange:compare_new")))
        for key in self.user_keys():
            with self.subTest(user=key):
                self.as_user(key)
                expected = 200 if self.may(key, "compare") and self.users[key].division_id else 403
                self.assertEqual(self.client.get(reverse("exchange:compare_new")).status_code, expected)
        self.assertTrue(self.may("department", "compare"))
        self.assertFalse(self.may("town", "compare"))

    def post_list(self, key: str, **data: Any):
        self.as_user(key)
        with tempfile.TemporaryDirectory() as folder:
            path = department_list(Path(folder), [("甲", factories.id_number())])
            with path.open("rb") as handle:
                return self.client.post(
                    reverse("exchange:compare_new"), {"file": handle, "source": "civil_affairs"} | data
                )

    def test_new_comparison_is_refused_without_the_action_or_outside_the_subtree(self) -> None:
        for key, data, status in [
            ("town", {}, 403),
            ("village", {}, 403),
            ("supervisor", {}, 403),
            ("no_division", {}, 403),
            ("county", {"division": factories.SHENMU}, 200),  # not offered: a form error
            ("other_county", {"division": factories.YUYANG_TOWN}, 200),
        ]:
            with self.subTest(user=key):
                before = self.snapshot()
                response = self.post_list(key, **data)
                self.assertEqual(response.status_code, status)
                self.assertRefusedForm(response)
                self.assertNothingWritten(before, response)

    def test_new_comparison_belongs_to_the_chosen_division_with_one_event(self) -> None:
        for key, division in [("county", factories.YUYANG_TOWN), ("department", ""), ("admin", factories.SHENMU)]:
            with self.subTest(user=key):
                pks, since = set(Comparison.objects.values_list("pk", flat=True)), self.last_event_id()
                response = self.post_list(key, division=division)
                self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
                comparison = Comparison.objects.exclude(pk__in=pks).get()
                self.assertEqual(comparison.division_id, division or self.users[key].division_id)
                self.assertOneEvent(since, response, Action.COMPARISON_RUN, self.users[key], comparison)

    def test_apply_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    url = reverse("exchange:compare_apply", kwargs={"pk": obj.pk, "result": "not_in_registry"})
                    response = self.client.get(url)
                    if not self.may(key, "apply"):
                        self.assertEqual(response.status_code, 403)
                    else:
                        self.assertEqual(response.status_code, 200 if self.can_see(key, obj) else 404)

    def test_apply_writes_tasks_and_one_event_only_in_scope(self) -> None:
        def url(obj: Comparison) -> str:
            return reverse("exchange:compare_apply", kwargs={"pk": obj.pk, "result": "not_in_registry"})

        for key, obj, status in [
            ("other_county", self.in_scope[0], 404),
            ("county", self.out_of_scope, 404),
            ("town", self.in_town, 403),
            ("department", self.in_scope[0], 403),
        ]:
            with self.subTest(user=key):
                self.as_user(key)
                before, tasks = self.snapshot(), RegistrationTask.objects.count()
                response = self.client.post(url(obj))
                self.assertEqual(response.status_code, status)
                self.assertNothingWritten(before, response)
                self.assertEqual(RegistrationTask.objects.count(), tasks)
        for key, obj in [("county", self.in_scope[0]), ("admin", self.out_of_scope)]:
            with self.subTest(user=key):
                self.assertTrue(self.may_apply(key))
                self.as_user(key)
                since = self.last_event_id()
                response = self.client.post(url(obj))
                self.assertEqual(response.status_code, 302)
                self.assertOneEvent(since, response, Action.COMPARISON_APPLIED, self.users[key], obj)
                self.assertEqual(RegistrationTask.objects.filter(comparison=obj).get().division_id, obj.division_id)

    def test_list_and_detail_queries_do_not_grow_with_rows(self) -> None:
        """Counts per set come from the comparison row, grades for a page in one query: no query per row."""
        self.as_user("admin")

        def count(url: str) -> int:
            self.client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(url).status_code, 200)
            return len(ctx)

        few = count(reverse("exchange:compare_list"))
        for _n in range(3):
            self.build_in_scope(self.villages["home"])
        self.assertEqual(count(reverse("exchange:compare_list")), few)


class TaskWorld(ScopeTestCase):
    __test__ = False
    model = RegistrationTask
    page_app = "exchange"
    page_model = "task"
    action_app = "exchange"

    @classmethod
    def build_in_scope(cls, village: Division) -> RegistrationTask:
        id_number = factories.id_number(village.code[:6])
        return RegistrationTask.objects.create(
            name="待登记",
            id_masked=idnumber.mask(id_number),
            id_hash=idnumber.keyed_hash(id_number),
            id_cipher=idnumber.encrypt(id_number),
            category_code="dibao",
            source="civil_affairs",
            division=village,
        )


class TaskPageTests(TaskWorld, ViewTestCases.ListView):
    covers = ("exchange:task_close",)

    def close_url(self, obj: RegistrationTask) -> str:
        return reverse("exchange:task_close", kwargs={"pk": obj.pk})

    def test_close_form_status_for_every_user_and_object(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(self.close_url(self.in_scope[0])))
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.get(self.close_url(obj))
                    if not self.may(key, "task"):
                        self.assertEqual(response.status_code, 403)
                    else:
                        self.assertEqual(response.status_code, 200 if self.can_see(key, obj) else 404)

    def test_close_outside_the_subtree_or_without_the_action_writes_nothing(self) -> None:
        data = {"status": TaskStatus.DISMISSED, "note": "已迁出"}
        for key, obj, status in [
            ("village", self.in_town, 404),
            ("town", self.in_sibling_town, 404),
            ("other_county", self.in_scope[0], 404),
            ("department", self.in_scope[0], 403),
            ("appraiser", self.in_scope[0], 403),
        ]:
            with self.subTest(user=key):
                self.as_user(key)
                before, row = self.snapshot(), self.row(obj)
                response = self.client.post(self.close_url(obj), data)
                self.assertEqual(response.status_code, status)
                self.assertNothingWritten(before, response)
                self.assertEqual(self.row(obj), row)

    def test_the_village_dismisses_its_task_with_one_event(self) -> None:
        obj = self.in_scope[0]
        self.as_user("village")
        since = self.last_event_id()
        response = self.client.post(self.close_url(obj), {"status": TaskStatus.DISMISSED, "note": "已迁出本村"})
        self.assertEqual(response.status_code, 302)
        self.assertOneEvent(since, response, Action.TASK_CLOSED, self.users["village"], obj)
        self.assertEqual(RegistrationTask.objects.get(pk=obj.pk).status, TaskStatus.DISMISSED)
        listed, _count = self.list_all()
        self.assertNotIn(obj.pk, listed)  # open tasks by default
        listed, _count = self.list_all(status=TaskStatus.DISMISSED)
        self.assertEqual(listed, {obj.pk})

    def test_the_division_filter_narrows_within_the_subtree(self) -> None:
        self.as_user("county")
        listed, _count = self.list_all(division=factories.YUYANG_TOWN_2)
        self.assertEqual(listed, {self.in_sibling_town.pk})
        self.as_user("town")
        listed, _count = self.list_all(division=factories.YUYANG_TOWN_2)  # not offered: narrows nothing
        self.assertEqual(listed, {self.in_scope[0].pk, self.in_scope[1].pk, self.in_town.pk})
