"""Builders for the idle list's tests: real houses and listings through the real services."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anju.divisions.models import Division
from anju.idle import services
from anju.idle.models import IdleHouse
from anju.registry.models import House
from anju.testing import factories

LISTED = dt.date(2025, 3, 1)


def dangerous_house(village: Division, grade: str = "C") -> House:
    return factories.house(factories.household(village), grade=grade, graded_on=dt.date(2025, 1, 10))


def listing(village: Division, *, listed_on: dt.date = LISTED, **values: Any) -> IdleHouse:
    """A C house of a new household in `village`, listed by the county on `listed_on` with a named watcher."""
    house = dangerous_house(village)
    data = {"watcher_name": "李巡查", "watcher_phone": "13800000000"} | values
    return services.idle_list(actor=factories._system(village), house=house, listed_on=listed_on, **data)


def png(colour: str = "orange") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, "PNG")
    return SimpleUploadedFile("sign.png", buffer.getvalue(), content_type="image/png")
