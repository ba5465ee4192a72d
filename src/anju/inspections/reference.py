"""Default component lists of the grading engine (shared/data/appraisal-components.md), as data."""

from __future__ import annotations

import csv
from pathlib import Path

COMPONENTS_FILE = Path(__file__).parent / "data" / "appraisal-components.csv"


def ensure_components(model) -> int:
    """Create the default components that are missing; rows the city has edited are left alone."""
    existing = set(model.objects.values_list("code", flat=True))
    with COMPONENTS_FILE.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["code"] not in existing]
    model.objects.bulk_create(
        [
            model(
                code=row["code"],
                name=row["name"],
                structures=row["structures"].split(";"),
                sort_order=int(row["sort_order"]),
                desc_a=row["desc_a"],
                desc_b=row["desc_b"],
                desc_c=row["desc_c"],
                desc_d=row["desc_d"],
                d_means_dangerous_site=row["d_means_dangerous_site"] == "1",
                is_local_default=row["is_local_default"] == "1",
            )
            for row in rows
        ]
    )
    return len(rows)
