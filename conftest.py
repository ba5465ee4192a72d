"""Project-wide fixtures: every test database starts with the Yulin division tree and the reference data."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["anju.testing.processes"]  # subprocess_env: `anju` subprocesses on a database of their own


def _sqlite_readers_do_not_lock(sender, connection, **kwargs) -> None:
    """The SQLite test database is in memory with a shared cache, where a reader's table lock makes a concurrent
    writer fail at once ("database table is locked") instead of waiting as the WAL file of `make run` lets it. A page
    polling a background job's progress is such a reader: read uncommitted keeps readers lock-free (tests only)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = true")


def pytest_configure(config) -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(_sqlite_readers_do_not_lock)


@pytest.fixture(autouse=True)
def _base_data(request):
    """Load the bundled Yulin divisions (197 rows) and put back the reference data that data migrations
    created (target categories, appraisal components): a transactional test's flush empties those tables."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    from anju.cards.models import CardTemplate
    from anju.cards.reference import ensure_templates
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
    if not CardTemplate.objects.exists():
        ensure_templates(CardTemplate)
