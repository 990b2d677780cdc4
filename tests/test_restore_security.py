"""Restore trusts nothing in a backup but its data: SQL placed in a backup is never run, a
damaged manifest is one clear error, a backup of another project is refused unless forced,
and erasures made after a backup stay made when it is restored."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import polars as pl
import pytest
from catalog import tables

from workbench.cli import main
from workbench.standardize.rules import ROLE_MAILBOXES
from workbench.store import table
from workbench.tombstones import keep, read

SEQUENCES = {  # sequence -> the table and column it numbers
    "meta.load_id_seq": ("meta", "loads", "load_id"),
    "meta.run_id_seq": ("meta", "validation_runs", "run_id"),
    "id.run_id_seq": ("id", "runs", "run_id"),
}


@pytest.fixture(scope="module")
def generated(demo_source) -> Path:
    return demo_source(300)


@pytest.fixture
def demo(demo_copy) -> Path:
    return demo_copy(300)


@pytest.fixture(scope="module")
def backed_up(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A project and a backup of it, for restores that must be refused (nothing changes)."""
    root = tmp_path_factory.mktemp("restore") / "project"
    shutil.copytree(generated, root)
    folder = root.parent / "backup"
    assert main(["backup", "--project", str(root), "--out", str(folder)]) == 0
    return root, folder


def _warehouse(root: Path) -> Path:
    return root / "data" / "warehouse.duckdb"


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _add_file(folder: Path, manifest: dict[str, Any], name: str, text: str) -> None:
    """Put a file into the backup and list it with its true checksum, as an attacker can."""
    data = text.encode()
    (folder / name).write_bytes(data)
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _bytes(warehouse: Path) -> bytes:
    """The warehouse file and its write-ahead log, as `grep -a` reads them."""
    wal = warehouse.with_name(warehouse.name + ".wal")
    return warehouse.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _backup(root: Path, folder: Path) -> Path:
    assert main(["backup", "--project", str(root), "--out", str(folder)]) == 0
    return folder


def _differences(con: duckdb.DuckDBPyConnection, name: str, a: str, b: str) -> int:
    """Rows in one table and not the other (as multisets), either way."""
    n = 0
    for one, other in ((a, b), (b, a)):
        n += con.execute(f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})").fetchone()[0]
    return n


# -- SQL in a backup is never run --------------------------------------------------------------
@pytest.mark.slow
def test_sql_files_in_a_backup_are_not_run(demo: Path, tmp_path: Path, capsys) -> None:
    folder = _backup(demo, tmp_path / "backup")
    pwned = tmp_path / "pwned"
    attack = f"COPY (SELECT 'x' AS x) TO '{pwned}' (FORMAT csv);\n"
    probe = tmp_path / "probe"  # the payload does write a file when it is run
    duckdb.connect().execute(attack.replace(str(pwned), str(probe)))
    assert probe.exists()
    manifest = _manifest(folder)
    expected = {name: t["rows"] for name, t in manifest["tables"].items()}
    _add_file(folder, manifest, "schema.sql", "CREATE SCHEMA raw;\n" + attack)
    _add_file(folder, manifest, "load.sql", attack)
    _write_manifest(folder, manifest)
    capsys.readouterr()
    assert main(["restore", str(folder), "--project", str(demo)]) == 0
    assert not pwned.exists()
    con = duckdb.connect(str(_warehouse(demo)), read_only=True)
    for name, rows in expected.items():
        schema, tab = name.split(".", 1)
        got = con.execute(f"SELECT count(*) FROM {table(schema, tab)}").fetchone()[0]
        assert got == rows + (1 if name == "meta.audit" else 0), name  # + the restore entry
    con.close()


def _typed(kind: str) -> Callable[[dict[str, Any], Path], None]:
    def change(manifest: dict[str, Any], pwned: Path) -> None:
        manifest["tables"]["meta.loads"]["columns"][1][1] = kind.format(pwned=pwned)

    return change


def _renamed(manifest: dict[str, Any], pwned: Path) -> None:
    name = f"fx_rates\"; COPY (SELECT 1) TO '{pwned}' (FORMAT csv); --"
    spec = manifest["tables"].pop("raw.fx_rates")
    manifest["tables"][f"raw.{name}"] = spec | {"name": name}


def _defaulted(manifest: dict[str, Any], pwned: Path) -> None:
    spec = manifest["tables"]["meta.loads"]
    spec["defaults"]["error"] = f"x'); COPY (SELECT 1) TO '{pwned}' (FORMAT csv); --"


def _sequenced(manifest: dict[str, Any], pwned: Path) -> None:
    manifest["sequences"]["meta.load_id_seq"]["next"] = f"1; COPY (SELECT 1) TO '{pwned}'"


def _viewed(manifest: dict[str, Any], pwned: Path) -> None:
    manifest["views"]["id.golden_contacts"] = {"golden": f"x AS COPY (SELECT 1) TO '{pwned}'"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_typed("VARCHAR); COPY (SELECT 1) TO '{pwned}' (FORMAT csv); --"), 7),
        (_typed("VARCHAR DEFAULT (SELECT 1)"), 7),
        (_typed("STRUCT(a VARCHAR) ; COPY"), 7),
        (_renamed, 0),  # a name stays a name: the table is made under it
        (_defaulted, 0),  # a default stays a text constant
        (_sequenced, 7),
        (_viewed, 7),
    ],
    ids=["type", "type-default", "struct", "table-name", "default", "sequence", "view"],
)
def test_sql_in_the_manifest_is_never_run(
    demo: Path, tmp_path: Path, capsys, change: Callable[[dict[str, Any], Path], None], code: int
) -> None:
    folder = _backup(demo, tmp_path / "backup")
    pwned = tmp_path / "pwned"
    manifest = _manifest(folder)
    change(manifest, pwned)
    _write_manifest(folder, manifest)
    capsys.readouterr()
    assert main(["restore", str(folder), "--project", str(demo)]) == code
    err = capsys.readouterr().err
    assert not pwned.exists()
    if code:
        assert "Error:" in err and "Traceback" not in err
        assert not list(_warehouse(demo).parent.glob("*.bak"))


# -- the demo warehouse comes back whole -------------------------------------------------------
@pytest.mark.slow
def test_the_demo_warehouse_round_trips(demo: Path, tmp_path: Path, capsys) -> None:
    folder = _backup(demo, tmp_path / "backup")
    original = tmp_path / "original.duckdb"
    shutil.copy(_warehouse(demo), original)
    capsys.readouterr()
    assert main(["restore", str(folder), "--project", str(demo)]) == 0
    assert "Warning" not in capsys.readouterr().out
    con = duckdb.connect()
    con.execute(f"ATTACH '{original}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{_warehouse(demo)}' AS b")
    before, after = tables(con, "a"), tables(con, "b")
    assert before == after
    assert {"id.members", "id._golden_contacts", "meta.loads"} <= set(before)
    for name in before:
        schema, tab = name.split(".")
        a, b = f"a.{table(schema, tab)}", f"b.{table(schema, tab)}"
        if name == "meta.audit":
            b = f"(SELECT * FROM {b} WHERE action <> 'restore')"
        if name == "meta.settings":
            a, b = (f"(SELECT * FROM {x} WHERE key <> 'audit_head')" for x in (a, b))
        assert _differences(con, name, a, b) == 0, name
    golden = "id.golden_contacts"  # the view, made again by Workbench's code
    assert con.execute(f"SELECT count(*) FROM b.{golden}").fetchone()[0] > 0
    assert _differences(con, golden, f"a.{golden}", f"b.{golden}") == 0
    for seq, (schema, tab, column) in SEQUENCES.items():
        top = con.execute(f"SELECT max({column}) FROM b.{table(schema, tab)}").fetchone()[0]
        assert top is not None
        assert con.execute(f"SELECT nextval('b.{seq}')").fetchone()[0] > top, seq
    con.close()


# -- project identity --------------------------------------------------------------------------
@pytest.mark.slow
def test_a_backup_of_another_project_is_refused_unless_forced(
    generated: Path, tmp_path: Path, capsys
) -> None:
    mine, other = tmp_path / "mine", tmp_path / "other"
    shutil.copytree(generated, mine)
    shutil.copytree(generated, other)
    theirs = _backup(other, tmp_path / "theirs")
    _backup(mine, tmp_path / "ours")  # mine gets its own identity
    mine_id = (mine / ".workbench" / "project_id").read_text().strip()
    other_id = (other / ".workbench" / "project_id").read_text().strip()
    assert mine_id != other_id and _manifest(theirs)["project_id"] == other_id
    before = _warehouse(mine).read_bytes()
    capsys.readouterr()
    assert main(["restore", str(theirs), "--project", str(mine)]) == 7
    err = capsys.readouterr().err
    assert "another project" in err and "--force" in err and "Traceback" not in err
    assert _warehouse(mine).read_bytes() == before
    assert not list(_warehouse(mine).parent.glob("*.bak"))
    assert main(["restore", str(theirs), "--project", str(mine), "--force"]) == 0
    assert len(list(_warehouse(mine).parent.glob("*.bak"))) == 1
    con = duckdb.connect(str(_warehouse(mine)), read_only=True)
    details = con.execute(
        "SELECT details FROM meta.audit WHERE action = 'restore' ORDER BY entry_id DESC LIMIT 1"
    ).fetchone()[0]
    con.close()
    assert json.loads(details)["forced"] is True
    # the project keeps its own identity
    assert (mine / ".workbench" / "project_id").read_text().strip() == mine_id


@pytest.mark.slow
def test_a_project_set_up_again_takes_its_backups_identity(
    generated: Path, tmp_path: Path, capsys
) -> None:
    root = tmp_path / "p"
    shutil.copytree(generated, root)
    folder = _backup(root, tmp_path / "backup")
    shutil.rmtree(root / ".workbench")  # the project folder lost, then set up again
    _warehouse(root).unlink()
    assert main(["restore", str(folder), "--project", str(root)]) == 0
    assert (root / ".workbench" / "project_id").read_text().strip() == _manifest(folder)[
        "project_id"
    ]


# -- erasures made after a backup --------------------------------------------------------------
def _person(warehouse: Path) -> dict[str, Any]:
    """A person of two records (an entity), with their email and lineage keys."""
    con = duckdb.connect(str(warehouse), read_only=True)
    entity, email = con.execute(
        """SELECT m.entity_id, min(c.email_norm) FROM id.members m
           JOIN core.contacts c ON c._source = m.source AND c.record_id = m.record_id
           WHERE m.entity_id IN (SELECT entity_id FROM id.members GROUP BY 1
                                 HAVING count(DISTINCT source) = 2 AND count(*) = 2)
           GROUP BY 1 HAVING count(DISTINCT c.email_norm) = 1 AND min(c.email_norm) IS NOT NULL
              AND NOT regexp_matches(min(c.email_norm), '^(' || $roles || ')@')
           ORDER BY 1 LIMIT 1""",
        {"roles": ROLE_MAILBOXES},  # shared mailboxes identify no one: not erasable by email
    ).fetchone()
    uids = [r[0] for r in con.execute(
        "SELECT unique_id FROM id.members WHERE entity_id = $e", {"e": entity}
    ).fetchall()]  # fmt: skip
    lineage = con.execute(
        "SELECT _source, _load_id, _row_number FROM stg.contacts "
        "WHERE list_contains($u, _source || ':' || record_id)",
        {"u": uids},
    ).fetchall()
    con.close()
    assert len(uids) == 2 and len(lineage) >= 2
    return {"entity": entity, "email": email, "uids": uids, "lineage": lineage}


def _traces(warehouse: Path, person: dict[str, Any]) -> dict[str, int]:
    """Rows of the person left in raw, staging, core and identity tables."""
    con = duckdb.connect(str(warehouse), read_only=True)
    u = {"u": person["uids"]}
    out = {
        "id.members": "SELECT count(*) FROM id.members WHERE list_contains($u, unique_id)",
        "id.golden_contacts": "SELECT count(*) FROM id.golden_contacts WHERE entity_id = $e",
        "stg.contacts": "SELECT count(*) FROM stg.contacts "
        "WHERE list_contains($u, _source || ':' || record_id)",
        "core.contacts": "SELECT count(*) FROM core.contacts WHERE email_norm = $m",
        "core.tickets": "SELECT count(*) FROM core.tickets WHERE requester_email_norm = $m",
    }
    m = {"m": person["email"]}
    params = {"id.golden_contacts": {"e": person["entity"]}, "core.contacts": m, "core.tickets": m}
    counts = {n: con.execute(sql, params.get(n, u)).fetchone()[0] for n, sql in out.items()}
    counts["raw"] = sum(
        con.execute(
            f"SELECT count(*) FROM {table('raw', source)} WHERE _load_id = $l AND _row_number = $r",
            {"l": load, "r": row},
        ).fetchone()[0]
        for source, load, row in person["lineage"]
    )
    con.close()
    return counts


@pytest.mark.slow
def test_a_restore_does_not_bring_back_a_person_erased_after_the_backup(
    demo: Path, tmp_path: Path, capsys
) -> None:
    folder = _backup(demo, tmp_path / "backup")
    original = tmp_path / "original.duckdb"
    shutil.copy(_warehouse(demo), original)
    person = _person(_warehouse(demo))
    present = _traces(_warehouse(demo), person)
    assert present["raw"] >= 2 and present["core.contacts"] >= 1 and present["id.members"] == 2
    assert main(["erase", "--project", str(demo), "--email", person["email"]]) == 0
    erased = tmp_path / "erased.duckdb"
    shutil.copy(_warehouse(demo), erased)
    assert set(_traces(erased, person).values()) == {0}
    capsys.readouterr()

    assert main(["restore", str(folder), "--project", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "1 erasure(s) made after this backup were re-applied" in out
    assert set(_traces(_warehouse(demo), person).values()) == {0}
    assert person["email"].encode() in _bytes(original)  # a value the file shows as written
    assert person["email"].encode() not in _bytes(_warehouse(demo))  # not even deleted rows
    # the restored warehouse is the erased one again, table by table
    con = duckdb.connect()
    con.execute(f"ATTACH '{erased}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{_warehouse(demo)}' AS b")
    assert tables(con, "a") == tables(con, "b")
    for name in tables(con, "a"):
        if name not in ("meta.audit", "meta.settings"):
            schema, tab = name.split(".")
            a, b = f"a.{table(schema, tab)}", f"b.{table(schema, tab)}"
            assert _differences(con, name, a, b) == 0, name
    entry = con.execute(
        "SELECT details FROM b.meta.audit WHERE action = 'restore' ORDER BY entry_id DESC LIMIT 1"
    ).fetchone()[0]
    con.close()
    details = json.loads(entry)
    assert details["erasures_reapplied"] == [1] and details["rows_removed"]["id.members"] == 2
    assert main(["audit", "verify", "--project", str(demo)]) == 0
    # a second restore of the same backup erases again, and nothing else
    assert main(["restore", str(folder), "--project", str(demo)]) == 0
    assert "1 erasure(s) made after this backup were re-applied" in capsys.readouterr().out
    assert set(_traces(_warehouse(demo), person).values()) == {0}
    # a backup taken after the erasure holds its tombstone: nothing to re-apply
    later = _backup(demo, tmp_path / "later")
    assert main(["restore", str(later), "--project", str(demo)]) == 0
    assert "Warning" not in capsys.readouterr().out


@pytest.mark.slow
def test_the_tombstone_file_holds_erasures_made_before_it_existed(
    demo: Path, tmp_path: Path
) -> None:
    person = _person(_warehouse(demo))
    assert main(["erase", "--project", str(demo), "--email", person["email"]]) == 0
    kept = demo / ".workbench" / "tombstones.jsonl"
    kept.unlink()  # as if the erasure came before the file
    _backup(demo, tmp_path / "backup")
    con = duckdb.connect(str(_warehouse(demo)), read_only=True)
    hashes = sorted(con.execute("SELECT kind, hash FROM meta.tombstones").fetchall())
    con.close()
    lines = [json.loads(line) for line in kept.read_text().splitlines()]
    assert [line["tombstone_id"] for line in lines] == [1]
    assert sorted(tuple(p) for p in lines[0]["hashes"]) == hashes


def test_a_tombstone_line_cut_short_is_the_erasure_that_never_committed(tmp_path: Path) -> None:
    project = SimpleNamespace(root=tmp_path)  # the file needs only the project folder
    at = datetime(2026, 1, 2, tzinfo=UTC)
    keep(project, 1, "s1", [("email", "a" * 64), ("record", "b" * 64)], at)
    path = tmp_path / ".workbench" / "tombstones.jsonl"
    whole = path.read_bytes()
    path.write_bytes(whole + whole[:30])  # a second line, cut short by a crash
    assert [t.tombstone_id for t in read(project)] == [1]
    keep(project, 2, "s1", [("email", "c" * 64)], at)
    kept = read(project)
    assert [t.tombstone_id for t in kept] == [1, 2]
    assert kept[0].hashes == (("email", "a" * 64), ("record", "b" * 64))
    assert kept[1].erased_at == "2026-01-02T00:00:00+00:00" and kept[1].salt == "s1"
    assert path.stat().st_mode & 0o077 == 0  # it holds the salt: the owner's only


APPEND_ONE = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from workbench.tombstones import keep
keep(SimpleNamespace(root=Path(sys.argv[1])), 2, "s1", [("email", "c" * 64)],
     datetime(2026, 1, 2, tzinfo=UTC))
"""


def test_a_writer_waits_for_the_tombstone_file(tmp_path: Path) -> None:
    """Erasures and a backup's sync may append at the same time, while the file ends in a
    line cut short that each would drop: a writer takes the file's lock first, so one
    writes at a time and no line is cut or lost."""
    import fcntl
    import subprocess
    import sys
    import time

    project = SimpleNamespace(root=tmp_path)
    keep(project, 1, "s1", [("email", "a" * 64)], datetime(2026, 1, 2, tzinfo=UTC))
    path = tmp_path / ".workbench" / "tombstones.jsonl"
    with path.open("ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another writer, mid-append
        writer = subprocess.Popen([sys.executable, "-c", APPEND_ONE, str(tmp_path)])
        time.sleep(1.5)
        held.write(b'{"tombstone_id": 9, "erased')  # its line, cut short by a crash
        held.flush()
        assert writer.poll() is None  # still waiting
    assert writer.wait(timeout=60) == 0
    assert [t.tombstone_id for t in read(project)] == [1, 2]
    assert all(json.loads(line) for line in path.read_bytes().splitlines())  # all whole


@pytest.mark.slow
def test_a_damaged_tombstone_file_stops_a_restore(backed_up: tuple[Path, Path], capsys) -> None:
    root, folder = backed_up
    kept = root / ".workbench" / "tombstones.jsonl"
    good = {"tombstone_id": 1, "erased_at": "2026-01-01T00:00:00+00:00", "salt": "ab"}
    good["hashes"] = [["email", "a" * 64]]
    kept.write_text(json.dumps(good) + "\nnot json\n")
    before = _warehouse(root).read_bytes()
    capsys.readouterr()
    try:
        assert main(["restore", str(folder), "--project", str(root)]) == 7
    finally:
        kept.unlink()
    err = capsys.readouterr().err
    assert "tombstone file is damaged at line 2" in err and "Traceback" not in err
    assert _warehouse(root).read_bytes() == before


# -- a damaged manifest ------------------------------------------------------------------------
def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], Any]:
    def change(manifest: dict[str, Any]) -> Any:
        node = manifest
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return manifest

    return change


def _first_file(manifest: dict[str, Any]) -> str:
    return sorted(manifest["files"])[0]


DAMAGES: dict[str, Callable[[bytes, dict[str, Any]], bytes]] = {
    "truncated": lambda raw, m: raw[: len(raw) // 2],
    "garbage": lambda raw, m: b"\x00\x13garbage{{[",
    "not-utf8": lambda raw, m: raw.replace(b'"format"', b'"f\xff\xfermat"'),
    "empty": lambda raw, m: b"",
    "a-list": lambda raw, m: b"[1, 2, 3]",
    "files-a-list": lambda raw, m: json.dumps(_set(("files",), list(m["files"]))(m)).encode(),
    "tables-a-list": lambda raw, m: json.dumps(_set(("tables",), list(m["tables"]))(m)).encode(),
    "no-sha256": lambda raw, m: json.dumps(
        _set(("files", _first_file(m)), {"bytes": 1})(m)
    ).encode(),
    "name-with-slash": lambda raw, m: json.dumps(
        _set(("files", "../../etc/passwd"), m["files"][_first_file(m)])(m)
    ).encode(),
    "table-file-outside": lambda raw, m: json.dumps(
        _set(("tables", "meta.loads", "file"), "../meta_loads.parquet")(m)
    ).encode(),
    "column-not-a-name": lambda raw, m: json.dumps(
        _set(("tables", "meta.loads", "columns", 0), [5, "BIGINT"])(m)
    ).encode(),
    "rows-as-text": lambda raw, m: json.dumps(
        _set(("tables", "meta.loads", "rows"), "10")(m)
    ).encode(),
    "no-project-id": lambda raw, m: json.dumps(_set(("project_id",), None)(m)).encode(),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_manifest_is_one_clear_error(
    backed_up: tuple[Path, Path], tmp_path: Path, capsys, damage: str
) -> None:
    root, original = backed_up
    folder = tmp_path / "backup"
    shutil.copytree(original, folder)
    raw = (folder / "manifest.json").read_bytes()
    (folder / "manifest.json").write_bytes(DAMAGES[damage](raw, json.loads(raw)))
    before = _warehouse(root).read_bytes()
    capsys.readouterr()
    assert main(["restore", str(folder), "--project", str(root)]) == 7
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "Traceback" not in err
    assert "manifest" in err and "manifest.json" in err.replace("\n", "")  # what, and where
    assert "Fix:" in err
    assert _warehouse(root).read_bytes() == before
    assert not list(_warehouse(root).parent.glob("*.bak"))


@pytest.mark.slow
def test_erase_lists_the_warehouse_copies_that_may_still_hold_the_person(
    demo: Path, capsys
) -> None:
    assert main(["backup", "--project", str(demo)]) == 0  # into the project's backups/
    (dated,) = [m.parent for m in (demo / "backups").glob("*/manifest.json")]
    assert main(["restore", str(dated), "--project", str(demo)]) == 0  # keeps a .bak
    (kept,) = _warehouse(demo).parent.glob(f"{_warehouse(demo).name}.*.bak")
    person = _person(_warehouse(demo))
    capsys.readouterr()
    assert main(["erase", "--project", str(demo), "--email", person["email"], "--dry-run"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Copies of the warehouse made before this erasure" in out
    assert str(dated) in out and str(kept) in out
    assert dated.exists() and kept.exists()  # listed, never deleted


@pytest.mark.slow
def test_a_backup_folder_named_like_a_glob_restores_its_own_checked_files(
    demo: Path, tmp_path: Path, capsys
) -> None:
    # DuckDB reads a path as a glob: "bk[1]" would match a folder "bk1" beside it, whose
    # files no checksum ever covered
    folder = _backup(demo, tmp_path / "bk[1]")
    decoy = tmp_path / "bk1"
    shutil.copytree(folder, decoy)
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{decoy}/core_contacts.parquet')").pl()
    rows = rows.with_columns(email=pl.lit("attacker@evil.example"))
    rows.write_parquet(decoy / "core_contacts.parquet")
    expected = duckdb.connect(str(_warehouse(demo)), read_only=True)
    emails = expected.execute("SELECT count(DISTINCT email) FROM core.contacts").fetchone()[0]
    expected.close()
    assert main(["restore", str(folder), "--project", str(demo)]) == 0
    con = duckdb.connect(str(_warehouse(demo)), read_only=True)
    assert con.execute("SELECT count(DISTINCT email) FROM core.contacts").fetchone()[0] == emails
    assert (
        con.execute(
            "SELECT count(*) FROM core.contacts WHERE email = 'attacker@evil.example'"
        ).fetchone()[0]
        == 0
    )
    con.close()


@pytest.mark.slow
def test_restore_holds_the_warehouse_while_it_builds(
    demo: Path, tmp_path: Path, monkeypatch
) -> None:
    import subprocess
    import sys

    from workbench.governance import backup

    folder = _backup(demo, tmp_path / "backup")
    seen: list[subprocess.CompletedProcess[str]] = []
    build = backup.build

    def build_while_another_command_tries(*args: Any, **kwargs: Any) -> Any:
        seen.append(
            subprocess.run(
                [sys.executable, "-m", "workbench.cli", "ingest", "--project", str(demo)],
                capture_output=True, text=True, timeout=120, check=False,
            )
        )  # fmt: skip
        return build(*args, **kwargs)

    monkeypatch.setattr(backup, "build", build_while_another_command_tries)
    assert main(["restore", str(folder), "--project", str(demo)]) == 0
    assert seen[0].returncode == 4 and "The warehouse is in use" in seen[0].stderr
