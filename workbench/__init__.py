"""Workbench: data-quality and ROI analytics for CRM integration projects.

The pipeline, in the order data flows:

- :mod:`workbench.config`: the project (``workbench.yaml``) and its data dictionary
- :mod:`workbench.store`: the DuckDB warehouse
- :mod:`workbench.ingest`: exports into raw tables with lineage, the load ledger, staging
- :mod:`workbench.pipeline`: all stages in order

Typical use from a notebook::

    import workbench as wb
    project = wb.load_project("demo")
    with wb.open_store(project) as store:
        wb.run_pipeline(project, store)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.config import Project, load_project
    from workbench.dictionary import Dictionary, load_dictionary
    from workbench.errors import ConfigError, IngestError, WarehouseError, WorkbenchError
    from workbench.ingest import IngestReport, LoadResult, list_loads
    from workbench.pipeline import PipelineResult, run_pipeline
    from workbench.store import Store, open_store

__version__ = "0.1.0"

# The public API, imported on first use: `import workbench` (and `workbench --help`) stays
# fast, and `workbench.run_pipeline` still works. (Ingest alone: `workbench.ingest` is the
# stage's package; its function is `workbench.ingest.ingest`.)
_HOMES = {
    "Project": "config",
    "load_project": "config",
    "Dictionary": "dictionary",
    "load_dictionary": "dictionary",
    "ConfigError": "errors",
    "IngestError": "errors",
    "WarehouseError": "errors",
    "WorkbenchError": "errors",
    "IngestReport": "ingest",
    "LoadResult": "ingest",
    "list_loads": "ingest",
    "PipelineResult": "pipeline",
    "run_pipeline": "pipeline",
    "Store": "store",
    "open_store": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(import_module(f"workbench.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "Dictionary",
    "IngestError",
    "IngestReport",
    "LoadResult",
    "PipelineResult",
    "Project",
    "Store",
    "WarehouseError",
    "WorkbenchError",
    "__version__",
    "list_loads",
    "load_dictionary",
    "load_project",
    "open_store",
    "run_pipeline",
]
