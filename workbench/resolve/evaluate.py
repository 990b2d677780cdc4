"""How good and how big a resolution is: duplicate rates, cross-system coverage, cluster sizes,
threshold sensitivity and, where a ground truth exists, pairwise precision, recall and F1.

Every measure is one DuckDB query over two relations, so it runs next to the data whether the
resolution is in the warehouse (:meth:`Evaluation.of_store`, used by the duplicates report and
``workbench evaluate``) or in polars frames (:meth:`Evaluation.of_frames`, used by tests and
benchmarks):

- ``members``: unique_id, source, entity_id; one row per record;
- ``pairs``: unique_id_l, unique_id_r, match_probability; the scored candidate pairs.

Pairwise accuracy counts pairs without listing them: records in the same predicted entity and
the same true person are true positives, ``n * (n - 1) / 2`` per (entity, person) group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
from scipy.sparse import coo_array
from scipy.sparse.csgraph import minimum_spanning_tree

from workbench.errors import WorkbenchError
from workbench.record_ids import unique_id_sql
from workbench.store import Store

PAIR_INPUT = ["unique_id_l", "unique_id_r", "match_probability"]
MEMBERS_SQL = "SELECT unique_id, source, entity_id FROM id.members WHERE object = $object"
PAIRS_SQL = (
    "SELECT unique_id_l, unique_id_r, match_probability FROM id.pairs WHERE object = $object"
)

DUPLICATE_RATES_SQL = """
WITH per_source AS (
    SELECT source, count(*) AS records, count(DISTINCT entity_id) AS entities
    FROM members GROUP BY source
), overall AS (
    SELECT 'all' AS source, count(*) AS records, count(DISTINCT entity_id) AS entities
    FROM members
)
SELECT source, records, entities,
       CASE WHEN records > 0 THEN (records - entities) / records ELSE 0.0 END AS duplicate_rate
FROM (SELECT *, 0 AS o FROM per_source UNION ALL SELECT *, 1 AS o FROM overall)
ORDER BY o, source
"""

COVERAGE_SQL = """
WITH anchored AS (
    SELECT DISTINCT entity_id FROM members WHERE list_contains($anchors, source)
)
SELECT m.source, count(*) AS records, avg((a.entity_id IS NOT NULL)::DOUBLE) AS linked_share
FROM members m LEFT JOIN anchored a ON a.entity_id = m.entity_id
WHERE NOT list_contains($anchors, m.source)
GROUP BY m.source ORDER BY m.source
"""

CLUSTER_SIZES_SQL = """
SELECT size AS records, count(*) AS entities
FROM (SELECT count(*) AS size FROM members GROUP BY entity_id)
GROUP BY size ORDER BY size
"""

# the scored pairs between records of ``members`` as integer codes, each unordered pair once
# (its highest probability), from the most to the least probable
CODED_PAIRS_SQL = """
WITH codes AS (
    SELECT unique_id, row_number() OVER () - 1 AS code FROM members
), coded AS (
    SELECT least(l.code, r.code) AS a, greatest(l.code, r.code) AS b,
           max(p.match_probability) AS p
    FROM pairs p
    JOIN codes l ON l.unique_id = p.unique_id_l
    JOIN codes r ON r.unique_id = p.unique_id_r
    WHERE l.code <> r.code
    GROUP BY ALL
)
SELECT a, b, p FROM coded ORDER BY p DESC, a, b
"""

# truth: one row per record id (unique_id, person_id, persons: 1, or 2 when it was given
# more than one person)
PAIRWISE_SQL = """
WITH joined AS (
    SELECT m.entity_id, t.person_id, t.persons
    FROM members m JOIN truth t ON t.unique_id = m.unique_id
), both_ AS (
    SELECT entity_id, person_id, count(*) AS n, max(persons) AS persons FROM joined GROUP BY ALL
)
SELECT coalesce(sum(n), 0),
       (SELECT coalesce(sum(k * (k - 1) // 2), 0)
        FROM (SELECT sum(n) AS k FROM both_ GROUP BY entity_id)),
       (SELECT coalesce(sum(k * (k - 1) // 2), 0)
        FROM (SELECT sum(n) AS k FROM both_ GROUP BY person_id)),
       coalesce(sum(n * (n - 1) // 2), 0),
       coalesce(max(persons), 1)
FROM both_
"""

TRUTH_FRAME_SQL = """
SELECT unique_id, min(person_id) AS person_id,
       (min(person_id) <> max(person_id))::INTEGER + 1 AS persons
FROM workbench_truth GROUP BY unique_id
"""

# the demo generator marks a second record reusing an id, which the load quarantines
TRUTH_CSV_SQL = f"""
SELECT {unique_id_sql("source", "record_id")} AS unique_id, min(person_id) AS person_id,
       (min(person_id) <> max(person_id))::INTEGER + 1 AS persons
FROM read_csv($truth_path, all_varchar = true, header = true)
WHERE {{keep}}
GROUP BY ALL
"""
TRUTH_COLUMNS = ("source", "record_id", "person_id")


@dataclass(frozen=True)
class PairwiseScores:
    """Pairwise accuracy of a clustering."""

    records: int
    predicted_pairs: int
    true_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


class Evaluation:
    """The measures of one resolution, each computed by DuckDB where the data is.

    Build it with :meth:`of_store` (an object's resolution in the warehouse) or
    :meth:`of_frames` (polars frames); every method returns a small result.

    Example:
        >>> ev = Evaluation.of_store(store, "contacts")
        >>> ev.duplicate_rates()  # per source and "all": records, entities, duplicate_rate
        >>> ev.threshold_sensitivity([0.5, 0.9, 0.99])
    """

    def __init__(
        self,
        store: Store,
        members_sql: str,
        pairs_sql: str,
        params: dict[str, Any] | None = None,
    ) -> None:
        self._store = store  # a BriefStore (a report's) is opened per measure, not kept open
        self._with = f"WITH members AS ({members_sql}), pairs AS ({pairs_sql})"
        self._params = params or {}

    @classmethod
    def of_store(cls, store: Store, obj: str) -> Evaluation:
        """The resolution of ``obj`` stored in the warehouse (``id.members``, ``id.pairs``)."""
        return cls(store, MEMBERS_SQL, PAIRS_SQL, {"object": obj})

    @classmethod
    def of_frames(cls, members: pl.DataFrame, pairs: pl.DataFrame | None = None) -> Evaluation:
        """A resolution held in polars frames: ``members`` (unique_id, entity_id and, for the
        per-source measures, source) and optionally the scored ``pairs``."""
        store = Store(":memory:")
        if "source" not in members.columns:
            members = members.with_columns(pl.lit("").alias("source"))
        if pairs is None:
            pairs = pl.DataFrame(
                schema={"unique_id_l": pl.String, "unique_id_r": pl.String,
                        "match_probability": pl.Float64}
            )  # fmt: skip
        store.con.register("given_members", members.select("unique_id", "source", "entity_id"))
        store.con.register("given_pairs", pairs.select(PAIR_INPUT))
        return cls(store, "SELECT * FROM given_members", "SELECT * FROM given_pairs")

    def _query(
        self, sql: str, params: dict[str, Any] | None = None, *, truth: str | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run ``sql`` over members and pairs (inside ``self._store.held()``)."""
        ctes = f"{self._with}, truth AS ({truth})" if truth else self._with
        return self._store.con.execute(
            f"{ctes} SELECT * FROM ({sql})", {**self._params, **(params or {})}
        )

    def _frame(self, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        with self._store.held():
            return self._query(sql, params).pl()

    def duplicate_rates(self) -> pl.DataFrame:
        """Per source and overall (``all``): records, entities, (records - entities) / records."""
        return self._frame(DUPLICATE_RATES_SQL)

    def coverage(self, anchor_sources: list[str]) -> pl.DataFrame:
        """Share of each other source's records linked to an entity holding an anchor record
        (e.g. billing customers and support requesters linked to a CRM contact)."""
        return self._frame(COVERAGE_SQL, {"anchors": anchor_sources})

    def cluster_sizes(self) -> pl.DataFrame:
        """How many entities have 1, 2, 3, ... records (columns records, entities)."""
        return self._frame(CLUSTER_SIZES_SQL)

    def threshold_sensitivity(self, thresholds: list[float]) -> pl.DataFrame:
        """Linked pairs, entities and duplicate rate if records were linked at each threshold
        instead (reviewers' decisions are not applied; pairs of records outside ``members``
        are ignored).

        One maximum spanning forest over the pairs answers every threshold: Kruskal's
        algorithm joins pairs from the most to the least probable, so the forest edges at or
        above a threshold join exactly the components of the pairs at or above it, and
        entities = records - forest edges at or above the threshold.
        """
        with self._store.held():
            records = int(self._query("SELECT count(*) FROM members").fetchone()[0])  # type: ignore[index]
            coded = self._query(CODED_PAIRS_SQL).fetchnumpy()
        a, b, p = (np.asarray(coded[c]) for c in ("a", "b", "p"))
        # weights 1, 2, 3, ... in falling probability: the minimum spanning forest by weight
        # is the maximum one by probability, and a weight names its pair's probability exactly
        order = np.arange(1, len(p) + 1, dtype=np.float64)
        forest = minimum_spanning_tree(coo_array((order, (a, b)), shape=(records, records)))
        forest_p = np.sort(p[forest.data.astype(np.int64) - 1])
        ascending = p[::-1]  # the pairs come most probable first
        rows = []
        for t in thresholds:
            linked = len(ascending) - int(np.searchsorted(ascending, t, side="left"))
            joins = len(forest_p) - int(np.searchsorted(forest_p, t, side="left"))
            entities = records - joins
            rows.append(
                {
                    "threshold": t,
                    "linked_pairs": linked,
                    "entities": entities,
                    "duplicate_rate": (records - entities) / records if records else 0.0,
                }
            )
        return pl.DataFrame(
            rows,
            schema={"threshold": pl.Float64, "linked_pairs": pl.Int64, "entities": pl.Int64,
                    "duplicate_rate": pl.Float64},
        )  # fmt: skip

    def pairwise_scores(self, truth: pl.DataFrame | Path) -> PairwiseScores:
        """Score the entities against a ground truth: a frame (unique_id, person_id) or a CSV
        file (source, record_id, person_id). Only records present in both take part; a record
        given two different persons is refused."""
        with self._store.held():
            if isinstance(truth, Path):
                sql = _truth_csv(self._store.con, truth)
                return self._pairwise(sql, {"truth_path": str(truth)}, str(truth))
            given = truth.select("unique_id", pl.col("person_id").cast(pl.String))
            self._store.con.register("workbench_truth", given)
            try:
                return self._pairwise(TRUTH_FRAME_SQL, {}, "the truth frame")
            finally:
                self._store.con.unregister("workbench_truth")

    def _pairwise(self, truth: str, params: dict[str, Any], where: str) -> PairwiseScores:
        row = self._query(PAIRWISE_SQL, params, truth=truth).fetchone()
        assert row is not None
        *counts, persons = (int(v) for v in row)
        if persons > 1:
            example = self._query(
                "SELECT unique_id FROM truth WHERE persons > 1 ORDER BY unique_id LIMIT 1",
                params,
                truth=truth,
            ).fetchone()
            raise WorkbenchError(
                f"The truth gives record {example[0] if example else '?'} more than one person_id.",
                where=where,
                fix="Give each (source, record_id) one person_id.",
            )
        return PairwiseScores(*counts)


def _truth_csv(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """The truth query over a CSV file, after checking the file can be read and has the
    columns it needs."""
    try:
        columns = [
            c[0]
            for c in con.execute(
                "DESCRIBE SELECT * FROM read_csv($p, all_varchar = true, header = true)",
                {"p": str(path)},
            ).fetchall()
        ]
    except duckdb.Error as exc:
        raise WorkbenchError(
            f"Cannot read the truth file: {str(exc).splitlines()[0]}",
            where=str(path),
            fix="Give a UTF-8 CSV file with a header row: source,record_id,person_id.",
        ) from exc
    missing = [c for c in TRUTH_COLUMNS if c not in columns]
    if missing:
        raise WorkbenchError(
            f"The truth file has no column {', '.join(missing)}.",
            where=str(path),
            fix="Give one row per record with the columns source, record_id and person_id.",
        )
    marked = "injected_error" in columns
    return TRUTH_CSV_SQL.format(
        keep="coalesce(injected_error, '') <> 'duplicate_id'" if marked else "true"
    )


def pairwise_scores(clusters: pl.DataFrame, truth: pl.DataFrame) -> PairwiseScores:
    """Score ``clusters`` (unique_id, cluster_id) against ``truth`` (unique_id, person_id).

    Only records present in both take part.
    """
    members = clusters.select("unique_id", pl.col("cluster_id").alias("entity_id"))
    return Evaluation.of_frames(members).pairwise_scores(truth)


def merged_pairs(clusters: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``pairs`` (unique_id_l, unique_id_r, ...) whose records share a cluster."""
    ids = clusters.select("unique_id", "cluster_id")
    return (
        pairs.join(ids.rename({"unique_id": "unique_id_l", "cluster_id": "_cl"}), on="unique_id_l")
        .join(ids.rename({"unique_id": "unique_id_r", "cluster_id": "_cr"}), on="unique_id_r")
        .filter(pl.col("_cl") == pl.col("_cr"))
        .drop("_cl", "_cr")
    )
