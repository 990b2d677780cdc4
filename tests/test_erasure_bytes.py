"""After `workbench erase`, the person's values are gone from the warehouse file's bytes
(DuckDB keeps deleted rows in its blocks; the erasure rewrites the file), the warehouse
works as before, and the report files rendered unmasked for affected periods are listed
and can be removed."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.report import runner
from workbench.store import table

PERIOD = "2026-09"
WRITTEN = {"meta.audit", "meta.settings", "meta.tombstones", "meta.report_runs"}


@pytest.fixture
def demo(demo_copy) -> Path:
    return demo_copy(400)


def _bytes(warehouse: Path) -> bytes:
    """The warehouse file and its write-ahead log, as `grep -a` reads them."""
    wal = warehouse.with_name(warehouse.name + ".wal")
    return warehouse.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _checkpointed(warehouse: Path) -> bytes:
    con = duckdb.connect(str(warehouse))
    con.execute("CHECKPOINT")
    con.close()
    return _bytes(warehouse)


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() ORDER BY ALL"
    ).fetchall()
    return [table(s, t) for s, t in rows]


def _holding(con: duckdb.DuckDBPyConnection, needles: list[str]) -> dict[str, int]:
    """Rows per table whose text holds one of ``needles`` (lower case)."""
    out = {}
    for name in _tables(con):
        row = con.execute(
            f"SELECT count(*) FROM {name} x WHERE len(list_filter($n::VARCHAR[], "
            "lambda s: contains(lower(x::VARCHAR), s))) > 0",
            {"n": needles},
        ).fetchone()
        if row and row[0]:
            out[name] = row[0]
    return out


def _person(warehouse: Path) -> dict:
    """A CRM contact with an email and a phone whose last name is held only by rows that
    also hold one of their addresses or numbers, and whose values (as written and
    normalized) can be found in the file's bytes: DuckDB compresses some string columns
    (FSST), and a value that cannot be found before the erasure proves nothing after it."""
    data = _checkpointed(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    candidates = con.execute(
        "SELECT m.entity_id, c.email_norm, c.phone, c.last_name FROM core.contacts c "
        "JOIN id.members m ON m.source = c._source AND m.record_id = c.record_id "
        "WHERE c._source = 'crm_contacts' AND c.phone IS NOT NULL "
        "AND c.email_norm IS NOT NULL ORDER BY c.record_id"
    ).fetchall()
    for entity, email, phone, last in candidates:
        uids = [
            r[0]
            for r in con.execute(
                "SELECT unique_id FROM id.members WHERE entity_id = $e", {"e": entity}
            ).fetchall()
        ]
        written = con.execute(
            "SELECT email, phone FROM stg.contacts WHERE list_contains($u, _source || ':' || "
            "record_id)",
            {"u": uids},
        ).fetchall()
        values = sorted({v for row in written for v in row if v} | {email, phone})
        ids = sorted({v.lower() for v in values})
        name_rows = _holding(con, [last.lower()])
        also = {
            name: con.execute(
                f"SELECT count(*) FROM {name} x WHERE contains(lower(x::VARCHAR), $l) AND "
                "len(list_filter($n::VARCHAR[], lambda s: contains(lower(x::VARCHAR), s))) > 0",
                {"l": last.lower(), "n": ids},
            ).fetchone()[0]  # type: ignore[index]
            for name in name_rows
        }
        needles = [*values, last]
        if name_rows == also and all(v.encode() in data for v in needles):
            con.close()
            return {"email": email, "needles": needles, "ids": ids, "uids": uids, "entity": entity}
    con.close()
    raise AssertionError("no person whose values are stored uncompressed")


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in _tables(con)
    }  # type: ignore[index]


def _primary_keys(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT schema_name, table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE database_name = current_database() AND constraint_type = 'PRIMARY KEY' "
        "ORDER BY ALL"
    ).fetchall()


def test_erased_values_leave_no_bytes_and_the_warehouse_works(demo: Path, capsys) -> None:
    project = load_project(demo)
    warehouse = project.warehouse_path
    person = _person(warehouse)
    before = _checkpointed(warehouse)
    assert all(v.encode() in before for v in person["needles"])  # found while live
    con = duckdb.connect(str(warehouse), read_only=True)
    touched = _holding(
        con, person["ids"] + [u.lower() for u in person["uids"]] + [person["entity"].lower()]
    )
    counts, keys = _counts(con), _primary_keys(con)
    last_load = con.execute("SELECT max(load_id) FROM meta.loads").fetchone()[0]  # type: ignore[index]
    con.close()
    assert {"raw.crm_contacts", "core.contacts", "id.members"} <= {
        n.replace('"', "") for n in touched
    }

    root = str(demo)
    assert main(["erase", "--email", person["email"], "--project", root]) == 0
    assert "Rewrote the warehouse" in capsys.readouterr().out

    after = _bytes(warehouse)
    for value in person["needles"]:
        assert value.encode() not in after, value
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [warehouse.name]
    con = duckdb.connect(str(warehouse), read_only=True)
    assert _holding(con, person["ids"]) == {}
    now = _counts(con)
    untouched = {n for n in counts if n not in touched and n.replace('"', "") not in WRITTEN}
    assert untouched and {n: now[n] for n in untouched} == {n: counts[n] for n in untouched}
    assert _primary_keys(con) == keys
    assert con.execute("SELECT count(*) FROM id.golden_contacts").fetchone()[0] > 0  # type: ignore[index]
    con.close()
    assert main(["audit", "verify", "--project", root]) == 0
    assert "intact" in capsys.readouterr().out

    # the sequences go on from where they were: the next load is the one after the last
    again = demo / "contacts_again.csv"
    again.write_text((demo / "exports" / "crm" / "contacts.csv").read_text() + "\n")
    assert main(["ingest", str(again), "--source", "crm_contacts", "--project", root]) == 0
    con = duckdb.connect(str(warehouse))
    assert con.execute("SELECT max(load_id) FROM meta.loads").fetchone()[0] == last_load + 1  # type: ignore[index]
    with pytest.raises(duckdb.ConstraintException):  # the primary keys still hold
        con.execute("INSERT INTO meta.loads SELECT * FROM meta.loads LIMIT 1")
    con.close()
    assert person["email"].encode() not in _bytes(warehouse)  # the old export was suppressed


@pytest.mark.slow
def test_unmasked_reports_of_affected_periods_are_listed_and_removed(demo: Path, capsys) -> None:
    with (demo / "workbench.yaml").open("a") as config:
        config.write("\nprivacy: {allow_unmask: true}\n")
    project = load_project(demo)
    person = _person(project.warehouse_path)
    reports = demo / "reports"

    def render(name: str, period: str, unmask: bool) -> Path:
        run = runner.run_report(
            project, name, period, params={"unmask": unmask}, reports_dir=reports
        )
        assert run.html is not None and run.html.exists()
        return run.html

    unmasked = render("data_quality", PERIOD, True)
    masked_later = render("governance_review", PERIOD, True)
    assert render("governance_review", PERIOD, False) == masked_later  # rendered masked again
    before_person = render("roi", "2000-01", True)  # a period ending before their records
    root = str(demo)
    export = demo / "quarantine.csv"
    assert main(["quarantine", "export", "--unmask", "--out", str(export), "--project", root]) == 0
    listed = [unmasked, unmasked.with_suffix(".ipynb")]
    # a run a hand-edited (or restored) warehouse says wrote a file outside any report's place
    precious = demo / "precious.html"
    precious.write_text("not a report")
    con = duckdb.connect(str(project.warehouse_path))
    con.execute(
        "INSERT INTO meta.report_runs BY NAME SELECT 999 AS run_id, 'data_quality' AS report, "
        "$p AS period, 'ok' AS status, false AS masked, $f AS path",
        {"p": PERIOD, "f": str(precious)},
    )
    con.close()

    capsys.readouterr()
    assert main(["erase", "--email", person["email"], "--dry-run", "--project", root]) == 0
    shown = capsys.readouterr().out
    for file in listed:
        assert f"data_quality {PERIOD}: {file}" in shown
    assert str(masked_later) not in shown and str(before_person) not in shown
    assert f"quarantine export: {export} (still there)" in shown
    assert all(f.exists() for f in listed)

    assert main(["erase", "--email", person["email"], "--remove-reports", "--project", root]) == 0
    shown = capsys.readouterr().out
    assert f"{unmasked} (removed)" in shown
    assert not any(f.exists() for f in listed) and not unmasked.parent.exists()
    assert masked_later.exists() and before_person.exists() and export.exists()
    assert precious.exists() and str(precious) not in shown
    con = duckdb.connect(str(project.warehouse_path), read_only=True)
    entries = con.execute(
        "SELECT details FROM meta.audit WHERE action = 'reports_removed'"
    ).fetchall()
    stale = dict(
        con.execute(
            "SELECT report, stale FROM meta.report_runs WHERE period = $p", {"p": PERIOD}
        ).fetchall()
    )
    con.close()
    assert len(entries) == 1
    assert sorted(json.loads(entries[0][0])["files"]) == sorted(map(str, listed))
    assert "removed" in stale["data_quality"] and "removed" not in stale["governance_review"]
