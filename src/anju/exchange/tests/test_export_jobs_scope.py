"""The export job pages under the scope/permission helper: a job's page, progress and file for every role and level —
the creator, or holders of the kind's read action whose subtree covers the creator's division; anyone else a 404;
a file with whole ID numbers only for its creator (403 for the others who may see the job); the list shows only the
user's own exports."""

from __future__ import annotations

import shutil
import tempfile

from django.core.files.base import ContentFile
from django.test.utils import override_settings
from django.urls import reverse

from anju.accounts.permissions import has_action
from anju.divisions.models import Division
from anju.exchange.models import ExportJob, ExportKind, RunStatus
from anju.testing import factories
from anju.testing.scope import ScopeTestCase


class ExportJobScopeTests(ScopeTestCase):
    model = ExportJob
    covers = (
        "exchange:export_job_list",
        "exchange:export_job_detail",
        "exchange:export_job_progress",
        "exchange:export_job_file",
    )

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
    def build_in_scope(cls, village: Division, **values) -> ExportJob:
        """A finished masked households export whose creator sat in `village` (the account since removed)."""
        job = ExportJob(
            division=village,
            kind=ExportKind.HOUSEHOLDS,
            status=RunStatus.DONE,
            rows_done=3,
            file_name=f"农户与房屋_{village.name}.xlsx",
            **values,
        )
        job.file.save("export.xlsx", ContentFile(b"PK\x03\x04 workbook"), save=False)
        job.save()
        return job

    def url(self, name: str, job: ExportJob) -> str:
        return reverse(f"exchange:{name}", kwargs={"pk": job.pk})

    def may_view(self, key: str, job: ExportJob) -> bool:
        return self.can_see(key, job) and has_action(self.users[key], "registry.view")

    def test_anonymous_redirects_to_login(self) -> None:
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(reverse("exchange:export_job_list")))
        for name in ("export_job_detail", "export_job_progress", "export_job_file"):
            with self.subTest(page=name):
                self.assertLoginRedirect(self.client.get(self.url(name, self.in_scope[0])))

    def test_pages_and_masked_files_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for job in self.fixture_objects():
                expected = 200 if self.may_view(key, job) else 404
                for name in ("export_job_detail", "export_job_progress", "export_job_file"):
                    with self.subTest(user=key, obj=self.scope_code(job), page=name):
                        self.assertEqual(self.client.get(self.url(name, job)).status_code, expected)

    def test_literal_cases(self) -> None:
        for key, job, status in [
            ("county", self.in_sibling_town, 200),
            ("supervisor", self.out_of_scope, 200),
            ("county", self.out_of_scope, 404),
            ("other_county", self.in_scope[0], 404),
            ("town", self.in_sibling_town, 404),
            ("no_role", self.in_scope[0], 404),
            ("no_division", self.in_scope[0], 404),
        ]:
            with self.subTest(user=key):
                self.as_user(key)
                self.assertEqual(self.client.get(self.url("export_job_file", job)).status_code, status)

    def test_a_whole_id_file_only_for_its_creator(self) -> None:
        job = self.build_in_scope(self.villages["home"], full_id=True, created_by=self.users["county"])
        job.division_id = factories.YUYANG  # the creator's division
        job.save()
        for key in self.user_keys():
            with self.subTest(user=key):
                self.as_user(key)
                viewer = key == "county" or self.may_view(key, job)
                self.assertEqual(
                    self.client.get(self.url("export_job_detail", job)).status_code, 200 if viewer else 404
                )
                expected = 200 if key == "county" else 403 if viewer else 404
                self.assertEqual(self.client.get(self.url("export_job_file", job)).status_code, expected)

    def test_the_list_shows_only_my_exports(self) -> None:
        own = {}
        for key, user in self.users.items():
            own[key] = self.build_in_scope(self.villages["home"], created_by=user).pk
        for key in self.user_keys():
            with self.subTest(user=key):
                self.as_user(key)
                response = self.client.get(reverse("exchange:export_job_list"))
                self.assertEqual(response.status_code, 200)
                self.assertEqual([job.pk for job in response.context["page"].object_list], [own[key]])
