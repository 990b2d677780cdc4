"""Golden records: the owner's value first, then the newest, then the most complete."""

from __future__ import annotations

from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.resolve import resolve

CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: crm.csv
    columns: {record_id: id, first_name: first, last_name: last, email: email,
              street: street, updated_at: changed}
  billing:
    system: billing
    object: contacts
    path: billing.csv
    columns: {record_id: id, first_name: first, last_name: last, email: email,
              street: street, city: city, updated_at: changed}
"""


def test_survivorship_and_provenance(make_project, store_of):
    # one person in both systems (same email), plus an unrelated person
    project = make_project(
        CONFIG,
        {
            "crm.csv": "id,first,last,email,street,changed\n"
            "C1,Annie,Miller,anna@x.com,Old Road 1,2026-05-01\n"
            "C2,Bob,Stone,bob@y.com,,2026-01-01\n",
            "billing.csv": "id,first,last,email,street,city,changed\n"
            "B1,Anna,Miller,anna@x.com,New Street 9,Berlin,2026-01-01\n",
        },
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    resolve(project, store)
    rows = store.frame(
        "SELECT records, first_name, first_name__from, street, street__from, city, "
        "updated_at__from FROM id.golden_contacts ORDER BY records DESC"
    ).rows(named=True)
    anna = rows[0]
    assert anna["records"] == 2
    # first_name: the CRM owns it, so CRM's 'Annie' wins over billing's 'Anna'
    assert (anna["first_name"], anna["first_name__from"]) == ("Annie", "crm:C1")
    # street: billing owns it, even though the CRM record is newer
    assert (anna["street"], anna["street__from"]) == ("New Street 9", "billing:B1")
    # city: only billing has one
    assert anna["city"] == "Berlin"
    # updated_at has no owner: the most recent record's value
    assert anna["updated_at__from"] == "crm:C1"
    assert rows[1]["records"] == 1 and rows[1]["street"] is None


def test_golden_records_are_the_same_built_in_slices(make_project, store_of, monkeypatch):
    from workbench.resolve import golden

    crm = ["id,first,last,email,street,changed"]
    billing = ["id,first,last,email,street,city,changed"]
    for i in range(40):  # 40 people, most in both systems, with differing values
        crm.append(f"C{i},Ann{i},Lee{i},p{i}@x.com,Road {i},2026-0{1 + i % 9}-01")
        if i % 4:
            billing.append(
                f"B{i},Anna{i},Lee{i},p{i}@x.com,Street {i},City{i % 3},2026-05-0{1 + i % 8}"
            )
    project = make_project(
        CONFIG, {"crm.csv": "\n".join(crm) + "\n", "billing.csv": "\n".join(billing) + "\n"}
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    resolve(project, store)
    spec = project.dictionary.object("contacts")

    def built() -> list[tuple]:
        return store.rows("SELECT * FROM id.golden_contacts ORDER BY entity_id")

    whole = built()
    assert len(whole) == 40
    monkeypatch.setattr(golden, "RECORDS_PER_SLICE", 7)  # 70 records: 10 slices
    assert golden.build_golden(store, "contacts", spec) == 40
    assert built() == whole
