"""The whole pipeline, stage by stage, in the order data flows: export to report.

Each stage reads the tables of the stage before it and writes its own. Today the pipeline
is ingest (raw, ledger, staging); later stages append themselves here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workbench.config import Project
from workbench.ingest import IngestReport, ingest
from workbench.store import Store


@dataclass(frozen=True)
class PipelineResult:
    """What each stage of a pipeline run produced."""

    ingest: IngestReport


def run_pipeline(
    project: Project, store: Store, *, on_step: Callable[[str], None] | None = None
) -> PipelineResult:
    """Run every stage of the pipeline on the project's configured sources."""
    report = ingest(project, store, on_file=on_step)
    return PipelineResult(ingest=report)
