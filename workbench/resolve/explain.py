"""Why two records match or not: the match-weight waterfall of a pair under the latest model.

Each comparison contributes ``log2`` of its Bayes factor (positive: evidence for a match);
term-frequency adjustments are shown with their comparison. Starting from the prior, the
sum is the pair's match weight, and ``2**w / (1 + 2**w)`` its match probability.

:class:`PairExplainer` explains many pairs of one object: it builds the matching input and
its term frequencies once, then each pair costs a keyed lookup of its two records and
Splink's scoring of that one pair. :func:`explain` explains a single pair.
"""

from __future__ import annotations

import json
import logging
import math
import weakref
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from splink import Linker

from workbench.config import Project
from workbench.errors import WorkbenchError
from workbench.resolve.engine import release_memory, splink_db
from workbench.resolve.inputs import INPUT, load_input, matching_features, model_columns
from workbench.resolve.matching import tf_columns
from workbench.store import Store, quote_ident

RECORDS = "_wb_records"  # the matching input with term frequencies, in the explainer's DuckDB
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
    """The waterfall of ``left`` vs ``right`` (``source:record_id`` each)."""
    with PairExplainer(project, store, obj) as explainer:
        return explainer.explain(left, right)


class PairExplainer:
    """The latest model of ``obj``, ready to explain any pair of its records.

    Built once (reading the warehouse): the matching input of every record and the term
    frequencies of the model's adjusted columns go into a private DuckDB, as a resolution
    run computes them. Then :meth:`explain` needs no warehouse: it looks up the pair's two
    records by id and scores that one pair, whatever the number of records, with the SQL
    Splink wrote for the first pair (writing it again costs more than running it). Close it (or
    use it as a context manager) to free that database; it is closed when collected too.

    Example::

        with open_store(project, read_only=True) as store:
            explainer = PairExplainer(project, store, "contacts")
        explainer.explain("crm:1", "erp:7").match_probability
    """

    def __init__(self, project: Project, store: Store, obj: str) -> None:
        self.object = obj
        self.model = latest_model(store, obj)
        feats = matching_features(project, store, obj)
        self._stack = ExitStack()
        self._finalizer = weakref.finalize(self, self._stack.close)
        try:
            db = self._stack.enter_context(splink_db(project.config.duckdb))
            columns = model_columns(feats, project.config.resolve)
            load_input(db.duckdb_con, store, feats, columns)
            self._db, self._con = db, db.duckdb_con
            self._scoring_sql: str | None = None
            self._linker = Linker(db.register(f"{INPUT}_model"), self.model,
                                  log_level=logging.ERROR)  # fmt: skip
            self._with_term_frequencies()
        except BaseException:
            self.close()
            raise

    def _with_term_frequencies(self) -> None:
        """Each record's term frequencies as columns of its row (``RECORDS``, in
        ``unique_id`` order), as Splink joins them for prediction: a pair then reads two
        rows, not the frequency tables of every value. Tables ``PAIR_l`` and ``PAIR_r``
        (empty) will hold the pair explained."""
        con = self._con
        added, joins = [], []
        for i, column in enumerate(tf_columns(self.model)):
            table = self._linker.table_management.compute_tf_table(column).physical_name
            col = quote_ident(column)
            added.append(quote_ident(f"tf_{column}"))
            joins.append(f"LEFT JOIN {table} t{i} ON t{i}.{col} = m.{col}")
        selected = ["m.*", *(f"t{i}.{tf}" for i, tf in enumerate(added))]
        con.execute("SET preserve_insertion_order = true")  # kept in unique_id order
        try:
            con.execute(
                f"CREATE TABLE {RECORDS} AS SELECT {', '.join(selected)} "
                f"FROM {INPUT}_model m {' '.join(joins)} ORDER BY m.unique_id"
            )
        finally:
            con.execute("SET preserve_insertion_order = false")
        # the input is kept once: the linker's view of it reads these rows from now on
        exclude = f" EXCLUDE ({', '.join(added)})" if added else ""
        con.execute(f"CREATE OR REPLACE VIEW {INPUT}_model AS SELECT *{exclude} FROM {RECORDS}")
        con.execute(f"DROP TABLE {INPUT}")
        for side in ("l", "r"):
            con.execute(f"CREATE TABLE {PAIR}_{side} AS FROM {RECORDS} LIMIT 0")

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
