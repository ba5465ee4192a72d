"""P13: policy cards as a PDF — one A5 card per page, or two A5 cards per A4 sheet for a batch (cut along the
dashed line). WeasyPrint with the Noto CJK fonts; the QR code is an inline SVG (segno), so printing reads nothing
from files or the network.

The QR code dials the county's published complaint hotline (`tel:`), which is the feedback channel P13 asks the
card to give; a county that has not published one gets 12345, the government service hotline every county has."""

from __future__ import annotations

from dataclasses import dataclass, field

import segno
from django.template.loader import render_to_string
from django.utils import timezone

from anju.complaints.selectors import hotline_for
from anju.divisions.models import Division

from .models import Audience, CardTemplate

#: The nationwide government service hotline (政务服务便民热线): the fallback when a county published none.
FALLBACK_HOTLINE = "12345"
#: Cards per PDF from the web: a village's or a town's list; a county prints town by town.
MAX_CARDS = 400
#: More cards than this print as a background job with its page: WeasyPrint lays out ~50 ms a card, so 40 take
#: about two seconds and 400 about twenty (docs/BENCHMARKS.md "Every page at 1,000,000 households")
DIRECT_CARDS = 40


@dataclass
class Card:
    name: str
    place: str
    hotline: str
    hotline_published: bool
    serial: str
    qr: str = field(default="")


def qr_payload(hotline: str) -> str:
    return "tel:" + "".join(ch for ch in hotline if ch.isdigit() or ch == "-")


def _places(codes: set[str]) -> dict[str, str]:
    """'榆阳区镇川镇某村' for each village code: the division names up the tree, in two queries."""
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes)}
    parents = {
        p.code: p for p in Division.objects.filter(code__in={d.parent_id for d in divisions.values() if d.parent_id})
    }
    grand = {
        g.code: g for g in Division.objects.filter(code__in={p.parent_id for p in parents.values() if p.parent_id})
    }
    out = {}
    for code, d in divisions.items():
        parent = parents.get(d.parent_id)
        top = grand.get(parent.parent_id) if parent else None
        names = [x.name for x in (top, parent, d) if x is not None and x.level in ("county", "town", "village")]
        out[code] = "".join(names)
    return out


def build_cards(audience: str, people: list[tuple[int, str, str]]) -> list[Card]:
    """(pk, name, division code) → cards with the county hotline and its QR code (one query per county)."""
    places = _places({code for _pk, _name, code in people})
    hotlines: dict[str, str] = {}
    cards = []
    prefix = "H" if audience == Audience.HOUSEHOLD else "S"
    for pk, name, code in people:
        county = code[:6]
        if county not in hotlines:
            hotlines[county] = hotline_for(code)
        number = hotlines[county] or FALLBACK_HOTLINE
        card = Card(name, places.get(code, ""), number, bool(hotlines[county]), f"{prefix}{pk:08d}")
        card.qr = segno.make(qr_payload(number), error="m").svg_data_uri(scale=4, border=2)
        cards.append(card)
    return cards


def cards_pdf(template: CardTemplate, cards: list[Card], *, per_sheet: int = 2) -> bytes:
    """`per_sheet` 2: A4 sheets with two A5 cards; 1: one A5 page per card."""
    from weasyprint import HTML, URLFetcher

    html = render_to_string(
        "cards/card_print.html",
        {
            "template": template,
            "paragraphs": [p.strip() for p in template.body.splitlines() if p.strip()],
            "cards": cards,
            "per_sheet": per_sheet,
            "printed_on": timezone.localdate(),
        },
    )
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
