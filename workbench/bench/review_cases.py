"""Review benchmark: seconds per pair the review widget shows, on the resolved demo.

``workbench_review`` opens a :class:`~workbench.review_ui.ReviewSession` and shows the
first pair (which reads the model and the records ``workbench resolve`` kept for the
review queue), then :data:`PAIRS`
more, each timed as the widget shows it: both records side by side, masked, and the
waterfall chart. ``plain_review`` does the least the same display needs with the plain
libraries: the same matching input and term frequencies in Splink's DuckDB, then per pair
a keyed DuckDB lookup of both core records and of their features, and Splink's
``score_pair``. Both write their first-pair, mean and max seconds to
``reports/bench_review.json`` of the demo; the case's own time is the slowest pair.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from pathlib import Path

PAIRS = 20  # pairs timed after the first
PAIR_SECONDS = 1.0  # the goal: each pair shown within a second (issue 23)
OBJECT = "contacts"
RESULTS = Path("reports") / "bench_review.json"


def prepare_review(size: Path, work: Path) -> tuple[float, int]:
    """Not measured: resolve the demo once, unless a run of it (with the records it keeps
    for its review queue) is stored already."""
    from workbench.config import load_project
    from workbench.resolve import resolve
    from workbench.store import open_store

    project = load_project(work)
    start = time.perf_counter()
    with open_store(project) as store:
        kept = store.table_exists("id", f"review_records_{OBJECT}", views=False)
        if kept and store.scalar("SELECT count(*) FROM id.runs WHERE object = $o", {"o": OBJECT}):
            return 0.0, 0  # (a run of an earlier release kept no review records: run again)
        report = resolve(project, store, object_name=OBJECT)
    return time.perf_counter() - start, report.records


def workbench_review(size: Path, work: Path) -> tuple[float, int]:
    """Workbench: the review session shows the first pair, then ``PAIRS`` more."""
    from workbench.report.display import figure_bundle
    from workbench.report.model_charts import waterfall_figure
    from workbench.review_ui import ReviewSession, fields_html

    def show() -> None:
        view = session.view()
        assert view is not None
        fields_html(view)
        figure_bundle(waterfall_figure(view.explanation))

    start = time.perf_counter()
    session = ReviewSession(work, OBJECT, limit=PAIRS + 1)
    show()
    first = time.perf_counter() - start
    seconds = []
    while session.next():
        clock = time.perf_counter()
        show()
        seconds.append(time.perf_counter() - clock)
    session.close()
    return _result(work, "workbench_review", first, seconds)


def plain_review(size: Path, work: Path) -> tuple[float, int]:
    """Plain DuckDB and Splink: the same input and term frequencies once, then per pair a
    keyed lookup of both records (core and features) and ``score_pair``."""
    import duckdb
    from splink import Linker

    from workbench.config import load_project
    from workbench.resolve.engine import splink_db
    from workbench.resolve.inputs import matching_input, model_input
    from workbench.resolve.matching import tf_columns
    from workbench.store import Store

    project = load_project(work)
    warehouse = str(project.warehouse_path)
    start = time.perf_counter()
    with Store(project.warehouse_path, read_only=True) as store:
        pairs = store.rows(
            "SELECT unique_id_l, unique_id_r FROM id.review_queue WHERE object = $o "
            "ORDER BY abs(match_probability - 0.5), unique_id_l, unique_id_r LIMIT $n",
            {"o": OBJECT, "n": PAIRS + 1},
        )
        model_json = store.scalar(
            "SELECT model_json FROM id.runs WHERE object = $o ORDER BY run_id DESC LIMIT 1",
            {"o": OBJECT},
        )
        feats, frame = matching_input(project, store, OBJECT)
    model = json.loads(model_json)
    with splink_db(project.config.duckdb) as db:
        frame = model_input(frame, feats, project.config.resolve)
        db.duckdb_con.register("input_frame", frame.to_arrow())
        db.duckdb_con.execute("CREATE TABLE input AS SELECT * FROM input_frame")
        db.duckdb_con.unregister("input_frame")
        del frame
        linker = Linker(db.register("input"), model, log_level=logging.ERROR)
        for column in tf_columns(model):
            linker.table_management.compute_tf_table(column)

        def show(left: str, right: str) -> None:
            core = duckdb.connect(warehouse, read_only=True)
            core.execute(
                "SELECT * FROM core.contacts WHERE _source || ':' || CAST(record_id AS VARCHAR) "
                "IN (?, ?)",
                [left, right],
            ).fetchall()
            core.close()
            found = db.duckdb_con.execute(
                "SELECT * FROM input WHERE unique_id IN (?, ?)", [left, right]
            ).pl()
            rows = {r["unique_id"]: r for r in found.iter_rows(named=True)}
            linker.inference.score_pair(rows[left], rows[right]).as_duckdbpyrelation().pl()

        show(*pairs[0])
        first = time.perf_counter() - start
        seconds = []
        for left, right in pairs[1:]:
            clock = time.perf_counter()
            show(left, right)
            seconds.append(time.perf_counter() - clock)
    return _result(work, "plain_review", first, seconds)


def _result(work: Path, case: str, first: float, seconds: list[float]) -> tuple[float, int]:
    """Keep the case's first-pair, mean and max seconds; the slowest pair is its time."""
    if not seconds:
        raise SystemExit(f"{case}: fewer than two pairs are waiting for review")
    path = work / RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(path.read_text()) if path.exists() else {}
    results[case] = {
        "first": first,
        "mean": statistics.fmean(seconds),
        "max": max(seconds),
        "pairs": len(seconds),
    }
    path.write_text(json.dumps(results, indent=1))
    return max(seconds), len(seconds)
