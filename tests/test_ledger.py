"""The load ledger: idempotent re-loads, snapshots, append mode, failures that change nothing."""

from __future__ import annotations

from pathlib import Path

from staged import ingest_staged

from workbench.config import load_project
from workbench.ingest import list_loads, load_file

CONFIG = """
sources:
  people:
    system: crm
    object: contacts
    path: {path}
    mode: {mode}
    columns:
      record_id: id
      email: email
"""


def people_csv(*ids: int) -> str:
    return "id,email\n" + "".join(f"{i},p{i}@x.com\n" for i in ids)


def table_snapshot(store) -> dict[str, list]:
    """Every row of every table in the warehouse, for before/after comparisons."""
    out = {}
    for schema, name in store.rows(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name <> 'temp'"
    ):
        out[f"{schema}.{name}"] = sorted(
            map(repr, store.rows(f'SELECT * FROM "{schema}"."{name}"'))
        )
    return out


def test_loading_the_same_file_twice_changes_nothing(make_project, store_of):
    project = make_project(
        CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": people_csv(1, 2)}
    )
    store = store_of(project)
    first = ingest_staged(project, store)
    assert [r.status for r in first.loads] == ["loaded"]
    before = table_snapshot(store)
    second = ingest_staged(project, store)
    assert [r.status for r in second.loads] == ["unchanged"]
    assert second.loads[0].load_id == first.loads[0].load_id
    assert "unchanged" in second.loads[0].message
    assert table_snapshot(store) == before
    assert len(list_loads(store)) == 1


def test_changed_file_is_a_new_snapshot_that_replaces_the_old(make_project, store_of, tmp_path):
    project = make_project(
        CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": people_csv(1, 2)}
    )
    store = store_of(project)
    ingest_staged(project, store)
    (tmp_path / "p.csv").write_text(people_csv(2, 3, 4))
    report = ingest_staged(project, store)
    assert report.loads[0].status == "loaded"
    loads = list_loads(store)
    assert [(r.load_id, r.is_current) for r in loads] == [(2, True), (1, False)]
    # raw keeps both snapshots; staging holds only the current one
    assert store.scalar('SELECT count(*) FROM raw."people"') == 5
    assert store.rows("SELECT record_id FROM stg.contacts ORDER BY 1") == [("2",), ("3",), ("4",)]
    assert store.rows("SELECT DISTINCT _load_id FROM stg.contacts") == [(2,)]


def test_reverting_to_an_older_export_makes_it_current_again(make_project, store_of, tmp_path):
    project = make_project(CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": people_csv(1)})
    store = store_of(project)
    ingest_staged(project, store)
    (tmp_path / "p.csv").write_text(people_csv(9))
    ingest_staged(project, store)
    (tmp_path / "p.csv").write_text(people_csv(1))
    assert ingest_staged(project, store).loads[0].status == "loaded"
    assert store.rows("SELECT record_id FROM stg.contacts") == [("1",)]


def test_an_export_without_rows_does_not_replace_a_snapshot_with_rows(
    make_project, store_of, tmp_path
):
    project = make_project(
        CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": people_csv(1, 2)}
    )
    store = store_of(project)
    ingest_staged(project, store)
    (tmp_path / "p.csv").write_text(people_csv())  # header only
    refused = ingest_staged(project, store).loads[0]
    assert refused.status == "failed"
    assert refused.error is not None and "2 rows from p.csv" in refused.error.message
    assert "--allow-empty" in (refused.error.fix or "")
    assert store.rows("SELECT record_id FROM stg.contacts ORDER BY 1") == [("1",), ("2",)]
    assert [(r.status, r.is_current) for r in list_loads(store)] == [
        ("failed", False),
        ("loaded", True),
    ]
    emptied = ingest_staged(project, store, allow_empty=True).loads[0]
    assert (emptied.status, emptied.rows_read) == ("loaded", 0)
    assert store.scalar("SELECT count(*) FROM stg.contacts") == 0


def test_an_empty_json_export_loads_as_empty_only_when_asked(make_project, store_of, tmp_path):
    """A JSON array (or a Stripe-style list under a key) without records tells no columns:
    refused as a broken export unless `--allow-empty` says the system has none; then it
    empties the snapshot, keeps the columns the source had, and records no layout."""
    config = CONFIG.format(path="p.json", mode="snapshot")
    stripe = config.replace(
        "    mode: snapshot\n", "    mode: snapshot\n    options: {records: data}\n"
    )
    for text, empty, cfg in (
        ('[{"id": 1, "email": "p1@x.com", "name": "P"}]', "[]", config),
        ('{"data": [{"id": 1, "email": "p1@x.com", "name": "P"}]}', '{"data": []}', stripe),
    ):
        project = make_project(cfg, {"p.json": text})
        store = store_of(project)
        assert ingest_staged(project, store).loads[0].rows_loaded == 1
        (tmp_path / "p.json").write_text(empty)
        refused = ingest_staged(project, store).loads[0]
        assert refused.status == "failed" and refused.error is not None
        assert "holds no records" in refused.error.message
        assert "--allow-empty" in (refused.error.fix or "")
        assert store.scalar("SELECT count(*) FROM stg.contacts") == 1
        emptied = ingest_staged(project, store, allow_empty=True).loads[0]
        assert (emptied.status, emptied.rows_read, emptied.schema_changes) == ("loaded", 0, 0)
        assert store.scalar("SELECT count(*) FROM stg.contacts") == 0
        # the raw table keeps the columns of the export with records
        assert {"id", "email", "name"} <= set(store.columns("raw", "people"))
        assert store.scalar("SELECT count(*) FROM meta.schema_changes") == 0
        store.close()
        project.warehouse_path.unlink()  # the next case starts from a new warehouse


def test_an_empty_json_export_is_the_first_load_with_the_mapped_columns(make_project, store_of):
    project = make_project(CONFIG.format(path="p.json", mode="snapshot"), {"p.json": "[]"})
    store = store_of(project)
    loaded = ingest_staged(project, store, allow_empty=True).loads[0]
    assert (loaded.status, loaded.rows_read) == ("loaded", 0)
    assert [c for c in store.columns("raw", "people") if not c.startswith("_")] == [
        "id",
        "email",
    ]
    assert store.scalar("SELECT count(*) FROM stg.contacts") == 0


def test_append_mode_keeps_every_file_current(make_project, store_of, tmp_path):
    project = make_project(
        CONFIG.format(path="logs/*.csv", mode="append"),
        {"logs/day1.csv": people_csv(1, 2), "logs/day2.csv": people_csv(3)},
    )
    store = store_of(project)
    ingest_staged(project, store)
    (tmp_path / "logs/day2.csv").write_text(people_csv(3, 4))
    report = ingest_staged(project, store)
    assert sorted(r.status for r in report.loads) == ["loaded", "unchanged"]
    assert store.rows("SELECT record_id FROM stg.contacts ORDER BY 1") == [
        ("1",),
        ("2",),
        ("3",),
        ("4",),
    ]


def test_counts_add_up_for_every_load(make_project, store_of):
    body = "id,email\n1,a@x\n2,b@x,extra\n3,c@x\n"
    project = make_project(CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": body})
    store = store_of(project)
    ingest_staged(project, store)
    row = store.rows(
        "SELECT rows_read, rows_loaded, rows_rejected, rows_suppressed FROM meta.loads"
    )[0]
    assert row == (3, 2, 1, 0)
    raw = store.scalar('SELECT count(*) FROM raw."people"')
    quarantined = store.scalar("SELECT count(*) FROM quar.ingest_rejects")
    assert raw + quarantined == row[0]


def test_a_refused_file_leaves_the_warehouse_as_it_was(make_project, store_of, tmp_path):
    project = make_project(CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": people_csv(1)})
    store = store_of(project)
    ingest_staged(project, store)
    before = table_snapshot(store)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,mail\n5,x@y\n")  # mapping names 'email': not in this file
    result = load_file(project, store, "people", bad)
    assert result.status == "failed"
    assert result.error is not None
    assert "Column 'email'" in result.error.what
    assert "sources.people.columns.email" in (result.error.where or "")
    after = table_snapshot(store)
    failed = [r for r in list_loads(store) if r.status == "failed"]
    assert len(failed) == 1 and "email" in (failed[0].error or "")
    # only the ledger gained the failure row; data tables are untouched
    after.pop("meta.loads")
    before.pop("meta.loads")
    assert after == before


def test_changing_the_mapping_restages_without_reloading(make_project, store_of, tmp_path):
    project = make_project(CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": people_csv(1)})
    store = store_of(project)
    ingest_staged(project, store)
    config = (tmp_path / "workbench.yaml").read_text()
    (tmp_path / "workbench.yaml").write_text(
        config.replace("email: email", "email: {from: email, case: upper}")
    )
    project = load_project(tmp_path)
    report = ingest_staged(project, store)
    assert report.loads[0].status == "unchanged"
    assert store.rows("SELECT email FROM stg.contacts") == [("P1@X.COM",)]


def test_changing_a_reader_option_loads_the_file_again(make_project, store_of, tmp_path):
    """A cp1252 export first read as UTF-8 lost its rows with é to the rejects; with the
    encoding put right, the unchanged file is read again (before, it stayed 'unchanged'),
    as a new load that replaces the old one. A staging option only re-stages."""
    data = "id;email;city\n1;a@x.com;Köln\n2;b@x.com;Bonn\n3;c@x.com;Liège\n".encode("cp1252")
    config = CONFIG.format(path="p.csv", mode="snapshot").replace(
        "mode: snapshot", "mode: snapshot\n    options: {delimiter: ';', encoding: utf-8}"
    )
    project = make_project(config, {"p.csv": data})
    store = store_of(project)
    first = ingest_staged(project, store).loads[0]
    assert (first.status, first.rows_loaded, first.rows_rejected) == ("loaded", 1, 2)

    (tmp_path / "workbench.yaml").write_text(config.replace("utf-8", "cp1252"))
    again = ingest_staged(load_project(tmp_path), store).loads[0]
    assert (again.status, again.rows_loaded, again.rows_rejected) == ("loaded", 3, 0)
    assert store.rows("SELECT load_id, is_current FROM meta.loads ORDER BY 1") == [
        (first.load_id, False),
        (again.load_id, True),
    ]
    assert store.rows("SELECT record_id FROM stg.contacts ORDER BY 1") == [("1",), ("2",), ("3",)]

    (tmp_path / "workbench.yaml").write_text(
        config.replace("utf-8", "cp1252").replace(
            "encoding: cp1252", "encoding: cp1252, null_values: ['-']"
        )
    )
    assert ingest_staged(load_project(tmp_path), store).loads[0].status == "unchanged"


def test_ingest_one_file_as_a_named_source(make_project, store_of, tmp_path: Path):
    project = make_project(CONFIG.format(path="p.csv", mode="snapshot"), {"p.csv": people_csv(1)})
    store = store_of(project)
    other = tmp_path / "elsewhere" / "new export.csv"
    other.parent.mkdir()
    other.write_text(people_csv(7, 8))
    report = ingest_staged(project, store, sources=["people"], file=other)
    assert [r.status for r in report.loads] == ["loaded"]
    assert store.rows("SELECT record_id FROM stg.contacts ORDER BY 1") == [("7",), ("8",)]
