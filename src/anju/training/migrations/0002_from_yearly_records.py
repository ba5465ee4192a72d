"""Move the yearly training records (accounts.TrainingRecord, cases.CraftsmanTraining) into the ledger.

Each distinct (organiser, day, topic) becomes one session marked `is_migrated`; the organiser is the person's
county (the city for city staff). A record without a day is dated today in the current year and 31 December in
a past one, so it still counts for its year and never lies in the future.
"""

import datetime as dt

from django.db import migrations


def _organiser(code):
    county = code[:6] + "000000"
    return code[:4] + "00000000" if county[4:6] == "00" else county


def forward(apps, schema_editor):
    Session = apps.get_model("training", "Session")
    Attendance = apps.get_model("training", "Attendance")
    TrainingRecord = apps.get_model("accounts", "TrainingRecord")
    CraftsmanTraining = apps.get_model("cases", "CraftsmanTraining")
    today = dt.date.today()
    sessions = {}

    def session_for(code, year, day, topic):
        held_on = day or (today if year == today.year else dt.date(year, 12, 31))
        topic = (topic or "").strip() or f"{year}年度培训（原年度培训记录）"
        key = (_organiser(code), held_on, topic)
        if key not in sessions:
            sessions[key] = Session.objects.create(
                division_id=key[0], held_on=held_on, topic=topic, kind="general", is_migrated=True
            )
        return sessions[key]

    for record in TrainingRecord.objects.select_related("user").order_by("id").iterator():
        code = record.user.division_id
        if not code:
            continue
        session = session_for(code, record.year, record.trained_on, record.topic)
        Attendance.objects.get_or_create(session=session, user_id=record.user_id, defaults={"signed_in": True})
    for record in CraftsmanTraining.objects.select_related("craftsman").order_by("id").iterator():
        session = session_for(record.craftsman.division_id, record.year, record.trained_on, record.topic)
        Attendance.objects.get_or_create(
            session=session, craftsman_id=record.craftsman_id, defaults={"signed_in": True}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0001_initial"),
        ("accounts", "0002_trainingrecord"),
        ("cases", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
