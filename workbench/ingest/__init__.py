"""Ingest: read exports into raw tables with lineage, keep the load ledger, build staging."""

from workbench.ingest.drift import Change, LoggedChange, list_schema_changes
from workbench.ingest.ledger import LoadRecord, list_loads
from workbench.ingest.loader import IngestReport, LoadResult, ingest, load_file, restage_changed

__all__ = [
    "Change",
    "IngestReport",
    "LoadRecord",
    "LoadResult",
    "LoggedChange",
    "ingest",
    "list_loads",
    "list_schema_changes",
    "load_file",
    "restage_changed",
]
