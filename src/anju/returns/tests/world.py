"""The shared world of P10's scope tests: a returned household followed in every fixture village, and spare
households (not followed) in each, so every successful "start tracking" has a household of its own."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Exists, OuterRef

from anju.divisions.models import Division
from anju.registry.models import Household
from anju.returns.models import OPEN_STATES, Tracking
from anju.testing import factories
from anju.testing.scope import ScopeTestCase

from .builders import returned

SPARE_HOUSEHOLDS = 5


class TrackingWorld(ScopeTestCase):
    """Tracking is `returns.track` (admin, county, town, village staff); reading is `returns.view`."""

    __test__ = False
    model = Tracking
    api_basename = "trackings"
    VERBS: ClassVar[dict[str, str]] = {"add": "track", "change": "track"}

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for village in cls.villages.values():
            for _ in range(SPARE_HOUSEHOLDS):
                factories.household(village)

    @classmethod
    def build_in_scope(cls, village: Division) -> Tracking:
        return returned(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))

    def spare_household(self, near: Any) -> Household:
        """A household of `near`'s village not followed yet."""
        followed = Tracking.objects.filter(household=OuterRef("pk"), state__in=OPEN_STATES)
        return Household.objects.filter(~Exists(followed), division_id=near.division_id).order_by("id").first()
