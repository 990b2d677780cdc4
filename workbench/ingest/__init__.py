"""Ingest: read exports into raw tables with lineage, keep the load ledger, build staging."""

from workbench.ingest.ledger import LoadRecord, list_loads
from workbench.ingest.loader import IngestReport, LoadResult, ingest, load_file, restage_changed

__all__ = [
    "IngestReport",
    "LoadRecord",
    "LoadResult",
    "ingest",
    "list_loads",
    "load_file",
    "restage_changed",
]
