"""Ingest, then stage what was loaded, as validation does first: for tests that read the
staged rows (``stg.<object>``) of what they ingest."""

from __future__ import annotations

from typing import Any

from workbench.config import Project
from workbench.ingest import IngestReport, ingest, stage_changed
from workbench.store import Store


def ingest_staged(project: Project, store: Store, **options: Any) -> IngestReport:
    """:func:`workbench.ingest.ingest`, then :func:`workbench.ingest.stage_changed`."""
    report = ingest(project, store, **options)
    stage_changed(project, store)
    return report
