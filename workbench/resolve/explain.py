"""Why two records match or not: the match-weight waterfall of a pair under the latest model.

Each comparison contributes ``log2`` of its Bayes factor (positive: evidence for a match);
term-frequency adjustments are shown with their comparison. Starting from the prior, the
sum is the pair's match weight, and ``2**w / (1 + 2**w)`` its match probability.

:class:`PairExplainer` explains many pairs of one object: each pair costs a keyed lookup of
its two records and Splink's scoring of that one pair. The records come with their term
frequencies either from what the latest resolution run kept for its review queue
(:meth:`PairExplainer.of_queue`, read in a moment whatever the number of records) or from
the matching input of every record, built once. :func:`explain` explains a single pair.
"""

from __future__ import annotations

import json
import logging
import math
import weakref
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import polars as pl
from splink import Linker

from workbench import audit
from workbench.config import Project
from workbench.errors import WorkbenchError
from workbench.resolve.engine import release_memory, splink_db
from workbench.resolve.inputs import INPUT, load_input, matching_features, model_columns
from workbench.resolve.matching import tf_names, with_term_frequencies
from workbench.resolve.results import REVIEW_RECORDS, review_records_table
from workbench.store import Store

RECORDS = "_wb_records"  # the matching input with term frequencies, in the explainer's DuckDB
# audited actions after which the records a run kept may differ from the records now (an
# erasure removes its person's kept records itself)
KEPT_UNTIL = ["validate", "retention", "restore"]
PAIR = "_wb_pair"  # the two records explained, there too
PAIR_IDS_SQL = f"SELECT unique_id FROM {PAIR}_l UNION ALL SELECT unique_id FROM {PAIR}_r"


@dataclass(frozen=True)
class Step:
    """One bar of the waterfall."""

    comparison: str
    level: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    left: str
    right: str
    steps: list[Step]

    @property
    def match_weight(self) -> float:
        return sum(s.weight for s in self.steps)

    @property
    def match_probability(self) -> float:
        return 1 / (1 + 2 ** (-self.match_weight))


def explain(project: Project, store: Store, obj: str, left: str, right: str) -> Explanation:
    """The waterfall of ``left`` vs ``right`` (``source:record_id`` each): from the records
    the latest run kept when both are in its review queue, else from every record."""
    queued = PairExplainer.of_queue(project, store, obj)
    if queued is not None and not queued.covers(left, right):
        queued.close()
        queued = None
    with queued or PairExplainer(project, store, obj) as explainer:
        return explainer.explain(left, right)


class PairExplainer:
    """The latest model of ``obj``, ready to explain any pair of its records.

    Built once (reading the warehouse): the matching input of every record and the term
    frequencies of the model's adjusted columns go into a private DuckDB, as a resolution
    run computes them (:meth:`of_queue`: only the records of the review queue, as the run
    kept them). Then :meth:`explain` needs no warehouse: it looks up the pair's two
    records by id and scores that one pair, whatever the number of records, with the SQL
    Splink wrote for the first pair (writing it again costs more than running it). Close it (or
    use it as a context manager) to free that database; it is closed when collected too.

    Example::

        with open_store(project, read_only=True) as store:
            explainer = PairExplainer(project, store, "contacts")
        explainer.explain("crm:1", "erp:7").match_probability
    """

    def __init__(
        self, project: Project, store: Store, obj: str, *, records: pl.DataFrame | None = None
    ) -> None:
        self.object = obj
        self.model = latest_model(store, obj)
        self._covered: set[str] | None = None  # the records explained; None: every one
        self._stack = ExitStack()
        self._finalizer = weakref.finalize(self, self._stack.close)
        try:
            db = self._stack.enter_context(splink_db(project.config.duckdb))
            self._db, self._con = db, db.duckdb_con
            self._scoring_sql: str | None = None
            if records is None:
                feats = matching_features(project, store, obj)
                columns = model_columns(feats, project.config.resolve)
                load_input(db.duckdb_con, store, feats, columns)
                self._linker = Linker(db.register(f"{INPUT}_model"), self.model,
                                      log_level=logging.ERROR)  # fmt: skip
                self._with_term_frequencies()
            else:
                self._covered = set(records["unique_id"].to_list())
                self._with_records(records)
            for side in ("l", "r"):
                self._con.execute(f"CREATE TABLE {PAIR}_{side} AS FROM {RECORDS} LIMIT 0")
        except BaseException:
            self.close()
            raise

    @classmethod
    def of_queue(cls, project: Project, store: Store, obj: str) -> PairExplainer | None:
        """An explainer of the pairs of the latest run's review queue, from the records the
        run kept for them (``id.review_records_<object>``): built in a moment at any size,
        where the full one reads every record. None when the run kept none (on Spark), or
        when the records may have changed since (validated, retention or a restore after
        the run): the pair is then explained from the records as they are now."""
        name = REVIEW_RECORDS.format(object=obj)
        if not store.table_exists("id", name, views=False):
            return None
        if audit.latest_entry(store, KEPT_UNTIL) > audit.latest_of_object(store, "resolve", obj):
            return None
        records = store.frame(f"FROM {review_records_table(obj)} ORDER BY unique_id")
        return cls(project, store, obj, records=records)

    def covers(self, left: str, right: str) -> bool:
        """Whether :meth:`explain` can explain this pair (a queue's explainer only explains
        pairs of its records)."""
        return self._covered is None or {left, right} <= self._covered

    def _with_term_frequencies(self) -> None:
        """Each record's term frequencies as columns of its row (``RECORDS``, in
        ``unique_id`` order), as Splink joins them for prediction: a pair then reads two
        rows, not the frequency tables of every value."""
        con = self._con
        sql, added = with_term_frequencies(self._linker, f"{INPUT}_model")
        con.execute("SET preserve_insertion_order = true")  # kept in unique_id order
        try:
            con.execute(f"CREATE TABLE {RECORDS} AS {sql} ORDER BY m.unique_id")
        finally:
            con.execute("SET preserve_insertion_order = false")
        # the input is kept once: the linker's view of it reads these rows from now on
        self._model_view(added)
        con.execute(f"DROP TABLE {INPUT}")

    def _with_records(self, records: pl.DataFrame) -> None:
        """``RECORDS`` from ``records``: rows of the matching input with their term
        frequencies, as a resolution run kept them; the linker reads them without those."""
        self._con.register("_wb_kept", records.to_arrow())
        self._con.execute(f"CREATE TABLE {RECORDS} AS FROM _wb_kept")
        self._con.unregister("_wb_kept")
        self._model_view(tf_names(self.model))
        self._linker = Linker(self._db.register(f"{INPUT}_model"), self.model,
                              log_level=logging.ERROR)  # fmt: skip

    def _model_view(self, term_frequencies: list[str]) -> None:
        """``INPUT_model``, the linker's input: the rows of ``RECORDS`` without their term
        frequencies."""
        exclude = f" EXCLUDE ({', '.join(term_frequencies)})" if term_frequencies else ""
        self._con.execute(
            f"CREATE OR REPLACE VIEW {INPUT}_model AS SELECT *{exclude} FROM {RECORDS}"
        )

    def explain(self, left: str, right: str) -> Explanation:
        """The waterfall of ``left`` vs ``right`` (``source:record_id`` each)."""
        for side, unique_id in (("l", left), ("r", right)):
            self._con.execute(f"DELETE FROM {PAIR}_{side}")
            self._con.execute(
                f"INSERT INTO {PAIR}_{side} FROM {RECORDS} WHERE unique_id = $u",
                {"u": unique_id},
            )
        found = {unique_id for (unique_id,) in self._con.execute(PAIR_IDS_SQL).fetchall()}
        missing = {left, right} - found
        if missing:
            raise WorkbenchError(
                f"No resolved {self.object} record {', '.join(sorted(missing))}.",
                fix="Give records as source:record_id, e.g. from `workbench review`.",
            )
        if self._scoring_sql is None:  # Splink writes it once; it reads the pair's tables
            scored = self._linker.inference.score_pair(
                self._db.register(f"{PAIR}_l"), self._db.register(f"{PAIR}_r")
            )
            self._scoring_sql = scored.sql_used_to_create
            scored.drop_table_from_database_and_remove_from_cache()
        result = self._con.execute(self._scoring_sql).pl().row(0, named=True)
        return explanation(self.model, result, left, right)

    def close(self) -> None:
        """Free the private database and hand its memory back (idempotent)."""
        self._finalizer()
        release_memory()

    def __enter__(self) -> PairExplainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def latest_model(store: Store, obj: str) -> dict[str, Any]:
    """The model of the object's latest resolution run (WorkbenchError if there is none)."""
    model_json = (
        store.scalar(
            "SELECT model_json FROM id.runs WHERE object = $o ORDER BY run_id DESC LIMIT 1",
            {"o": obj},
        )
        if store.table_exists("id", "runs")
        else None
    )
    if model_json is None:
        raise WorkbenchError(f"No trained model for {obj} yet.", fix="Run `workbench resolve`.")
    return dict(json.loads(model_json))


def explanation(
    model: dict[str, Any], scored: dict[str, Any], left: str, right: str
) -> Explanation:
    """The waterfall of a pair Splink scored with ``model``: ``scored`` is its row of Splink's
    predictions, with the ``gamma_``, ``mw_`` and ``mw_tf_adj_`` columns of each comparison.
    Each bar is labelled with the level the pair fell in (its ``label_for_charts``)."""
    prior = model["probability_two_random_records_match"]
    steps = [Step("prior", "two random records match", math.log2(prior / (1 - prior)))]
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        gamma = scored.get(f"gamma_{name}")
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        label = "missing on one side"
        if gamma is not None and 0 <= gamma < len(levels):
            level = levels[len(levels) - 1 - gamma]
            label = level.get("label_for_charts") or level.get("sql_condition", "")
        weight = float(scored.get(f"mw_{name}") or 0.0)
        tf = scored.get(f"mw_tf_adj_{name}")
        if tf:
            weight += float(tf)
            label += " (adjusted for how common the value is)"
        steps.append(Step(name, label, weight))
    return Explanation(left, right, steps)
