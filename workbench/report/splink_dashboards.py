"""Splink's dashboards of the sample, offline: the comparison viewer and cluster studio.

The dashboards are Splink's own HTML pages, which carry their JavaScript inline (Splink ships
vega, vega-lite, vega-embed and Observable's standard library); the only remote references
in them, links to Google Fonts, are removed, so they open without a network. The records
and pairs they are given are masked already (:mod:`workbench.report.splink_views`).
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import polars as pl
from splink import DuckDBAPI, Linker

from workbench.report.splink_sample import Sample

EXAMPLES_PER_VECTOR = 2  # example pairs the comparison viewer keeps per comparison vector
REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*", re.I)
REMOTE_LOAD = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I
)


def _table(db: DuckDBAPI, name: str, frame: pl.DataFrame) -> None:
    """``frame`` as a table of Splink's DuckDB (Splink's SQL reads its rowid)."""
    con = db.duckdb_con
    con.register(f"{name}_arrow", frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


def comparison_viewer(db: DuckDBAPI, linker: Linker, shown: pl.DataFrame) -> str:
    """Splink's comparison viewer of the scored pairs ``shown`` (already masked)."""
    _table(db, "_wb_viewer_pairs", shown)
    df_predict = db.table_to_splink_dataframe("__splink__df_predict", "_wb_viewer_pairs")
    with tempfile.TemporaryDirectory(prefix="workbench-splink-") as folder:
        page = linker.visualisations.comparison_viewer_dashboard(
            df_predict,
            str(Path(folder) / "comparison_viewer.html"),
            overwrite=True,
            num_example_rows=EXAMPLES_PER_VECTOR,
            return_html_as_string=True,
        )
    return offline(page or "")


def cluster_studio(
    db: DuckDBAPI, linker: Linker, shown: pl.DataFrame, nodes: pl.DataFrame, sample: Sample
) -> str:
    """Splink's cluster studio of the sampled entities: their records (``nodes``, masked)
    and the scored pairs between them (from ``shown``, masked)."""
    _table(db, "_wb_studio_pairs", shown)
    _table(db, "_wb_studio_nodes", nodes)
    sizes = sample.members.group_by("cluster_id").len().sort("len", "cluster_id", descending=True)
    names = [f"{c}: {n} records" for c, n in sizes.iter_rows()]
    with tempfile.TemporaryDirectory(prefix="workbench-splink-") as folder:
        page = linker.visualisations.cluster_studio_dashboard(
            db.table_to_splink_dataframe("__splink__df_predict", "_wb_studio_pairs"),
            db.table_to_splink_dataframe("__splink__df_clustered", "_wb_studio_nodes"),
            str(Path(folder) / "cluster_studio.html"),
            cluster_ids=sizes["cluster_id"].to_list(),
            cluster_names=names,
            overwrite=True,
            return_html_as_string=True,
        )
    return offline(page or "")


def offline(page: str) -> str:
    """A Splink dashboard without its remote font links; refused if anything else would
    still be loaded from the network."""
    page = REMOTE_LINK.sub("", page)
    found = REMOTE_LOAD.search(page)
    if found:
        raise ValueError(f"A Splink dashboard still loads from the network: {found.group(0)}")
    return page


def embedded(page: str, title: str, height: int = 1100) -> str:
    """An HTML fragment showing ``page`` in an iframe of its own (``srcdoc``): the report
    stays one self-contained file."""
    return (
        f"<iframe class='wb-splink' title='{html.escape(title, quote=True)}' "
        f'srcdoc="{html.escape(page, quote=True)}" '
        f"style='width:100%;height:{height}px;border:1px solid #e6e9ef'></iframe>"
    )
