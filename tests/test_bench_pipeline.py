"""The pipeline row's baseline does the pipeline's work up to its one report: it reads every
export the demo's sources name, accounts for every row as Workbench does, resolves
contacts, computes every KPI and renders a report, on the same exports."""

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from workbench.bench.bare_pipeline import STAGING, bare_pipeline
from workbench.bench.kpi_cases import PLAIN
from workbench.config import load_project

OBJECTS = ("contacts", "companies", "leads", "deals", "invoices", "fx_rates", "tickets",
           "sync_events")  # fmt: skip


@pytest.mark.slow
def test_bare_pipeline_does_the_pipelines_work(
    demo_source: Callable[..., Path], tmp_path: Path
) -> None:
    demo = demo_source(1500)
    _, members = bare_pipeline(demo, tmp_path / "bare")
    project = load_project(demo)
    # the same sources as the demo's configuration, each staged into its object
    assert set(STAGING) == set(project.config.sources)
    assert {obj for obj, _ in STAGING.values()} == set(OBJECTS)
    bare = duckdb.connect(str(tmp_path / "bare" / "bare.duckdb"), read_only=True)
    ours = duckdb.connect(str(demo / "data" / "warehouse.duckdb"), read_only=True)

    def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
        found = con.execute(sql).fetchone()
        assert found is not None
        return int(found[0])

    for obj in OBJECTS:
        staged = count(bare, f"SELECT count(*) FROM stg.{obj}")
        # every row of the exports read, as Workbench's staging read them
        assert staged == count(ours, f"SELECT count(*) FROM stg.{obj}"), obj
        # and each either valid or set aside, the same rows as Workbench's validation kept
        # (a failed warning sets the value aside, not the row)
        kept = count(bare, f"SELECT count(*) FROM core.{obj}")
        held = count(bare, f"SELECT count(*) FROM quarantine.{obj}")
        assert kept + held == staged, obj
        assert kept == count(ours, f"SELECT count(*) FROM core.{obj}"), obj
    # contacts resolved into entities, about as many as Workbench found
    assert members == count(bare, "SELECT count(*) FROM core.contacts")
    theirs = count(bare, "SELECT count(DISTINCT entity_id) FROM id.members")
    entities = count(ours, "SELECT count(DISTINCT entity_id) FROM id.members")
    assert abs(theirs - entities) <= 0.05 * entities
    assert count(bare, "SELECT count(*) FROM id.golden") == theirs
    # every KPI, by month; one report
    found = {k for (k,) in bare.execute("SELECT DISTINCT kpi FROM kpi_values").fetchall()}
    assert found == {*PLAIN, "ltv"}
    assert [p.name for p in (tmp_path / "bare").glob("*.html")] == ["bare.html"]
