"""The warehouse's fixed-shape tables: one registry of numbered migrations, applied when a
writable :class:`~workbench.store.Store` opens.

:mod:`.registry` lists the migrations (each a list of DDL statements and the sequences it
starts), :mod:`.migrate` applies the pending ones and records them in ``meta.schema_version``.
Tables whose shape follows the exports and the dictionary (``raw.<source>``,
``stg.<object>``, ``core.<object>``, golden records) are made by their stages, not here.
Stages take run ids from the sequences with :func:`next_id` (``LOADS``, ``KPI_RUNS``, ...).
"""

from workbench.schema.migrate import (
    next_id,
    realign_sequences,
    recreate,
    schema_version,
    upgrade,
)
from workbench.schema.registry import (
    KPI_RUNS,
    LATEST,
    LOADS,
    MIGRATIONS,
    REPORT_RUNS,
    RESOLVE_RUNS,
    ROI_RUNS,
    SEQUENCES,
    VALIDATION_RUNS,
    Migration,
    SequenceSpec,
)

__all__ = [
    "KPI_RUNS",
    "LATEST",
    "LOADS",
    "MIGRATIONS",
    "REPORT_RUNS",
    "RESOLVE_RUNS",
    "ROI_RUNS",
    "SEQUENCES",
    "VALIDATION_RUNS",
    "Migration",
    "SequenceSpec",
    "next_id",
    "realign_sequences",
    "recreate",
    "schema_version",
    "upgrade",
]
