"""Project-wide fixtures: every test database starts with the Yulin division tree."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _base_divisions(request):
    """Load the bundled Yulin divisions into each test's database (cheap: 197 rows)."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    from anju.divisions.models import Division
    from anju.divisions.services import division_load_base

    if not Division.objects.exists():
        division_load_base()
