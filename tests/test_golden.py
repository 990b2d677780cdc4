"""Golden records: the owner's value first, then the newest, then the most complete."""

from __future__ import annotations

import random

import polars as pl
import pytest

from workbench.errors import WorkbenchError
from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.resolve import resolve
from workbench.resolve.golden import GoldenBuild, build_golden
from workbench.resolve.results import golden_of

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


def _exports(
    changes: dict[str, str] | None = None,
    extra: list[str] | None = None,
    extra_billing: list[str] | None = None,
) -> dict:
    """40 people, most in both systems with differing values, gaps and dates. ``changes``
    replaces the line of a record id (empty: drops it); ``extra`` adds CRM lines,
    ``extra_billing`` billing lines."""
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
    crm += extra or []
    billing += extra_billing or []
    changes = changes or {}

    def apply(lines: list[str]) -> str:
        kept = [changes.get(line.split(",")[0], line) for line in lines]
        return "\n".join(line for line in kept if line) + "\n"

    return {"crm.csv": apply(crm), "billing.csv": apply(billing)}


def _python_golden(store, spec) -> dict[str, dict]:
    """Every entity's golden record by the survivorship rules, applied in plain Python."""
    core = store.frame("SELECT * FROM core.contacts")
    fields = [f for f in spec.fields if f != "record_id" and f in core.columns]
    members = dict(store.rows("SELECT unique_id, entity_id FROM id.members"))
    entities: dict[str, list[dict]] = {}
    for row in core.iter_rows(named=True):
        uid = f"{row['_source']}:{row['record_id']}"
        row["_uid"], row["_complete"] = uid, sum(row[f] is not None for f in fields)
        entities.setdefault(members[uid], []).append(row)

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
    return expected


def _stored_golden(store) -> dict[str, dict]:
    frame = golden_of(store, "contacts")
    assert frame["entity_id"].is_unique().all()  # one golden record per entity
    return {
        r["entity_id"]: {k: v for k, v in r.items() if k != "entity_id"}
        for r in frame.iter_rows(named=True)
    }


def _load(project, store):
    ingest(project, store)
    run_quality(project, store)
    return resolve(project, store)


def test_golden_records_follow_the_rules_computed_in_python(make_project, store_of):
    """Every golden field and its provenance against the rules applied in plain Python."""
    project = make_project(CONFIG, _exports())
    store = store_of(project)
    report = _load(project, store)
    expected = _python_golden(store, project.dictionary.object("contacts"))
    assert len(expected) == 40 and max(r["records"] for r in expected.values()) == 2
    several = sum(r["records"] > 1 for r in expected.values())
    assert several == 30  # entities of one record are read from core, never built
    assert report.golden_rebuilt == several
    assert _stored_golden(store) == expected
    assert store.scalar("SELECT count(*) FROM id._golden_contacts") == several


@pytest.mark.slow
def test_a_rerun_rebuilds_only_the_golden_records_that_changed(make_project, store_of):
    project = make_project(CONFIG, _exports())
    store = store_of(project)
    _load(project, store)
    first = _stored_golden(store)
    assert _load(project, store).golden_rebuilt == 0  # nothing changed
    assert _stored_golden(store) == first

    # C3 renamed and B6 moved (entities of two records: rebuilt); C8 moved (of one record:
    # read from core), B5 gone (entity 5 now of one record: its row dropped), B4 new for C4
    # (entity 4 now of two records: built), C99 a new person (of one record): six entities
    changes = {
        "C3": "C3,Anne3,Lee3,p3@x.com,Road 3,2026-04-01",
        "B6": "B6,Anna6,,p6@x.com,Oak Way 6,,2026-05-07",
        "C8": "C8,Ann8,Lee8,p8@x.com,Elm Lane 8,2026-09-01",
        "B5": "",
    }
    extra = ["C99,Zoe,Quinn,zoe@q.com,Pine 1,2026-01-02"]
    extra_billing = ["B4,Ann4,Lee4,p4@x.com,Street 4,City4,2026-05-03"]
    make_project(CONFIG, _exports(changes, extra=extra, extra_billing=extra_billing))
    report = _load(project, store)
    assert report.golden_rebuilt == 3  # entities 3, 6 and 4
    assert store.scalar("SELECT count(*) FROM id._golden_contacts") == 30  # - 5, + 4
    golden = _stored_golden(store)
    assert golden == _python_golden(store, project.dictionary.object("contacts"))
    assert len(golden) == 41
    unchanged = {
        e: g
        for e, g in first.items()
        if g["first_name__from"] not in {"crm:C3", "crm:C4", "crm:C6", "crm:C8", "crm:C5"}
    }
    assert len(unchanged) == 35
    assert (
        golden[next(e for e, g in golden.items() if g["first_name__from"] == "crm:C4")]["records"]
        == 2
    )
    assert all(golden[e] == g for e, g in unchanged.items())

    # other rules (billing no longer owns the street) rebuild every golden record
    spec = project.dictionary.object("contacts")
    assert spec.fields["street"].owner == "billing"
    street = spec.fields["street"].model_copy(update={"owner": None})
    other = spec.model_copy(update={"fields": {**spec.fields, "street": street}})
    assert build_golden(store, "contacts", other) == GoldenBuild(stored=30, rebuilt=30)
    assert _stored_golden(store) == _python_golden(store, other)
    assert _stored_golden(store) != golden  # the CRM's newer streets now win
    assert build_golden(store, "contacts", other) == GoldenBuild(stored=30, rebuilt=0)


def test_entities_of_many_records_follow_the_rules(make_project, store_of):
    """Entities of up to six records, from both systems, grouped at random (not by Splink):
    every field against the rules in Python, with two owners and with none."""
    project = make_project(CONFIG, _exports())
    store = store_of(project)
    _load(project, store)
    uids = sorted(u for (u,) in store.rows("SELECT unique_id FROM id.members"))
    rng = random.Random(7)
    rng.shuffle(uids)
    groups, i = [], 0
    while i < len(uids):
        size = rng.randint(1, 6)
        groups.append(uids[i : i + size])
        i += size
    store.execute("DELETE FROM id.members")
    for n, group in enumerate(groups):
        for uid in group:
            store.execute(
                "INSERT INTO id.members (object, unique_id, entity_id) VALUES ('contacts', $u, $e)",
                {"u": uid, "e": f"G{n:03d}"},
            )
    assert max(map(len, groups)) == 6 and min(map(len, groups)) == 1
    spec = project.dictionary.object("contacts")
    several = sum(len(g) > 1 for g in groups)
    assert build_golden(store, "contacts", spec) == GoldenBuild(several, several)
    assert _stored_golden(store) == _python_golden(store, spec)
    fields = {f: s.model_copy(update={"owner": None}) for f, s in spec.fields.items()}
    no_owner = spec.model_copy(update={"fields": fields})
    build_golden(store, "contacts", no_owner)
    assert _stored_golden(store) == _python_golden(store, no_owner)


@pytest.mark.slow
def test_golden_records_of_the_earlier_layout_are_rebuilt(make_project, store_of):
    """A warehouse from before the view (``id.golden_contacts`` a table) gets the view."""
    project = make_project(CONFIG, _exports())
    store = store_of(project)
    _load(project, store)
    store.execute("DROP VIEW id.golden_contacts")
    store.execute("DROP TABLE id._golden_contacts")
    store.execute(
        "CREATE TABLE id.golden_contacts (entity_id VARCHAR, records INT, first_name VARCHAR, "
        "first_name__from VARCHAR, _fingerprint UBIGINT)"
    )
    store.execute("INSERT INTO id.golden_contacts VALUES ('E1', 1, 'Ann', 'crm:C1', 42)")
    # read before a run replaces it: without the internal column, as before
    assert golden_of(store, "contacts").rows(named=True) == [
        {"entity_id": "E1", "records": 1, "first_name": "Ann", "first_name__from": "crm:C1"}
    ]
    spec = project.dictionary.object("contacts")
    assert build_golden(store, "contacts", spec) == GoldenBuild(stored=30, rebuilt=30)
    assert _stored_golden(store) == _python_golden(store, spec)


@pytest.mark.slow
def test_rows_of_entities_of_one_record_stored_before_are_dropped(make_project, store_of):
    """A table from before entities of one record were read from core (a row for each, with
    a fingerprint): the next build drops those rows, and the view shows each entity once."""
    project = make_project(CONFIG, _exports())
    store = store_of(project)
    _load(project, store)
    single = store.scalar(
        "SELECT entity_id FROM id.members GROUP BY entity_id HAVING count(*) = 1 LIMIT 1"
    )
    store.execute(
        "INSERT INTO id._golden_contacts (entity_id, records, first_name, _records, "
        "_fingerprint) VALUES ($e, 1, 'Stale', ['crm:C0'], 42)",
        {"e": single},
    )
    assert golden_of(store, "contacts").filter(pl.col("entity_id") == single).height == 2
    spec = project.dictionary.object("contacts")
    assert build_golden(store, "contacts", spec) == GoldenBuild(stored=30, rebuilt=0)
    assert _stored_golden(store) == _python_golden(store, spec)


@pytest.mark.slow
def test_golden_records_that_no_longer_fit_core_ask_for_a_run(make_project, store_of):
    """The view reads core: after a validate that drops a field, reading it says what to do
    (re-run resolve), and the run builds the view anew."""
    project = make_project(CONFIG, _exports())
    store = store_of(project)
    _load(project, store)
    store.execute("ALTER TABLE core.contacts DROP COLUMN city")
    with pytest.raises(WorkbenchError, match="no longer fit") as caught:
        golden_of(store, "contacts")
    assert "workbench resolve" in (caught.value.fix or "")
    resolve(project, store)
    assert "city" not in golden_of(store, "contacts").columns
