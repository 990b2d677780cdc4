"""Content packs: what Workbench knows about one kind of project, kept apart from the engine.

The engine (ingest, validation, resolution, KPIs, ROI, reports) knows nothing of CRMs. A
pack brings the canonical data dictionary, the KPIs, and a few declarations the engine
reads: the object holding people, the integration's event log, two ledgers to reconcile
and where ROI volumes are measured. ``workbench.yaml`` picks one with ``pack:`` (default
``crm``; ``none``: the project's own dictionary and KPIs only). Reports show a section
only when the project's data has what its pack entry needs, and say why otherwise.

    >>> from workbench.packs import load_pack
    >>> load_pack("crm").person_object
    'contacts'
"""

from workbench.packs.model import (
    NONE,
    AccountKey,
    EventLog,
    Ledger,
    Pack,
    Reconciliation,
    RoiSources,
    RowFilter,
    Volume,
    load_pack,
    pack_names,
)

DEFAULT_PACK = "crm"

__all__ = [
    "DEFAULT_PACK",
    "NONE",
    "AccountKey",
    "EventLog",
    "Ledger",
    "Pack",
    "Reconciliation",
    "RoiSources",
    "RowFilter",
    "Volume",
    "load_pack",
    "pack_names",
]
