"""The shared world of the idle list's scope tests: a listing in every fixture village, and spare C houses (not
listed) in each, so every successful "list this house" has a house of its own."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any, ClassVar

from django.db.models import Exists, OuterRef
from django.test import override_settings

from anju.divisions.models import Division
from anju.idle.models import IdleHouse
from anju.registry.models import House
from anju.testing.scope import ScopeTestCase

from .builders import dangerous_house, listing

SPARE_HOUSES = 5


class IdleWorld(ScopeTestCase):
    """Listing and changing are `idle.manage` (admin, county, town, village staff); reading is `idle.view`."""

    __test__ = False
    model = IdleHouse
    api_basename = "idlehouses"
    VERBS: ClassVar[dict[str, str]] = {"add": "manage", "change": "manage"}

    @classmethod
    def setUpClass(cls) -> None:
        cls.media_root = tempfile.mkdtemp(prefix="anju-test-media-")
        cls.media_override = override_settings(MEDIA_ROOT=cls.media_root)
        cls.media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.media_override.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for village in cls.villages.values():
            for _ in range(SPARE_HOUSES):
                dangerous_house(village)

    @classmethod
    def build_in_scope(cls, village: Division) -> IdleHouse:
        return listing(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))

    def spare_house(self, near: Any) -> House:
        """A C house of `near`'s village not on the list."""
        listed = IdleHouse.objects.filter(house=OuterRef("pk"), ended_on__isnull=True)
        return House.objects.filter(~Exists(listed), division_id=near.division_id, grade="C").order_by("id").first()
