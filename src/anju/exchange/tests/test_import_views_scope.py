"""The import pages under the scope/permission helper: every role and level sees the runs of its subtree
(`exchange.view`), uploads only with the importer's roles, downloads an error workbook (whole ID numbers) only as
the uploader or with `registry.view_id`, and confirms only its own preview; out of scope is a 404."""

from __future__ import annotations

import io
import shutil
import tempfile

import xlsxwriter
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from anju.accounts.permissions import has_action
from anju.divisions.models import Division
from anju.exchange.models import ImportRun, RunStatus
from anju.testing.scope import ScopeTestCase, ViewTestCases


def errors_workbook() -> bytes:
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet("错误清单")
    sheet.write_row(0, 0, ["行号", "列", "值", "原因"])
    sheet.write_row(1, 0, [3, "身份证号码", "610802197001010010", "校验码错误"])
    book.close()
    return output.getvalue()


class ImportWorld(ScopeTestCase):
    """A finished preview with an error workbook in every fixture village; files under a temporary media root."""

    __test__ = False
    model = ImportRun
    page_model = "import"

    @classmethod
    def setUpClass(cls) -> None:
        cls.media_root = tempfile.mkdtemp(prefix="anju-test-media-")
        cls.media_override = override_settings(MEDIA_ROOT=cls.media_root, ANJU_JOBS_SYNC=True)
        cls.media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.media_override.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    @classmethod
    def build_in_scope(cls, village: Division, **values) -> ImportRun:
        run = ImportRun(
            division=village,
            kind="households",
            file_name=f"{village.name}农户.xlsx",
            file_sha256="ab" * 32,
            dry_run=True,
            status=RunStatus.DONE,
            total=3,
            created=2,
            invalid=1,
            **values,
        )
        run.errors_file.save("errors.xlsx", ContentFile(errors_workbook()), save=False)
        run.save()
        return run

    def status(self, key: str, obj: ImportRun, allowed: bool) -> int:
        """403 without exchange.view, 404 outside the subtree, else 200 when `allowed` (403 otherwise)."""
        if not self.may(key, "view"):
            return 403
        if not self.can_see(key, obj):
            return 404
        return 200 if allowed else 403


class ImportPageTests(ImportWorld, ViewTestCases.ListView, ViewTestCases.DetailView):
    covers = ("exchange:import_new", "exchange:import_progress", "exchange:import_errors", "exchange:import_confirm")

    def url(self, name: str, obj: ImportRun) -> str:
        return reverse(f"exchange:{name}", kwargs={"pk": obj.pk})

    def test_new_needs_the_importers_roles_and_a_division(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(reverse("exchange:import_new")))
        for key in self.user_keys():
            with self.subTest(user=key):
                self.as_user(key)
                user = self.users[key]
                writes = has_action(user, "registry.add") and has_action(user, "registry.change")
                expected = 200 if writes and user.division_id else 403
                self.assertEqual(self.client.get(reverse("exchange:import_new")).status_code, expected)

    def test_progress_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.get(self.url("import_progress", obj))
                    self.assertEqual(response.status_code, self.status(key, obj, True))

    def test_errors_workbook_only_for_whole_id_roles_or_the_uploader(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(self.url("import_errors", self.in_scope[0])))
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.get(self.url("import_errors", obj))
                    expected = self.status(key, obj, has_action(self.users[key], "registry.view_id"))
                    self.assertEqual(response.status_code, expected)
                    if expected == 200:
                        self.assertIn(b"PK", b"".join(response.streaming_content)[:4])
        own = self.build_in_scope(self.villages["home"], started_by=self.users["village"])
        self.as_user("village")  # no registry.view_id, but it is the village's own file
        self.assertEqual(self.client.get(self.url("import_errors", own)).status_code, 200)
        self.assertEqual(self.client.get(self.url("import_errors", self.in_scope[0])).status_code, 403)

    def test_confirm_refused_for_everyone_but_the_uploader_and_writes_nothing(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.post(self.url("import_confirm", self.in_scope[0]), {"mode": "all"}))
        before = self.snapshot()
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.post(self.url("import_confirm", obj), {"mode": "skip_invalid"})
                    self.assertEqual(response.status_code, self.status(key, obj, False))
        self.assertEqual(self.snapshot(), before)

    def test_detail_and_list_show_the_run(self) -> None:
        self.as_user("county")
        html = self.client.get(self.page_url("detail", self.in_scope[0])).content.decode()
        self.assertIn(self.in_scope[0].file_name, html)
        self.assertIn('id="import-errors-download"', html)  # county managers may see whole IDs
        self.assertIn("校验码错误", html)  # the first errors, read from the workbook
        self.as_user("supervisor")
        html = self.client.get(self.page_url("detail", self.in_scope[0])).content.decode()
        self.assertNotIn('id="import-errors-download"', html)
        self.assertNotIn('id="import-confirm"', html)

    def test_list_queries_do_not_grow_with_rows(self) -> None:
        self.as_user("county")
        counts = []
        for n in (3, 30):
            while ImportRun.objects.filter(division=self.villages["home"]).count() < n:
                self.build_in_scope(self.villages["home"], started_by=self.users["county"])
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(self.page_url("list")).status_code, 200)
            counts.append(len(ctx))
        self.assertEqual(counts[0], counts[1])
