"""P19: the completion deadline of a house appraised dangerous. The one place that computes it."""

from __future__ import annotations

import datetime as dt


def completion_deadline(appraised_on: dt.date) -> dt.date:
    """P19: appraised dangerous in January–June → 30 November of that year; July–December → 31 May next year."""
    if appraised_on.month <= 6:
        return dt.date(appraised_on.year, 11, 30)
    return dt.date(appraised_on.year + 1, 5, 31)
