"""Project-wide fixtures: every test database starts with the Yulin division tree and the reference data."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _base_data(request):
    """Load the bundled Yulin divisions (197 rows) and put back the reference data that data migrations
    created (target categories, appraisal components): a transactional test's flush empties those tables."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    from anju.divisions.models import Division
    from anju.divisions.services import division_load_base
    from anju.inspections.models import ComponentSpec
    from anju.inspections.reference import ensure_components
    from anju.registry.models import TargetCategory
    from anju.registry.reference import ensure_categories

    if not Division.objects.exists():
        division_load_base()
    if not TargetCategory.objects.exists():
        ensure_categories(TargetCategory)
    if not ComponentSpec.objects.exists():
        ensure_components(ComponentSpec)
