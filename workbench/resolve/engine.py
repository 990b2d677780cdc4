"""The database Splink runs on: a private DuckDB in process, or Spark (``resolve.backend``).

DuckDB (the default): in memory, within the project's DuckDB limits. Splink keeps its input,
term-frequency tables and scored pairs in this database; the warehouse only receives
results. ``duckdb.memory_limit`` and ``duckdb.threads`` of ``workbench.yaml`` apply here as in
the warehouse (without a limit there, ``MEMORY_LIMIT``); beyond the limit DuckDB spills to a
temporary directory that is removed afterwards.

Spark (``resolve.backend: spark``, settings under ``resolve.spark``): the same Splink model
runs through Splink's Spark backend, in local mode or on a cluster. The matching input is
sent from the warehouse as Arrow; the scored pairs come back as a polars frame, and
everything after scoring (clusters, stable ids, golden records, the ``id.*`` tables) happens
as with DuckDB.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
from splink import DuckDBAPI, SettingsCreator
from splink.internals.database_api import DatabaseAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from workbench.config import DuckDBSettings, ResolveConfig, SparkSettings
from workbench.errors import ConfigError, WorkbenchError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession

SplinkDB = DatabaseAPI[Any]  # a Splink database: DuckDB or Spark
LOCAL_SHUFFLE_PARTITIONS = "4"  # Spark's 200 suit a cluster; locally they are overhead
# Splink's DuckDB without a configured limit: enough for 1M records at full speed, while the
# input and intermediate tables beyond it spill (DuckDB's default, 80% of RAM, lets freed
# memory pile up before it is returned)
MEMORY_LIMIT = "1GB"


@contextmanager
def splink_db(
    limits: DuckDBSettings | None = None, *, default_limit: str | None = MEMORY_LIMIT
) -> Iterator[DuckDBAPI]:
    """A Splink database API on a fresh in-memory DuckDB, closed on exit; its memory limit
    is the project's, else ``default_limit`` (None: DuckDB's own, 80% of RAM)."""
    with tempfile.TemporaryDirectory(prefix="workbench-splink-") as spill:
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute("SET temp_directory = $d", {"d": spill})
            # rows in any order: lets joins and aggregates stream instead of buffering
            con.execute("SET preserve_insertion_order = false")
            limit = (limits.memory_limit if limits is not None else None) or default_limit
            if limit:
                con.execute("SET memory_limit = $v", {"v": limit})
            if limits is not None and limits.threads:
                con.execute("SET threads = $v", {"v": limits.threads})
            yield DuckDBAPI(con)
        finally:
            con.close()


def release_memory() -> None:
    """Hand the memory DuckDB has freed back to the operating system now.

    DuckDB's allocator, one for all its databases in the process, keeps freed pages for
    reuse and returns them lazily, so one step's peak stays resident into the next. Setting
    a memory limit purges them (any database's, so a small one kept for this serves).
    """
    _purger().execute("SET memory_limit = '1GB'")


@functools.cache
def _purger() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def check_backend(settings: ResolveConfig, where: str) -> None:
    """Refuse early (before anything is written) when the configured backend cannot run:
    Spark needs pyspark (ConfigError) and Java (WorkbenchError)."""
    if settings.backend != "spark":
        return
    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError(
            "resolve.backend is spark, but pyspark is not installed.",
            where=where,
            fix="Install the Spark extra: pip install 'workbench[spark]'; "
            "or set resolve.backend: duckdb.",
        )
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise WorkbenchError(
            "Resolution on Spark needs Java (17 or newer), and none was found.",
            where=where,
            fix="Install a Java runtime (e.g. apt-get install openjdk-17-jre-headless) and put "
            "`java` on PATH or set JAVA_HOME; or set resolve.backend: duckdb.",
        )


@contextmanager
def matching_db(
    settings: ResolveConfig, limits: DuckDBSettings | None = None
) -> Iterator[SplinkDB]:
    """The Splink database of ``resolve.backend``: a private DuckDB (within ``limits``) or
    Spark (``resolve.spark``)."""
    if settings.backend == "spark":
        with spark_db(settings.spark) as spark:
            yield spark
    else:
        with splink_db(limits) as db:
            yield db


@contextmanager
def spark_db(settings: SparkSettings) -> Iterator[SplinkDB]:
    """Splink's Spark backend on the session of ``settings``. Intermediate tables stay in
    memory in local mode; on a cluster they are written as parquet to ``checkpoint_dir``,
    shared storage that it must name."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import SparkAPI

    owned = SparkSession.getActiveSession() is None
    spark = spark_session(settings)
    local = (spark.sparkContext.master or "").startswith("local")
    on_databricks = "DATABRICKS_RUNTIME_VERSION" in os.environ  # Splink uses Delta tables
    if not local and not on_databricks and settings.checkpoint_dir is None:
        raise ConfigError(
            f"Spark runs on a cluster ({spark.sparkContext.master}), but Splink's "
            "intermediate tables have no shared place to go.",
            where="workbench.yaml, key resolve.spark.checkpoint_dir",
            fix="Set it to storage every node reaches, e.g. hdfs:///tmp/workbench or "
            "s3a://bucket/workbench.",
        )
    with tempfile.TemporaryDirectory(prefix="workbench-spark-") as scratch:
        spark.sparkContext.setCheckpointDir(settings.checkpoint_dir or scratch)
        db = SparkAPI(spark_session=spark, break_lineage_method="persist" if local else None)
        try:
            yield db
        finally:
            db.delete_tables_created_by_splink_from_db()
            if owned:  # a session someone else started keeps its cache
                spark.catalog.clearCache()


def spark_session(settings: SparkSettings) -> SparkSession:
    """The process's Spark session (an active one is used as it is), with Splink's
    similarity functions (jaro_winkler and others) on its class path."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    conf = {
        "spark.jars": similarity_jar_location(),
        "spark.driver.memory": settings.driver_memory,
        "spark.log.level": "ERROR",
        "spark.ui.showConsoleProgress": "false",
    }
    if settings.master.startswith("local"):
        conf |= {
            "spark.sql.shuffle.partitions": LOCAL_SHUFFLE_PARTITIONS,
            "spark.default.parallelism": LOCAL_SHUFFLE_PARTITIONS,
            "spark.ui.enabled": "false",
        }
    builder = SparkSession.builder.master(settings.master).appName(settings.app_name)
    for key, value in {**conf, **settings.conf}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def register(db: SplinkDB, frame: pl.DataFrame) -> SplinkDataFrame:
    """Hand ``frame`` to Splink's database (as Arrow; on Spark as a Spark DataFrame)."""
    if _is_spark(db):
        return db.register(_spark_frame(db.spark, frame))  # type: ignore[attr-defined]
    return db.register(frame.to_arrow())


def to_polars(table: SplinkDataFrame, columns: list[str] | None = None) -> pl.DataFrame:
    """A Splink result table (``columns`` of it, or all) as a polars frame, from either
    backend."""
    if _is_spark(table.db_api):
        spark_frame = table.as_spark_dataframe()
        if columns is not None:
            spark_frame = spark_frame.select(*columns)
        to_arrow = getattr(spark_frame, "toArrow", None)  # Spark 4; 3.5 has a private one
        arrow = to_arrow() if to_arrow else spark_frame._collect_as_arrow()
        if isinstance(arrow, list):  # Spark 3.5: record batches
            import pyarrow as pa

            arrow = pa.Table.from_batches(arrow)
        return pl.DataFrame(pl.from_arrow(arrow))
    relation = table.as_duckdbpyrelation()
    return (relation if columns is None else relation.select(*columns)).pl()


def duckdb_model(trained: dict[str, Any], settings: SettingsCreator) -> dict[str, Any]:
    """A model trained on another backend with its SQL as DuckDB writes it: the stored
    model is read on DuckDB (``workbench explain``, incremental runs). Parameters are kept;
    SQL conditions and blocking rules come from ``settings`` for DuckDB, level by level."""
    duck = settings.create_settings_dict("duckdb")
    model = copy.deepcopy(trained)
    model["sql_dialect"] = "duckdb"
    model["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": r["blocking_rule"], "sql_dialect": "duckdb"}
        for r in duck["blocking_rules_to_generate_predictions"]
    ]
    for comparison, spelled in zip(model["comparisons"], duck["comparisons"], strict=True):
        levels = zip(comparison["comparison_levels"], spelled["comparison_levels"], strict=True)
        for level, duck_level in levels:
            level["sql_condition"] = duck_level["sql_condition"]
    return model


def _is_spark(db: SplinkDB) -> bool:
    return db.sql_dialect.sql_dialect_str == "spark"


def _spark_frame(spark: SparkSession, frame: pl.DataFrame) -> SparkFrame:
    """``frame`` as a Spark DataFrame: from Arrow on Spark 4, row by row on Spark 3.5."""
    arrow = frame.to_arrow()
    if int(spark.version.split(".")[0]) >= 4:
        return spark.createDataFrame(arrow)  # type: ignore[arg-type]
    from pyspark.sql.pandas.types import from_arrow_schema

    return spark.createDataFrame(frame.rows(), schema=from_arrow_schema(arrow.schema))
