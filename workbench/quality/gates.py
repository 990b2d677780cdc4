"""Blocking data-quality gates from ``workbench.yaml`` (``quality.blocking``)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.config import Project
from workbench.quality.metrics import metric_info
from workbench.store import Store


@dataclass(frozen=True)
class Breach:
    """A metric of one source (and field) beyond its blocking limit."""

    object: str
    source: str
    field: str
    metric: str
    value: float
    limit: float

    def describe(self) -> str:
        where = f"{self.object}/{self.source}" + (f".{self.field}" if self.field else "")
        side = "below" if metric_info(self.metric).higher_is_better else "above"
        return f"{where}: {self.metric} = {self.value:.4g}, {side} the limit {self.limit:g}"


def breaches(project: Project, store: Store, run_id: int) -> list[Breach]:
    """Every metric of the run that breaks a configured blocking limit."""
    found: list[Breach] = []
    for metric, limit in project.config.quality.blocking.items():
        higher = metric_info(metric).higher_is_better
        rows = store.rows(
            "SELECT object, source, field, metric, value FROM dq.metrics "
            "WHERE run_id = $r AND (metric = $m OR ($m = 'validity' AND metric LIKE 'validity:%'))"
            " AND (CASE WHEN $higher THEN value < $limit ELSE value > $limit END) "
            "ORDER BY object, source, field",
            {"r": run_id, "m": metric, "limit": limit, "higher": higher},
        )
        found.extend(Breach(r[0], r[1], r[2], r[3], float(r[4]), limit) for r in rows)
    return found
