"""The data-quality metrics: what each means and which way is better.

Declared here, with the configuration, so that ``quality.blocking`` in ``workbench.yaml`` is
checked by name without importing the quality stage; :mod:`workbench.quality.metrics`
computes them. The engine's metrics are listed here; a pack adds the failure rate of its
event log (``event_log.metric`` in its pack.yaml), registered for every shipped pack so that
a metric's meaning never depends on which project reads the history.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.packs import load_pack, pack_names


@dataclass(frozen=True)
class Metric:
    """What a metric means and which way is better."""

    title: str
    higher_is_better: bool
    unit: str = "share"


ENGINE_METRICS: dict[str, Metric] = {
    "rows_staged": Metric("Rows staged", True, "rows"),
    "rows_valid": Metric("Rows valid", True, "rows"),
    "rows_quarantined": Metric("Rows quarantined", False, "rows"),
    "rows_read": Metric("Rows read from the source's current exports (ledger)", True, "rows"),
    "rows_rejected": Metric("Rows ingest could not read", False, "rows"),
    "reject_rate": Metric("Share of rows read that ingest could not read", False),
    "rows_suppressed": Metric("Rows of erased people dropped at ingest", False, "rows"),
    "quarantine_rate": Metric("Share of rows quarantined", False),
    "completeness": Metric("Share of rows with a value", True),
    "validity": Metric("Share of rows passing the check", True),
    "key_duplicate_rate": Metric("Share of rows whose id occurs more than once", False),
    "exact_duplicate_rate": Metric("Share of rows repeating another row exactly", False),
    "missing_mandatory": Metric("Rows missing a required field", False, "rows"),
    "missing_mandatory_rate": Metric("Share of rows missing a required field", False),
    "freshness_hours": Metric("Age of the newest valid, not future time stamp", False, "hours"),
    "referential_integrity": Metric("Share of references that resolve", True),
    "phone_parse_rate": Metric("Share of phone numbers readable as E.164", True),
    # of a field with `consent: true`, over the source's valid records (quality/consent.py)
    "consent_coverage": Metric("Share of valid records with a recorded consent decision", True),
    "consent_granted_rate": Metric("Share of valid records with consent granted", True),
}


def _pack_metrics() -> dict[str, Metric]:
    """The event-log failure rates the shipped packs declare."""
    found: dict[str, Metric] = {}
    for name in pack_names():
        log = load_pack(name).event_log
        if log is not None:
            found[log.metric] = Metric(log.metric_title, False)
    return found


METRICS: dict[str, Metric] = {**ENGINE_METRICS, **_pack_metrics()}
