"""Erasure: after `workbench erase`, no table and no newly rendered report holds the person's
values, and re-loading an old export does not bring them back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from workbench import audit
from workbench.cli import main
from workbench.config import load_project
from workbench.governance.erasure import ErasurePlan, erase, run
from workbench.ingest.forget import ERASED_MESSAGE
from workbench.resolve import forget
from workbench.store import Store, open_store, table

PERIOD = "2026-09"


@pytest.fixture(scope="module")
def generated(demo_source) -> Path:
    """The session's 1,500-contact demo of seed 42 (conftest.py): copied before any change.
    (The review pair the tests erase by entity is a CRM contact's in this seed's data.)"""
    return demo_source(1500)


@pytest.fixture(scope="module")
def demo(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("erasure") / "demo"
    shutil.copytree(generated, folder)
    return folder


def _person(warehouse: Path) -> dict:
    """A person with records in several systems, tickets, a phone and a unique name."""
    con = duckdb.connect(str(warehouse), read_only=True)
    row = con.execute(
        """WITH e AS (SELECT entity_id FROM id.members GROUP BY 1
                      HAVING count(DISTINCT source) >= 2),
           named AS (SELECT first_name, last_name FROM stg.contacts GROUP BY ALL
                     HAVING count(*) = count(DISTINCT _source))
           SELECT m.entity_id, c.email_norm, c.phone, c.first_name, c.last_name
           FROM e JOIN id.members m USING (entity_id)
           JOIN core.contacts c ON c._source = m.source AND c.record_id = m.record_id
           JOIN named n ON n.first_name = c.first_name AND n.last_name = c.last_name
           WHERE m.source = 'crm_contacts' AND c.phone IS NOT NULL
             AND (SELECT count(*) FROM core.contacts x WHERE x.phone = c.phone) =
                 (SELECT count(*) FROM id.members y WHERE y.entity_id = m.entity_id
                  AND y.source = 'crm_contacts')
             AND EXISTS (SELECT 1 FROM core.tickets t WHERE t.requester_email_norm = c.email_norm)
           ORDER BY m.entity_id LIMIT 1"""
    ).fetchone()
    assert row is not None
    entity, email, phone, first, last = row
    uids = [r[0] for r in con.execute(
        "SELECT unique_id FROM id.members WHERE entity_id = $e", {"e": entity}
    ).fetchall()]  # fmt: skip
    emails = {
        r[0].lower()
        for r in con.execute(
            "SELECT email FROM stg.contacts WHERE list_contains($u, _source || ':' || record_id) "
            "AND email IS NOT NULL",
            {"u": uids},
        ).fetchall()
    }
    raw_phones = {
        r[0].lower()
        for r in con.execute(
            "SELECT phone FROM stg.contacts WHERE list_contains($u, _source || ':' || record_id) "
            "AND phone IS NOT NULL",
            {"u": uids},
        ).fetchall()
    }
    con.close()
    return {
        "entity": entity,
        "email": email,
        "strings": sorted(emails | {email, phone.lstrip("+")} | raw_phones),
        "name": (first.lower(), last.lower()),
        "records": uids,
    }


def _hits(warehouse: Path, person: dict) -> list[str]:
    """Every table (every schema, every column) holding one of the person's strings, or a
    row holding both their first and last name."""
    con = duckdb.connect(str(warehouse), read_only=True)
    found = []
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database()"
    ).fetchall()
    for schema, name in tables:
        ref = f'"{schema}"."{name}"'
        for needle in person["strings"]:
            n = con.execute(
                f"SELECT count(*) FROM {ref} x WHERE contains(lower(x::VARCHAR), $n)", {"n": needle}
            ).fetchone()
            if n and n[0]:
                found.append(f"{schema}.{name}: {needle}")
        first, last = person["name"]
        n = con.execute(
            f"SELECT count(*) FROM {ref} x WHERE contains(lower(x::VARCHAR), $f) "
            "AND contains(lower(x::VARCHAR), $l)",
            {"f": first, "l": last},
        ).fetchone()
        if n and n[0]:
            found.append(f"{schema}.{name}: name")
    con.close()
    return found


@pytest.mark.slow
def test_erasure_leaves_nothing_and_old_exports_do_not_bring_the_person_back(demo, capsys):
    project = load_project(demo)
    warehouse = project.warehouse_path
    root = str(demo)
    person = _person(warehouse)
    before = _hits(warehouse, person)
    assert any(h.startswith("raw.") for h in before) and any("tickets" in h for h in before)
    old_contacts = (demo / "old_contacts.csv").resolve()
    old_tickets = (demo / "old_tickets.ndjson").resolve()
    shutil.copy(demo / "exports" / "crm" / "contacts.csv", old_contacts)
    shutil.copy(demo / "exports" / "support" / "tickets.ndjson", old_tickets)
    reports = demo / "out"
    args = ["--period", PERIOD, "--project", root, "--out", str(reports)]
    assert main(["report", "duplicates", *args]) == 0

    # a dry run shows, masked, and removes nothing
    capsys.readouterr()
    assert main(["erase", "--email", person["email"].upper(), "--dry-run", "--project", root]) == 0
    shown = capsys.readouterr().out
    assert "Dry run" in shown and "duplicates 2026-09" in shown
    assert person["email"] not in shown
    assert _hits(warehouse, person) == before

    assert main(["erase", "--email", person["email"].upper(), "--project", root]) == 0
    shown = capsys.readouterr().out
    assert "tombstone 1" in shown and person["email"] not in shown
    assert _hits(warehouse, person) == []
    with open_store(project, read_only=True) as store:
        entry = store.rows("SELECT details FROM meta.audit WHERE action = 'erase'")
        assert audit.verify(store)[1] == []
        tombs = store.rows("SELECT kind, hash FROM meta.tombstones")
        stale = store.scalar("SELECT stale FROM meta.report_runs WHERE report = 'duplicates'")
    assert len(entry) == 1 and json.loads(entry[0][0])["tombstone_id"] == 1
    assert {k for k, _ in tombs} >= {"record", "email", "phone", "ref"}
    assert all(len(h) == 64 for _, h in tombs)
    assert stale and "erased" in stale
    assert "Marked the stale reports in" in shown
    index = (reports / "index.html").read_text()
    assert "stale</b>: personal data erased" in index  # before any report is rendered again
    assert main(["erase", "--entity-id", person["entity"], "--project", root]) == 7
    assert "nothing to erase" in capsys.readouterr().err

    # re-validating, re-resolving and a fresh unmasked report show nothing of them
    with (demo / "workbench.yaml").open("a") as config:
        config.write("\nprivacy: {allow_unmask: true}\n")
    assert main(["validate", "--project", root]) == 0
    assert main(["resolve", "--project", root]) == 0
    assert main(["report", "kpi_baseline", *args]) == 0
    assert "stale" in (reports / "index.html").read_text()
    assert main(["report", "duplicates", "-p", "unmask=true", *args]) == 0
    index = (reports / "index.html").read_text()
    # the erasure (and the configuration's change) is what changed since the previous run
    assert "erasures, retention, restores: 0 -&gt; 1" in index
    assert "configuration: " in index and "no new data" not in index
    for page in (reports / "duplicates" / PERIOD).iterdir():
        text = page.read_text().lower()
        for needle in person["strings"]:
            assert needle not in text, (page.name, needle)
        assert f"{person['name'][0]} {person['name'][1]}" not in text
    assert _hits(warehouse, person) == []

    # old exports (a changed file: its content is the pre-erasure export) are suppressed
    old_contacts.write_text(old_contacts.read_text() + "\n")
    with old_tickets.open("a") as tickets:
        alias = person["email"].replace("@", "+old@")
        tickets.write(
            json.dumps({"id": "T-OLD", "requester_email": alias, "subject": "Invoice question",
                        "channel": "email", "priority": "low", "status": "open",
                        "region": "EMEA", "segment": "canary",
                        "created_at": "2026-01-05T10:00:00Z"}) + "\n"
        )  # fmt: skip
    capsys.readouterr()
    assert main(["ingest", str(old_contacts), "--source", "crm_contacts", "--project", root]) == 0
    assert "of erased people suppressed" in capsys.readouterr().out
    assert main(["ingest", str(old_tickets), "--source", "support_tickets", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0
    with open_store(project, read_only=True) as store:
        ledger = store.rows(
            "SELECT source, rows_read, rows_loaded, rows_rejected, rows_suppressed "
            "FROM meta.loads WHERE file LIKE '%old_%' ORDER BY load_id"
        )
    assert [r[0] for r in ledger] == ["crm_contacts", "support_tickets"]
    for _, read, loaded, rejected, suppressed in ledger:
        assert suppressed >= 1 and read == loaded + rejected + suppressed
    assert ledger[1][4] >= 2  # the person's tickets, the +alias one included
    assert _hits(warehouse, person) == []
    capsys.readouterr()
    assert main(["ledger", "--project", root]) == 0
    assert "suppressed" in capsys.readouterr().out


CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: c.csv
    columns: {record_id: id, first_name: first, last_name: last, email: email, phone: phone}
  desk:
    system: crm
    object: tickets
    path: t.csv
    columns: {record_id: id, contact_id: who, requester_email: email, created_at: at}
"""
CONTACTS = (
    "id,first,last,email,phone\n"
    "1,Anna,Meyer,anna.meyer@acme.com,+49 30 1234567\n"
    "2,Hans,Meyer,info@acme.com,+49 30 1234567\n"
    "3,Bob,Stone,bob@stone.org,\n"
)
TICKETS = (
    "id,who,email,at\n"
    "t1,1,,2026-01-01\n"
    "t2,,Anna.Meyer+x@acme.com,2026-01-02\n"
    "t3,2,info@acme.com,2026-01-03\n"
)


def test_erasure_without_a_resolution_run_and_what_it_spares(make_project, tmp_path, capsys):
    make_project(CONFIG, {"c.csv": CONTACTS, "t.csv": TICKETS})
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    assert main(["validate", "--project", root]) == 0  # staged, validated, not resolved
    capsys.readouterr()
    assert main(["erase", "--phone", "+49 30 1234567", "--dry-run", "--project", root]) == 0
    out = capsys.readouterr().out
    assert "crm" in out and "A***" in out and "H***" in out  # both records with that number
    assert main(["erase", "--record", "crm:1", "--project", root]) == 0
    with open_store(load_project(root), read_only=True) as store:
        assert store.rows("SELECT id FROM raw.crm ORDER BY id") == [("2",), ("3",)]
        # its ticket by reference and by (aliased) email go; the shared mailbox stays
        assert store.rows("SELECT id FROM raw.desk ORDER BY id") == [("t3",)]
        assert store.rows("SELECT record_id FROM stg.contacts ORDER BY 1") == [("2",), ("3",)]
    for args, message in (
        (["--email", "info@acme.com"], "role mailbox"),
        (["--phone", "12"], "international form"),
        (["--record", "nosuch:1"], "SOURCE:ID"),
        (["--email", "nobody@acme.com"], "nothing to erase"),
        ([], "exactly one identifier"),
        (["--email", "bob@stone.org", "--record", "crm:3"], "exactly one identifier"),
    ):
        assert main(["erase", *args, "--project", root]) == 7, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def _refused_then_loaded(make_project, tmp_path, contacts: str, options: str):
    """A project whose contacts were first refused under the wrong reader ``options`` (the
    refusal quoting a data row as the header), then loaded with the right ones."""
    wrong = CONFIG.replace("path: c.csv", f"path: c.csv\n    options: {options}")
    make_project(wrong, {"c.csv": contacts, "t.csv": TICKETS})
    assert main(["ingest", "--project", str(tmp_path)]) == 3
    (tmp_path / "workbench.yaml").write_text(CONFIG)
    assert main(["ingest", "--project", str(tmp_path)]) == 0
    return load_project(tmp_path)


def test_erasure_replaces_ledger_messages_that_quote_the_person(make_project, tmp_path, capsys):
    """A wrong skip_rows made a data row the header: the refusal listed its values (Anna's
    address) as the file's columns, kept in the ledger. Erasure keeps the ledger row and
    replaces its message, and no byte of the address is left in the warehouse file."""
    project = _refused_then_loaded(make_project, tmp_path, CONTACTS, "{skip_rows: 1}")
    root = str(tmp_path)
    with open_store(project, read_only=True) as store:
        (refused,) = store.rows("SELECT load_id, error FROM meta.loads WHERE status = 'failed'")
    assert "anna.meyer@acme.com" in refused[1]
    capsys.readouterr()
    assert main(["erase", "--email", "Anna.Meyer@acme.com", "--project", root]) == 0
    assert "meta.loads (messages replaced)" in capsys.readouterr().out
    with open_store(project, read_only=True) as store:
        kept = store.rows(
            "SELECT status, error FROM meta.loads WHERE load_id = $i", {"i": refused[0]}
        )
        assert kept == [("failed", ERASED_MESSAGE)]
        others = store.scalar("SELECT count(*) FROM meta.loads WHERE status = 'failed'")
    assert others == 1
    assert b"anna.meyer@acme" not in project.warehouse_path.read_bytes().lower()


def test_erasure_replaces_a_ledger_message_that_quotes_the_person_cut_short(
    make_project, tmp_path, capsys
):
    """Read with the wrong delimiter and skip_rows, the file was one column named after
    its first data row, cut at 60 characters: the address is not whole in the message."""
    long = "annabelle.meyer-schoenberg@acme-corporation.com"
    contacts = f"id,first,last,email,phone\n1,Annabelle,Meyer,{long},\n2,Bob,Stone,b@x.org,\n"
    project = _refused_then_loaded(
        make_project, tmp_path, contacts, "{skip_rows: 1, delimiter: ';'}"
    )
    root = str(tmp_path)
    with open_store(project, read_only=True) as store:
        (error,) = store.rows("SELECT error FROM meta.loads WHERE status = 'failed'")[0]
    assert "annabelle.meyer-schoenberg@acme-corporatio" in error and long not in error
    capsys.readouterr()
    assert main(["erase", "--email", long, "--project", root]) == 0
    with open_store(project, read_only=True) as store:
        assert store.rows("SELECT error FROM meta.loads WHERE status = 'failed'") == [
            (ERASED_MESSAGE,)
        ]
    assert b"annabelle" not in project.warehouse_path.read_bytes().lower()


def test_golden_records_are_erased_in_either_layout(tmp_path):
    """The table behind the view, and a table of the earlier layout (before a run after the
    upgrade replaced it), both reported as ``id.golden_contacts``."""
    with Store(tmp_path / "w.duckdb") as store:
        for name in ("_golden_contacts", "golden_contacts"):
            store.execute(f"CREATE TABLE id.{name} (entity_id VARCHAR, email VARCHAR)")
            store.execute(f"INSERT INTO id.{name} VALUES ('E1', 'a@x.com'), ('E2', 'b@x.com')")
            view = name == "_golden_contacts"
            if view:
                store.execute("CREATE VIEW id.golden_contacts AS FROM id._golden_contacts")
            targets = forget.targets(store, "contacts", [], ["E1"])
            plan = ErasurePlan([], ["E1"], pl.DataFrame(), targets)
            run(store, plan, delete=True)
            assert plan.rows == {"id.golden_contacts": 1}
            assert plan.tables == {f"id.{name}": 1}
            assert store.rows(f"SELECT entity_id FROM id.{name}") == [("E2",)]
            if view:
                store.execute("DROP VIEW id.golden_contacts")
            store.execute(f"DROP TABLE id.{name}")


@pytest.fixture(scope="module")
def several_people(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The demo with a second load of the CRM contacts (holding a rejected line with a
    person's address) and a review decision; and an identifier of each kind to erase."""
    folder = tmp_path_factory.mktemp("erasure") / "people"
    shutil.copytree(generated, folder)
    root = str(folder)
    warehouse = load_project(folder).warehouse_path
    person = _person(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    phone = con.execute(
        "SELECT c.phone FROM core.contacts c JOIN id.members m "
        "ON m.source = c._source AND m.record_id = c.record_id "
        "WHERE c._source = 'crm_contacts' AND c.phone LIKE '+%' AND m.entity_id <> $e "
        "ORDER BY c.record_id LIMIT 1",
        {"e": person["entity"]},
    ).fetchone()
    quarantined = con.execute(
        "SELECT source || ':' || record_id FROM quar.rows WHERE object = 'contacts' "
        "AND source = 'crm_contacts' ORDER BY 1 LIMIT 1"
    ).fetchone()
    pair = con.execute(
        "SELECT unique_id_l, unique_id_r FROM id.review_queue ORDER BY 1, 2 LIMIT 1"
    ).fetchone()
    assert phone and quarantined and pair
    entity = con.execute(
        "SELECT entity_id FROM id.members WHERE unique_id = $u", {"u": pair[0]}
    ).fetchone()
    con.close()
    assert entity is not None
    reviewed = ["review", "decide", *pair, "--no-match", "--project", root]
    assert main(reviewed) == 0
    second = folder / "contacts_again.csv"
    export = (folder / "exports" / "crm" / "contacts.csv").read_text()
    columns = export.split("\n", 1)[0].count(",") + 1
    # one field more than the header has: a line ingest cannot read
    fields = ["003Kp0000REJECT", "Zed", "Broken", person["email"], "+1 555"]
    line = ",".join(fields + ["x"] * (columns + 1 - len(fields))) + "\n"
    second.write_text(export + line)
    assert main(["ingest", str(second), "--source", "crm_contacts", "--project", root]) == 0
    people = {
        "email": ("email", person["email"]),
        "phone": ("phone", phone[0]),
        "record": ("record", quarantined[0]),
        "entity": ("entity", entity[0]),
    }
    return folder, people


def _row_counts(warehouse: Path) -> dict[str, int]:
    """Rows of every table of every schema, counted here and not by erasure's code."""
    con = duckdb.connect(str(warehouse), read_only=True)
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_catalog = current_database()"
    ).fetchall()
    counts = {}
    for schema, name in tables:
        row = con.execute(f"SELECT count(*) FROM {table(schema, name)}").fetchone()
        assert row is not None
        counts[f"{schema}.{name}"] = row[0]
    con.close()
    return counts


def _shown_rows(output: str) -> dict[str, int]:
    """The table/rows lines the CLI prints under "Rows that would be removed"."""
    shown = {}
    for line in output.split("Rows that would be removed", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 2 and cells[1].isdigit():
            shown[cells[0]] = int(cells[1])
    return shown


WRITTEN = {"meta.audit", "meta.settings", "meta.tombstones"}  # an erasure adds rows to these


@pytest.mark.slow
@pytest.mark.parametrize("who", ["email", "phone", "record", "entity"])
def test_the_dry_run_lists_exactly_the_rows_the_erasure_removes(
    several_people, who, tmp_path, capsys
):
    """Counted independently before and after: every table the erasure changes, by as many
    rows as its dry run (and the CLI's) said, and no other."""
    folder = tmp_path / "copy"
    shutil.copytree(several_people[0], folder)
    kind, value = several_people[1][who]
    project = load_project(folder)
    warehouse = project.warehouse_path
    before = _row_counts(warehouse)
    with open_store(project) as store:
        planned = erase(project, store, kind, value, dry_run=True)
    assert _row_counts(warehouse) == before
    flag = {"entity": "--entity-id"}.get(kind, f"--{kind}")
    capsys.readouterr()
    assert main(["erase", flag, value, "--dry-run", "--project", str(folder)]) == 0
    assert _shown_rows(capsys.readouterr().out) == planned.rows
    assert _row_counts(warehouse) == before

    with open_store(project) as store:
        done = erase(project, store, kind, value)
    after = _row_counts(warehouse)
    changed = {
        name: before.get(name, 0) - after.get(name, 0)
        for name in before.keys() | after.keys()
        if before.get(name, 0) != after.get(name, 0)
    }
    removed = {name: n for name, n in changed.items() if name not in WRITTEN}
    assert removed == planned.tables
    assert all(n < 0 for name, n in changed.items() if name in WRITTEN)
    assert done.tables == planned.tables and done.rows == planned.rows
    # every identifier finds a person with records; each reaches the tables it is here for
    expected = {
        "email": {"raw.support_tickets", "core.tickets", "id._golden_contacts", "id.pairs",
                  "quar.ingest_rejects"},
        "phone": set(),
        "record": {"quar.rows", "quar.failures"},
        "entity": {"id.review_queue", "id.review_records_contacts", "id.review_decisions",
                   "id.entity_events"},
    }[who]  # fmt: skip
    assert {"raw.crm_contacts", "stg.contacts", "core.contacts", "id.members"} | expected <= (
        planned.tables.keys()
    )
    assert planned.tables["raw.crm_contacts"] >= 2  # both loads
