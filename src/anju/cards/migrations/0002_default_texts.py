"""Version 1 of both card texts (anju.cards.reference)."""

from django.db import migrations


def create(apps, schema_editor):
    from anju.cards.reference import ensure_templates

    ensure_templates(apps.get_model("cards", "CardTemplate"))


class Migration(migrations.Migration):
    dependencies = [("cards", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
