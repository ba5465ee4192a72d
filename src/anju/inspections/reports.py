"""The printable appraisal report (鉴定报告): HTML rendered to an A4 PDF by WeasyPrint with the Noto CJK fonts.

Photos are embedded from storage as data URIs, so the PDF needs no URL fetcher and never reaches the network.
"""

from __future__ import annotations

import base64
import mimetypes
from typing import Any

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone

from .grading import GRADE_MEANINGS
from .models import Appraisal

MAX_REPORT_PHOTOS = 6


def _photo_uri(photo: Any) -> str | None:
    name = photo.file.name
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    kind = mimetypes.guess_type(name)[0] or "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def report_context(appraisal: Appraisal) -> dict[str, Any]:
    """What the report shows; `appraisal` comes from `appraisal_get` (components, photos and the division chain)."""
    household = appraisal.house.household
    village = appraisal.division
    photos = []
    for photo in list(appraisal.photos.all())[:MAX_REPORT_PHOTOS]:
        uri = _photo_uri(photo)
        if uri:
            photos.append({"uri": uri, "caption": photo.caption, "taken_at": photo.taken_at})
    return {
        "appraisal": appraisal,
        "house": appraisal.house,
        "household": household,
        "county": village.parent.parent.name if village.parent and village.parent.parent else "",
        "town": village.parent.name if village.parent else "",
        "village": village.name,
        "components": [
            {"name": c.spec.name, "grade": c.grade, "description": c.spec.description(c.grade), "note": c.note}
            for c in appraisal.components.all()
        ],
        "photos": photos,
        "grade_meaning": GRADE_MEANINGS.get(appraisal.final_grade, ""),
        "printed_at": timezone.localtime(),
    }


def appraisal_report_html(appraisal: Appraisal) -> str:
    return render_to_string("inspections/appraisal_report.html", report_context(appraisal))


def appraisal_report_pdf(appraisal: Appraisal) -> bytes:
    from weasyprint import HTML, URLFetcher

    # Only inline `data:` URIs: nothing is read from a file path or the network while printing.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=appraisal_report_html(appraisal), url_fetcher=fetcher).write_pdf()
