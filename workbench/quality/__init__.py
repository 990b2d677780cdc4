"""Data quality: metrics per validation run kept as history, diffs, reconciliation."""

from workbench.quality.history import Change, diff, latest_summary, run_ids
from workbench.quality.metrics import METRICS, record_metrics
from workbench.quality.reconcile import reconcile

__all__ = [
    "METRICS",
    "Change",
    "diff",
    "latest_summary",
    "reconcile",
    "record_metrics",
    "run_ids",
]
