from django.db import migrations


def add_components(apps, schema_editor):
    from anju.inspections.reference import ensure_components

    ensure_components(apps.get_model("inspections", "ComponentSpec"))


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]

    operations = [migrations.RunPython(add_components, migrations.RunPython.noop)]
