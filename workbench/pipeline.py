"""The whole pipeline, stage by stage, in the order data flows: export to report.

Each stage reads the tables of the stage before it and writes its own:
ingest (raw, ledger, staging) -> validate (standardize, core, quarantine) -> data-quality
metrics, reconciliation and gates -> identity resolution of people (the pack's person
object). KPIs, ROI and reports read the result on demand (``workbench kpi``, ``roi``,
``report``; ``make demo`` renders the reports after ``workbench demo`` ran this pipeline).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.config import Project
from workbench.ingest import IngestReport, Staged, ingest, stage_changed
from workbench.quality import reconcile, record_metrics
from workbench.quality.gates import Breach, breaches
from workbench.resolve import ResolveReport, resolve
from workbench.store import Store
from workbench.validate import ValidationReport, validate

Step = Callable[[str], None]


@dataclass(frozen=True)
class QualityResult:
    """A validation run with its metrics recorded and its gates checked."""

    validation: ValidationReport
    breaches: list[Breach]
    staged: list[Staged] = field(default_factory=list)  # sources staged first, and why


@dataclass(frozen=True)
class PipelineResult:
    """What each stage of a pipeline run produced."""

    ingest: IngestReport
    quality: QualityResult
    resolution: ResolveReport | None


def run_quality(project: Project, store: Store, *, on_step: Step | None = None) -> QualityResult:
    """Stage, validate every staged object, record the data-quality metrics, check the gates.

    A source with new loads, or whose mapping changed in workbench.yaml since it was staged,
    is staged first (from its loaded data, without reading files), so validation checks what
    the loads and the configuration say now. Validation, its metrics and reconciliation
    commit together.
    """
    if on_step:
        on_step("stage loaded data")
    staged = stage_changed(project, store)
    # one transaction: a run killed before its metrics and reconciliation are written
    # leaves no validation run, no audit entry and no half-written data-quality run
    with store.transaction():
        report = validate(project, store, on_step=on_step)
        if on_step:
            on_step("data-quality metrics")
        record_metrics(project, store, report.run_id)
        reconcile(store, report.run_id, project.pack.reconciliation)
    found = breaches(project, store, report.run_id)
    return QualityResult(validation=report, breaches=found, staged=staged)


def run_pipeline(project: Project, store: Store, *, on_step: Step | None = None) -> PipelineResult:
    """Run every stage of the pipeline on the project's configured sources."""
    loaded = ingest(project, store, on_file=on_step)
    quality = run_quality(project, store, on_step=on_step)
    resolution = None
    person = project.pack.person_object
    if person in project.dictionary.objects and store.table_exists("core", str(person)):
        resolution = resolve(project, store, object_name=person, on_step=on_step)
    return PipelineResult(ingest=loaded, quality=quality, resolution=resolution)
