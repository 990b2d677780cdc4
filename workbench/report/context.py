"""The context every report notebook starts from: project, period, the warehouse to read
(never held while the notebook is idle)."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from workbench import audit
from workbench.config import Project, load_project
from workbench.kpi import periods
from workbench.privacy import check_unmask, mask_frame
from workbench.store import BriefStore, Store, brief_store

UNMASK_WAIT = 10.0  # seconds an unmasked context waits to write its audit entry


@dataclass
class ReportContext:
    """What a report reads: the project, the period it is about, masking, the warehouse."""

    project: Project
    period: str
    start: datetime
    end: datetime
    masked: bool
    store: Store
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict)

    def cached(self, key: str, read: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """``read()`` once per report run (several sections share e.g. the memberships)."""
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    @property
    def resolved_object(self) -> str:
        """The object the duplicates report covers: the pack's person object if it has been
        resolved, else the object resolved last, else the pack's person object (or
        ``records`` for a pack without one, which nothing resolves)."""
        person = self.project.pack.person_object
        objects = self.cached(
            "resolved objects",
            lambda: self.store.frame(
                "SELECT object FROM id.runs GROUP BY object ORDER BY max(run_id) DESC"
            ),
        )["object"].to_list()
        if person in objects or not objects:
            return person or "records"
        return str(objects[0])

    def shown(self, frame: pl.DataFrame, obj: str) -> pl.DataFrame:
        """Records of ``obj`` as the report shows them: their personal columns masked
        (:func:`workbench.privacy.mask_frame`) unless the run is unmasked."""
        if not self.masked:
            return frame
        return mask_frame(frame, self.project.dictionary.object(obj))


def open_context(project: str | Path, period: str, *, unmask: bool = False) -> ReportContext:
    """Load the project for a report of ``period``; its warehouse is read without being
    held (see :class:`~workbench.store.BriefStore`).

    In a Jupyter kernel the reads of one cell share a connection, closed when the cell ends,
    so an open, idle report notebook never keeps ``workbench resolve``, ``review decide`` or
    the review widget out. Elsewhere each read opens and closes the warehouse; wrap a burst
    of reads in ``with ctx.store.held():`` to share one connection.

    ``unmask`` is refused unless the project allows it (``privacy.allow_unmask``); when
    allowed, an ``unmask`` entry is written to the audit trail before anything is read, so
    a notebook run unmasked leaves a trace whoever starts it (Jupyter, papermill or
    ``workbench report``). If another writer keeps the warehouse for ``UNMASK_WAIT``
    seconds, nothing is shown (WarehouseError).
    """
    loaded = load_project(project)
    check_unmask(loaded, unmask)
    _, start, end = periods.bounds(period)
    store = brief_store(loaded)
    if unmask:
        audit.record_now(loaded, "unmask", unmask_details(period), wait=UNMASK_WAIT)
    _share_per_cell(store)
    return ReportContext(loaded, period, start, end, not unmask, store)


def unmask_details(period: str) -> dict[str, Any]:
    """What the audit entry of an unmasked report context says: the period, and the
    notebook when Jupyter names it (``workbench report`` adds its own ``report`` entry)."""
    details: dict[str, Any] = {"view": "report notebook", "period": period}
    if os.environ.get("JPY_SESSION_NAME"):
        details["notebook"] = Path(os.environ["JPY_SESSION_NAME"]).name
    return details


# the report stores of this process, and the held() blocks of the cell now running
_STORES: weakref.WeakSet[BriefStore] = weakref.WeakSet()
_CELL = ExitStack()


def _share_per_cell(store: BriefStore) -> None:
    """Inside IPython: hold ``store`` from the start to the end of every cell run from now on
    (its connection opens at the cell's first read)."""
    shell = _ipython()
    if shell is None:
        return
    _STORES.add(store)
    for event, callback in (("pre_execute", _cell_starts), ("post_execute", _cell_ends)):
        if callback not in shell.events.callbacks[event]:
            shell.events.register(event, callback)


def _cell_starts() -> None:
    _CELL.close()  # a cell whose end was not seen
    for store in list(_STORES):
        _CELL.enter_context(store.held())


def _cell_ends() -> None:
    _CELL.close()


def _ipython() -> Any:
    """The running IPython shell (a Jupyter kernel's), or None."""
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is a dependency of the report runner; not of every use
        return None
    return get_ipython()
