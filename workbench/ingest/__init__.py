"""Ingest: read exports into raw tables with lineage and keep the load ledger; stage the
loaded rows onto the dictionary's fields for validation."""

from workbench.ingest.drift import Change, LoggedChange, list_schema_changes
from workbench.ingest.ledger import LoadRecord, list_loads
from workbench.ingest.loader import IngestReport, LoadResult, ingest, load_file
from workbench.ingest.stage import Staged, stage_changed

__all__ = [
    "Change",
    "IngestReport",
    "LoadRecord",
    "LoadResult",
    "LoggedChange",
    "Staged",
    "ingest",
    "list_loads",
    "list_schema_changes",
    "load_file",
    "stage_changed",
]
