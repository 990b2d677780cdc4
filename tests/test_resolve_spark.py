"""Resolution on Spark (``resolve.backend: spark``): the same entities as on DuckDB.

The demo is resolved on DuckDB (by ``workbench demo``), then a copy of it on Spark in local
mode; both must group the records alike, give the entities the same ids and build the same
golden records. Spark tests are skipped only where Java or pyspark is missing.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.errors import ConfigError, WorkbenchError
from workbench.resolve import resolve
from workbench.store import Store, open_store

NO_JAVA = shutil.which("java") is None
NO_PYSPARK = importlib.util.find_spec("pyspark") is None
# tiny data: one partition per shuffle, no adaptive re-planning (halves the run time)
SPARK_CONFIG = """
resolve:
  backend: spark
  spark:
    master: local[2]
    conf: {spark.sql.shuffle.partitions: "1", spark.default.parallelism: "1",
           spark.sql.adaptive.enabled: "false"}
"""


def members(store: Store) -> pl.DataFrame:
    return store.frame("SELECT unique_id, entity_id FROM id.members ORDER BY unique_id")


def partition(frame: pl.DataFrame) -> set[frozenset[str]]:
    grouped = frame.group_by("entity_id").agg("unique_id")
    return {frozenset(ids) for ids in grouped["unique_id"].to_list()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spark") / "demo"
    assert main(["demo", "--project", str(folder), "--contacts", "600", "--seed", "3"]) == 0
    return folder


@pytest.fixture(scope="module")
def on_spark(demo: Path) -> Iterator[Path]:
    """A copy of the demo resolved on Spark (one local Spark session for the module)."""
    if NO_JAVA:
        pytest.skip("Spark needs Java: no `java` on PATH")
    if NO_PYSPARK:
        pytest.skip("pyspark is not installed (pip install 'workbench[spark]')")
    folder = demo.parent / "on_spark"
    shutil.copytree(demo, folder)
    with (folder / "workbench.yaml").open("a") as handle:
        handle.write(SPARK_CONFIG)
    project = load_project(folder)
    try:
        with open_store(project) as store:
            resolve(project, store)
        yield folder
    finally:
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_spark_finds_the_same_entities_and_golden_records_as_duckdb(demo, on_spark):
    with open_store(load_project(demo), read_only=True) as store:
        duck = members(store)
        duck_golden = store.frame("SELECT * FROM id.golden_contacts ORDER BY entity_id")
    with open_store(load_project(on_spark), read_only=True) as store:
        spark = members(store)
        spark_golden = store.frame("SELECT * FROM id.golden_contacts ORDER BY entity_id")
        model = store.scalar("SELECT model_json FROM id.runs ORDER BY run_id DESC LIMIT 1")
    assert spark.height == duck.height > 0
    assert partition(spark) == partition(duck)
    assert spark.equals(duck)  # entity ids come from the records, not the backend
    assert spark_golden.equals(duck_golden)
    assert '"sql_dialect": "duckdb"' in model  # stored for DuckDB: explain reads it there


@pytest.mark.slow
def test_a_pair_resolved_on_spark_can_be_explained(on_spark):
    from workbench.resolve.explain import explain

    project = load_project(on_spark)
    with open_store(project, read_only=True) as store:
        left, right, weight = store.rows(
            "SELECT unique_id_l, unique_id_r, match_weight FROM id.pairs "
            "ORDER BY match_weight DESC LIMIT 1"
        )[0]
        result = explain(project, store, "contacts", left, right)
    # the model trained on Spark, scored again on DuckDB
    assert result.match_weight == pytest.approx(weight, abs=1e-6)


SPARK_ONLY = """
resolve:
  backend: spark
"""


def test_spark_without_pyspark_is_a_config_error(make_project, store_of, monkeypatch):
    project = make_project(SPARK_ONLY)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ConfigError) as caught:
        resolve(project, store_of(project))
    assert "resolve.backend" in caught.value.message
    assert "pip install 'workbench[spark]'" in caught.value.message


def test_spark_without_java_says_so(make_project, store_of, monkeypatch):
    project = make_project(SPARK_ONLY)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(WorkbenchError) as caught:
        resolve(project, store_of(project))
    assert "Java" in caught.value.what and "JAVA_HOME" in caught.value.message


def test_incremental_runs_are_refused_on_spark(make_project, store_of, monkeypatch):
    import workbench.resolve.run as run

    project = make_project(SPARK_ONLY)
    monkeypatch.setattr(run, "check_backend", lambda *a: None)  # as if Spark were installed
    with pytest.raises(ConfigError) as caught:
        resolve(project, store_of(project), incremental=True)
    assert "--incremental" in caught.value.message and "resolve.backend" in caught.value.message
