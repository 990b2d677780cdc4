"""The context every report notebook starts from: project, period, a read-only warehouse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from workbench.config import Project, load_project
from workbench.dictionary import FieldType
from workbench.kpi import periods
from workbench.privacy import check_unmask, mask_value, masker
from workbench.store import Store, open_store


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

    def mask(self, frame: pl.DataFrame, obj: str = "contacts") -> pl.DataFrame:
        """The frame with the PII columns of ``obj`` masked (unless the run is unmasked)."""
        if not self.masked:
            return frame
        rules = masker(self.project.dictionary.object(obj))
        return frame.with_columns(
            pl.col(c).map_elements(_masking(*rules[c]), return_dtype=pl.String)
            for c in frame.columns
            if c in rules
        )


def _masking(pii: str, kind: FieldType) -> Callable[[object], object]:
    return lambda value: mask_value(value, pii, kind)


_OPEN: list[Store] = []


def close_all() -> None:
    """Close the warehouse connections of earlier reports run in this kernel (a read-only
    connection would stop the runner from recording the run)."""
    while _OPEN:
        _OPEN.pop().close()


def open_context(project: str | Path, period: str, *, unmask: bool = False) -> ReportContext:
    """Load the project and open its warehouse read-only for a report of ``period``."""
    close_all()
    loaded = load_project(project)
    check_unmask(loaded, unmask)
    _, start, end = periods.bounds(period)
    store = open_store(loaded, read_only=True)
    _OPEN.append(store)
    return ReportContext(loaded, period, start, end, not unmask, store)
