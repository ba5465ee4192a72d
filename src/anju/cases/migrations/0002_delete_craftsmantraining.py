"""P17: craftsmen's training lives in the training ledger now; its rows were moved there first."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("training", "0002_from_yearly_records"),
    ]

    operations = [
        migrations.DeleteModel(name="CraftsmanTraining"),
    ]
