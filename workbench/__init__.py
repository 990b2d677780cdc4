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

from workbench.config import Project, load_project
from workbench.dictionary import Dictionary, load_dictionary
from workbench.errors import ConfigError, IngestError, WarehouseError, WorkbenchError
from workbench.ingest import IngestReport, LoadResult, ingest, list_loads
from workbench.pipeline import PipelineResult, run_pipeline
from workbench.store import Store, open_store

__version__ = "0.1.0"

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
    "ingest",
    "list_loads",
    "load_dictionary",
    "load_project",
    "open_store",
    "run_pipeline",
]
