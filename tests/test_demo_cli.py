"""`workbench demo` end to end at a small size: exports, config, pipeline, warehouse."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
import yaml

from workbench.cli import main
from workbench.dictionary import DEFAULT_DICTIONARY, load_dictionary


def test_demo_runs_the_whole_pipeline_and_refreshes_idempotently(capsys, tmp_path: Path):
    project = tmp_path / "demo"
    assert main(["demo", "--project", str(project), "--contacts", "400", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "warehouse.duckdb" in out

    with (project / "truth" / "contacts_truth.csv").open() as handle:
        truth = list(csv.DictReader(handle))
    con = duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True)
    try:
        loads = con.execute(
            "SELECT source, status, rows_read, rows_loaded, rows_rejected, load_id FROM meta.loads"
        ).fetchall()
        # ten sources, fx_rates in two files (one per year)
        assert len(loads) == 11 and {r[1] for r in loads} == {"loaded"}
        for source, _, read, loaded, rejected, load_id in loads:
            in_raw = con.execute(
                f'SELECT count(*) FROM raw."{source}" WHERE _load_id = ?', [load_id]
            ).fetchone()
            assert in_raw is not None and in_raw[0] == loaded == read - rejected
        staged = con.execute("SELECT _source, record_id FROM stg.contacts").fetchall()
        assert sorted(staged) == sorted((t["source"], t["record_id"]) for t in truth)
        objects = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'stg'"
            ).fetchall()
        }
        assert objects == set(load_dictionary().objects)
    finally:
        con.close()

    # Same seed, same bytes: a refresh finds every export unchanged.
    assert main(["demo", "--project", str(project), "--contacts", "400", "--seed", "3"]) == 0
    assert capsys.readouterr().out.count("unchanged") == 11


def test_demo_refuses_to_overwrite_a_real_project(capsys, tmp_path: Path):
    (tmp_path / "workbench.yaml").write_text("sources: {}\n")
    assert main(["demo", "--project", str(tmp_path)]) == 2
    assert "not a demo project" in capsys.readouterr().err
    assert (tmp_path / "workbench.yaml").read_text() == "sources: {}\n"


@pytest.mark.slow
def test_every_injected_error_is_caught_by_its_severity_and_nothing_else(tmp_path: Path):
    project = tmp_path / "demo"
    assert main(["demo", "--project", str(project), "--contacts", "3000", "--seed", "42"]) == 0
    with (project / "truth" / "injected_errors.csv").open() as handle:
        injected = list(csv.DictReader(handle))
    # what the shipped dictionary says, read here without Workbench: a required field or a
    # repeated id quarantines its row; a bad optional value is set aside and the row kept
    fields = {
        obj: spec["fields"]
        for obj, spec in yaml.safe_load(DEFAULT_DICTIONARY.read_text())["objects"].items()
    }
    objects = {name: spec["object"] for name, spec in yaml.safe_load(
        (project / "workbench.yaml").read_text())["sources"].items()}  # fmt: skip

    def errs(row: dict[str, str]) -> bool:
        spec = fields[objects[row["source"]]][row["field"]]
        return row["kind"] == "duplicate_id" or bool(spec.get("required"))

    con = duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True)
    try:
        quarantined = set(con.execute("SELECT source, row_number FROM quar.rows").fetchall())
        set_aside = set(
            con.execute(
                'SELECT source, row_number, "column" FROM quar.failures WHERE severity = $w',
                {"w": "warn"},
            ).fetchall()
        )
        runs = con.execute("SELECT count(DISTINCT run_id) FROM dq.metrics").fetchone()
    finally:
        con.close()
    assert len(injected) > 30
    assert quarantined == {(r["source"], int(r["row_number"])) for r in injected if errs(r)}
    assert set_aside == {
        (r["source"], int(r["row_number"]), r["field"]) for r in injected if not errs(r)
    }
    assert len(quarantined) > 10 and len(set_aside) > 10
    assert runs is not None and runs[0] == 1
