"""Loads and a mapping changed in workbench.yaml reach validation, which says what it staged."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.store import open_store

CONFIG = """
sources:
  desk:
    system: support
    object: tickets
    path: t.csv
    columns:
      record_id: id
      created_at: created
      priority: {from: prio, map: {"1": low, "2": high}}
"""
TICKETS = "id,prio,created\nT1,1,2026-01-01\nT2,2,2026-01-02\nT3,4,2026-01-03\n"


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def project(tmp_path: Path) -> str:
    (tmp_path / "workbench.yaml").write_text(CONFIG)
    (tmp_path / "t.csv").write_text(TICKETS)
    return str(tmp_path)


def priorities(root: str) -> list[tuple[str, str | None]]:
    with open_store(load_project(root), read_only=True) as store:
        return store.rows("SELECT record_id, priority FROM core.tickets ORDER BY 1")


@pytest.mark.slow
def test_validate_uses_a_mapping_changed_since_ingest(tmp_path, capsys):
    root = project(tmp_path)
    assert run(capsys, "ingest", "--project", root)[0] == 0
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0
    assert "Staged from the loaded data first: desk (3 rows, new loads)." in text
    assert priorities(root) == [("T1", "low"), ("T2", "high"), ("T3", None)]  # '4' set aside

    config = tmp_path / "workbench.yaml"
    config.write_text(CONFIG.replace('"2": high}', '"2": high, "4": urgent}'))
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0
    assert "Staged from the loaded data first: desk (3 rows, changed mapping)." in text
    assert priorities(root) == [("T1", "low"), ("T2", "high"), ("T3", "urgent")]
    code, text = run(capsys, "validate", "--project", root)  # nothing changed since
    assert code == 0 and "Staged" not in text


def test_ingest_leaves_staging_to_validation(tmp_path, capsys):
    """Ingest writes each file once (raw, with lineage); staging is built from the loaded
    rows by validation, which says so, and only for what changed since it last staged."""
    root = project(tmp_path)
    code, text = run(capsys, "ingest", "--project", root)
    assert code == 0 and "loaded 3 of 3 rows" in text
    assert "Next: `workbench validate` stages and checks what was loaded." in text
    with open_store(load_project(root), read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM raw.desk") == 3
        assert not store.table_exists("stg", "tickets")

    config = tmp_path / "workbench.yaml"
    config.write_text(CONFIG.replace("record_id: id", "record_id: id\n      channel: prio"))
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0 and "desk (3 rows, new loads)" in text
    with open_store(load_project(root), read_only=True) as store:
        assert store.rows("SELECT channel FROM stg.tickets ORDER BY record_id") == [
            ("1",),
            ("2",),
            ("4",),
        ]
    code, text = run(capsys, "ingest", "--project", root)
    assert code == 0 and "unchanged" in text and "Next:" not in text
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0 and "Staged" not in text


def test_a_changed_mapping_naming_a_missing_column_stops_validation_clearly(tmp_path, capsys):
    root = project(tmp_path)
    assert run(capsys, "ingest", "--project", root)[0] == 0
    config = tmp_path / "workbench.yaml"
    config.write_text(CONFIG.replace("created_at: created", "created_at: opened"))
    code, text = run(capsys, "validate", "--project", root)
    assert code == 3
    assert "Column 'opened' (mapped to tickets.created_at) is not in" in text
    assert "sources.desk.columns.created_at" in text and "Traceback" not in text


DICTIONARY = """
objects:
  tickets:
    fields:
      score: {type: text}
"""


def test_a_dictionary_changed_after_a_load_reshapes_staging(tmp_path, capsys):
    """A field added to the dictionary and mapped, and a field whose type changed, after the
    data was loaded: validation re-stages every row into the new shape (the added field's
    values, the new type's reading) and loses none; a staging table left in the old shape
    by an earlier release is brought to it too."""
    root = project(tmp_path)
    (tmp_path / "t.csv").write_text(
        "id,prio,created,score,team\nT1,1,2026-01-01,7,a\nT2,2,2026-01-02,x,b\n"
        "T3,4,2026-01-03,9,c\n"
    )
    config = tmp_path / "workbench.yaml"
    mapped = CONFIG.replace("sources:", "dictionary: d.yaml\nsources:")
    config.write_text(
        mapped.replace("      record_id: id", "      record_id: id\n      score: score")
    )
    (tmp_path / "d.yaml").write_text(DICTIONARY)
    assert run(capsys, "ingest", "--project", root)[0] == 0
    assert run(capsys, "validate", "--project", root)[0] == 0

    (tmp_path / "d.yaml").write_text(
        DICTIONARY.replace("score: {type: text}", "score: {type: integer}\n      team: {}")
    )
    config.write_text(config.read_text().replace("score: score", "score: score\n      team: team"))
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0, text
    with open_store(load_project(root), read_only=True) as store:
        rows = store.rows("SELECT record_id, score, team FROM core.tickets ORDER BY 1")
        kind = store.scalar(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = 'stg' "
            "AND table_name = 'tickets' AND column_name = 'score'"
        )
        staged = store.scalar("SELECT count(*) FROM stg.tickets")
    assert kind == "BIGINT" and staged == 3
    # 'x' is no integer: set aside from the field, the row kept
    assert rows == [("T1", 7, "a"), ("T2", None, "b"), ("T3", 9, "c")]

    # a staging table in the old shape with a current fingerprint (an earlier release)
    with open_store(load_project(root)) as store:
        store.execute("ALTER TABLE stg.tickets ALTER COLUMN score TYPE VARCHAR")
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0 and "desk (3 rows, changed mapping)" in text, text
    with open_store(load_project(root), read_only=True) as store:
        assert store.rows("SELECT record_id, score FROM core.tickets ORDER BY 1") == [
            ("T1", 7), ("T2", None), ("T3", 9)
        ]  # fmt: skip


def test_a_load_without_rows_is_no_new_load_once_staged(tmp_path, capsys):
    """An empty export (loaded with --allow-empty) stages no row; a mapping changed after it
    was staged is said as such, not as new loads. A changed export after a validation is
    new loads again."""
    root = project(tmp_path)
    (tmp_path / "t.csv").write_text("id,prio,created\n")
    assert run(capsys, "ingest", "--allow-empty", "--project", root)[0] == 0
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0 and "desk (0 rows, new loads)" in text
    config = tmp_path / "workbench.yaml"
    config.write_text(CONFIG.replace('"2": high}', '"2": high, "4": urgent}'))
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0 and "desk (0 rows, changed mapping)" in text
    (tmp_path / "t.csv").write_text(TICKETS)
    assert run(capsys, "ingest", "--project", root)[0] == 0
    code, text = run(capsys, "validate", "--project", root)
    assert code == 0 and "desk (3 rows, new loads)" in text
