from django.db import migrations


def add_categories(apps, schema_editor):
    from anju.registry.reference import ensure_categories

    ensure_categories(apps.get_model("registry", "TargetCategory"))


def add_name_prefix_index(apps, schema_editor):
    """Name search is a prefix match; on PostgreSQL only a pattern-ops index serves LIKE 'x%'."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS household_name_prefix_idx "
            "ON registry_household (head_name varchar_pattern_ops)"
        )


def drop_name_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS household_name_prefix_idx")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(add_categories, migrations.RunPython.noop),
        migrations.RunPython(add_name_prefix_index, drop_name_prefix_index),
    ]
