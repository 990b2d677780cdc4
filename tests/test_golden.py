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


def test_golden_records_follow_the_rules_computed_in_python(make_project, store_of):
    """40 people, most in both systems with differing values, gaps and dates; every golden
    field and its provenance against the rules applied in plain Python."""
    crm = ["id,first,last,email,street,changed"]
    billing = ["id,first,last,email,street,city,changed"]
    for i in range(40):
        street = f"Road {i}" if i % 3 else ""
        changed = f"2026-0{1 + i % 9}-01" if i % 5 else ""
        if i % 7 == 0 and changed:  # as recent as the billing record: completeness decides
            changed = f"2026-05-0{1 + i % 8}"
        crm.append(f"C{i},Ann{i},Lee{i},p{i}@x.com,{street},{changed}")
        if i % 4:
            city = f"City{i % 3}" if i % 2 else ""
            billing.append(f"B{i},Anna{i},,p{i}@x.com,Street {i},{city},2026-05-0{1 + i % 8}")
    project = make_project(
        CONFIG, {"crm.csv": "\n".join(crm) + "\n", "billing.csv": "\n".join(billing) + "\n"}
    )
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    resolve(project, store)
    spec = project.dictionary.object("contacts")
    core = store.frame("SELECT * FROM core.contacts")
    fields = [f for f in spec.fields if f != "record_id" and f in core.columns]
    members = dict(store.rows("SELECT unique_id, entity_id FROM id.members"))
    entities: dict[str, list[dict]] = {}
    for row in core.iter_rows(named=True):
        uid = f"{row['_source']}:{row['record_id']}"
        row["_uid"], row["_complete"] = uid, sum(row[f] is not None for f in fields)
        entities.setdefault(members[uid], []).append(row)
    assert len(entities) == 40 and max(len(r) for r in entities.values()) == 2

    def newest(value) -> tuple:  # descending, missing last
        return (value is None, -(value.timestamp()) if value is not None else 0)

    expected = {}
    for entity, rows in entities.items():
        golden = {"records": len(rows)}
        for f in fields:
            owner = spec.fields[f].owner
            order = sorted(
                rows,
                key=lambda r, owner=owner: (
                    r["_system"] != owner,
                    *(newest(r[c]) for c in ("updated_at", "created_at") if c in core.columns),
                    -r["_complete"],
                    r["_uid"],
                ),
            )
            best = next((r for r in order if r[f] is not None), None)
            golden[f] = best[f] if best else None
            golden[f + "__from"] = best["_uid"] if best else None
        expected[entity] = golden
    got = {
        r["entity_id"]: {k: v for k, v in r.items() if k != "entity_id"}
        for r in store.frame("SELECT * FROM id.golden_contacts").iter_rows(named=True)
    }
    assert got == expected
