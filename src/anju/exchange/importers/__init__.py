"""One importer per kind of file, all run by `exchange.pipeline.run_import` (see its docstring for the protocol)."""

from __future__ import annotations

from .divisions import DivisionsImporter
from .households import HouseholdsImporter
from .problems import ProblemsImporter

IMPORTERS = {
    HouseholdsImporter.kind: HouseholdsImporter,
    DivisionsImporter.kind: DivisionsImporter,
    ProblemsImporter.kind: ProblemsImporter,
}
