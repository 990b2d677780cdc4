"""An address written with a final dot (x.com., the fully qualified x.com) is one address
with x.com for erasure too: erased by either spelling, and tombstones made before a final
dot was dropped (their hashes are of the address with it) still keep its rows out."""

from __future__ import annotations

from datetime import UTC, datetime

from projects import CRM_CONTACTS

from workbench import tombstones
from workbench.cli import main
from workbench.config import load_project
from workbench.store import open_store

CONFIG = (
    CRM_CONTACTS
    + """  desk:
    system: crm
    object: tickets
    path: t.csv
    columns: {record_id: id, contact_id: who, requester_email: email, created_at: at}
"""
)
CONTACTS = "id,first,last,email\n1,Anna,Meyer,Anna.Meyer@acme.com.\n3,Bob,Stone,bob@stone.org\n"
TICKETS = "id,who,email,at\nt2,,anna.meyer@acme.com.,2026-01-02\nt3,3,,2026-01-03\n"


def test_an_address_with_a_final_dot_is_erased_by_either_spelling(make_project, tmp_path):
    make_project(CONFIG, {"c.csv": CONTACTS, "t.csv": TICKETS})
    root = str(tmp_path)
    assert main(["ingest", "--project", root]) == 0
    assert main(["erase", "--email", "anna.meyer@acme.com.", "--project", root]) == 0
    with open_store(load_project(root), read_only=True) as store:
        assert store.rows("SELECT id FROM raw.crm") == [("3",)]
        assert store.rows("SELECT id FROM raw.desk") == [("t3",)]


def test_a_tombstone_of_the_address_with_its_final_dot_still_suppresses(make_project, tmp_path):
    make_project(
        CONFIG, {"c.csv": CONTACTS.replace("1,Anna", "9,Anna"), "t.csv": "id,who,email,at\n"}
    )
    root = str(tmp_path)
    project = load_project(root)
    with open_store(project) as store:  # an erasure made when the final dot was kept
        salt = tombstones.salt_of(store, create=True)
        assert salt is not None
        tombstones.record(store, salt, {"email:anna.meyer@acme.com.": "email"}, datetime.now(UTC))
    (tmp_path / "t.csv").write_text(TICKETS)
    assert main(["ingest", "--project", root]) == 0
    with open_store(load_project(root), read_only=True) as store:
        assert store.rows("SELECT id FROM raw.desk") == [("t3",)]
        assert store.rows("SELECT id FROM raw.crm") == [("3",)]
