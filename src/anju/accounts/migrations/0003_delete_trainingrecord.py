"""P17: staff training lives in the training ledger now; its rows were moved there first."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_trainingrecord"),
        ("training", "0002_from_yearly_records"),
    ]

    operations = [
        migrations.DeleteModel(name="TrainingRecord"),
    ]
