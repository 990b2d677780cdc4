"""Human review: uncertain pairs form a queue; decisions persist and win over the model.

A pair whose match probability falls in ``resolve.review_band`` is queued for review.
A decision (``match`` or ``no_match``, who, when, why) is kept in ``id.review_decisions``
for good; every later run links ``match`` pairs and never links ``no_match`` pairs
directly, whatever the model says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import polars as pl

from workbench import audit
from workbench.errors import WorkbenchError
from workbench.record_ids import split_unique_id, unique_id_sql
from workbench.store import Store

if TYPE_CHECKING:
    from workbench.config import Project

Decision = Literal["match", "no_match"]


def ordered(a: str, b: str) -> tuple[str, str]:
    """A pair's two ids in a fixed order, so (a, b) and (b, a) are one pair."""
    return (a, b) if a <= b else (b, a)


def record_decision(
    store: Store,
    obj: str,
    left: str,
    right: str,
    decision: Decision,
    *,
    project: Project,
    reviewer: str | None = None,
    note: str | None = None,
) -> None:
    """Keep a reviewer's decision on a pair; the newest decision on a pair counts (audited)."""
    if left == right:
        raise WorkbenchError("A record cannot be reviewed against itself.", fix="Give two ids.")
    known = (
        store.scalar(
            "SELECT count(*) FROM id.members WHERE object = $o AND unique_id IN ($l, $r)",
            {"o": obj, "l": left, "r": right},
        )
        if store.table_exists("id", "members")
        else 0
    )
    if known != 2:
        raise WorkbenchError(
            f"{left} and {right} are not both resolved {obj} records.",
            fix="Use ids as `workbench review` lists them (source:record_id).",
        )
    lo, hi = ordered(left, right)
    with store.transaction():
        store.execute(
            "INSERT INTO id.review_decisions VALUES ($o, $l, $r, $d, $who, $at, $note)",
            {
                "o": obj,
                "l": lo,
                "r": hi,
                "d": decision,
                "who": reviewer,
                "at": datetime.now(UTC),
                "note": note,
            },
        )
        audit.record(
            store,
            "review_decision",
            {"object": obj, "pair": [lo, hi], "decision": decision},
            project=project,
        )


def decisions(store: Store, obj: str) -> pl.DataFrame:
    """The newest decision per pair: unique_id_l, unique_id_r, decision."""
    return store.frame(
        """SELECT unique_id_l, unique_id_r, decision FROM id.review_decisions
           WHERE object = $o
           QUALIFY row_number() OVER (PARTITION BY unique_id_l, unique_id_r
                                      ORDER BY decided_at DESC) = 1""",
        {"o": obj},
    )


def apply_decisions(edges: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """Edges (unique_id_l, unique_id_r, match_probability) after the reviewers' decisions:
    ``no_match`` pairs removed, ``match`` pairs added with probability 1."""
    norm = edges.with_columns(
        pl.min_horizontal("unique_id_l", "unique_id_r").alias("unique_id_l"),
        pl.max_horizontal("unique_id_l", "unique_id_r").alias("unique_id_r"),
    )
    rejected = decided.filter(pl.col("decision") == "no_match").select("unique_id_l", "unique_id_r")
    kept = norm.join(rejected, on=["unique_id_l", "unique_id_r"], how="anti")
    accepted = decided.filter(pl.col("decision") == "match").select(
        "unique_id_l", "unique_id_r", pl.lit(1.0).alias("match_probability")
    )
    return (
        pl.concat([kept.select(accepted.columns), accepted])
        .unique(["unique_id_l", "unique_id_r"], keep="last")
        .sort("unique_id_l", "unique_id_r")
    )


def pending(store: Store, obj: str, limit: int = 50) -> pl.DataFrame:
    """Queued pairs without a decision, most uncertain (closest to 0.5) first."""
    if not store.table_exists("id", "review_queue"):
        raise WorkbenchError("Nothing has been resolved yet.", fix="Run `workbench resolve`.")
    return store.frame(
        """SELECT q.unique_id_l, q.unique_id_r, q.match_probability, q.match_weight
           FROM id.review_queue q
           ANTI JOIN id.review_decisions d
             ON d.object = q.object AND d.unique_id_l = q.unique_id_l
            AND d.unique_id_r = q.unique_id_r
           WHERE q.object = $o
           ORDER BY abs(q.match_probability - 0.5), q.unique_id_l, q.unique_id_r
           LIMIT $n""",
        {"o": obj, "n": limit},
    )


def side_by_side(store: Store, obj: str, queue: pl.DataFrame) -> list[dict]:
    """For each queued pair, both core records' identity fields next to each other."""
    from workbench.store import table

    if queue.height == 0:
        return []
    ids = sorted(set(queue["unique_id_l"].to_list()) | set(queue["unique_id_r"].to_list()))
    columns = [c for c in store.columns("core", obj) if not c.startswith("_")]
    keys = [split_unique_id(i) for i in ids]
    # keyed on the stored columns, not on the id built for every record (a scan of all)
    rows = store.frame(
        f"SELECT {unique_id_sql()} AS unique_id, * FROM {table('core', obj)} "
        "WHERE list_contains($sources::VARCHAR[], _source) "
        "AND list_contains($records::VARCHAR[], CAST(record_id AS VARCHAR))",
        {"sources": sorted({s for s, _ in keys}), "records": sorted({r for _, r in keys})},
    )
    by_id = {r["unique_id"]: r for r in rows.iter_rows(named=True)}
    out = []
    for left, right, probability, _ in queue.iter_rows():
        a, b = by_id.get(left, {}), by_id.get(right, {})
        fields = {
            c: (_text(a.get(c)), _text(b.get(c)))
            for c in columns
            if a.get(c) is not None or b.get(c) is not None
        }
        out.append({"left": left, "right": right, "probability": probability, "fields": fields})
    return out


def _text(value: object) -> str | None:
    return None if value is None else str(value)
