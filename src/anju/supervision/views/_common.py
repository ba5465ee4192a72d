"""What the supervision pages share: the counties a user may pick, and serving stored files."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404

from anju.divisions.models import Division, Level

PAGE_SIZE = 50


def counties_of(actor: Any) -> list[Division]:
    return list(Division.objects.visible_to(actor).filter(level=Level.COUNTY).order_by("code"))


def serve(file: Any) -> FileResponse:
    """A stored document or photo, as a download, never sniffed by the browser."""
    if not file:
        raise Http404
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=file.name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
