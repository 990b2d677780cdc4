"""The matching input: the object's identity features, one row per core record.

Reads ``core.<object>`` (only the columns the features read) and computes the features of
``features`` over it, with the name forms of ``nicknames``: as a polars frame from the
warehouse, or streamed into Splink's own DuckDB as table ``INPUT`` with a view of the
columns Splink works on. Writes nothing to the warehouse.
"""

from __future__ import annotations

import duckdb
import polars as pl

from workbench.config import Project, ResolveConfig
from workbench.errors import WorkbenchError
from workbench.resolve.features import Features, features
from workbench.resolve.nicknames import TABLE as NAME_FORMS
from workbench.resolve.nicknames import name_forms
from workbench.store import Store, quote_ident, table

RECORD_COLUMNS = ["unique_id", "source", "record_id", "feature_hash"]
INPUT = "_wb_input"  # the matching input in Splink's DuckDB


def matching_features(project: Project, store: Store, obj: str) -> Features:
    """The object's identity features (ConfigError or WorkbenchError when there are none)."""
    spec = project.dictionary.object(obj)  # ConfigError for an unknown object
    if not store.table_exists("core", obj):
        raise WorkbenchError(
            f"There are no validated {obj} to resolve.",
            fix="Run `workbench ingest` and `workbench validate` first.",
        )
    feats = features(obj, spec, store.columns("core", obj))
    if not feats.fields:
        raise WorkbenchError(
            f"No field of {obj} is marked as an identity field.",
            where=f"dictionary.yaml, key objects.{obj}",
            fix="Give the fields used for matching an `identity:` kind (name, email, ...).",
        )
    return feats


def core_records(store: Store, obj: str) -> int:
    """How many core records the object has."""
    return int(store.scalar(f"SELECT count(*) FROM {table('core', obj)}"))


def matching_input(project: Project, store: Store, obj: str) -> tuple[Features, pl.DataFrame]:
    """The object's identity features, one row per core record."""
    feats = matching_features(project, store, obj)
    return feats, input_frame(store, feats)


def input_frame(store: Store, feats: Features) -> pl.DataFrame:
    """The matching input as a polars frame, computed in the warehouse."""
    with store.registered(NAME_FORMS, name_forms()):
        return store.frame(feats.sql)


def load_input(
    con: duckdb.DuckDBPyConnection, store: Store, feats: Features, columns: list[str] | None
) -> None:
    """The matching input as table ``INPUT`` of Splink's DuckDB ``con``, in ``unique_id``
    order, with a view of its ``columns`` (``_model`` appended, None for all).

    The core columns the features read are streamed from the warehouse (as Arrow batches);
    the features are computed here, within this database's memory limit and able to spill,
    so neither the warehouse nor Python holds the input at once.
    """
    core = f"{INPUT}_core"
    reader = store.con.execute(
        f"SELECT {', '.join(map(quote_ident, feats.reads))} FROM {table('core', feats.object)}"
    ).to_arrow_reader()
    con.register(f"{core}_stream", reader)
    con.register(NAME_FORMS, name_forms())
    try:
        con.execute(f"CREATE TABLE {core} AS SELECT * FROM {core}_stream")
        con.unregister(f"{core}_stream")
        con.execute("SET preserve_insertion_order = true")  # kept in unique_id order
        con.execute(f"CREATE TABLE {INPUT} AS {feats.sql_over(core)}")
    finally:
        con.execute("SET preserve_insertion_order = false")
        con.unregister(NAME_FORMS)
        con.execute(f"DROP TABLE IF EXISTS {core}")
    cols = ", ".join(map(quote_ident, columns)) if columns is not None else "*"
    con.execute(f"CREATE VIEW {INPUT}_model AS SELECT {cols} FROM {INPUT}")


def model_columns(feats: Features, settings: ResolveConfig) -> list[str] | None:
    """The input columns Splink works on; None for all of them, when blocking rules are
    configured by hand (those may use any)."""
    return None if settings.blocking_rules else feats.model_columns


def model_input(frame: pl.DataFrame, feats: Features, settings: ResolveConfig) -> pl.DataFrame:
    """The columns of ``frame`` Splink works on (see ``model_columns``)."""
    columns = model_columns(feats, settings)
    return frame if columns is None else frame.select(columns)
