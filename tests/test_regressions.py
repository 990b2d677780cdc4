"""Regressions found in review: each test is one bug that must not come back."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from staged import ingest_staged

from workbench.config import load_project
from workbench.ingest import list_loads
from workbench.pipeline import run_quality
from workbench.store import open_store

PEOPLE = """
sources:
  people:
    system: crm
    object: contacts
    path: {path}
    mode: {mode}
    columns: {{record_id: id, email: email}}
"""


def rows_csv(*ids: int, header: str = "id,email") -> str:
    return header + "\n" + "".join(f"{i},p{i}@x.com\n" for i in ids)


def test_truncated_gzip_is_refused_not_half_loaded(make_project, store_of, tmp_path):
    packed = gzip.compress(rows_csv(*range(5000)).encode())
    project = make_project(PEOPLE.format(path="p.csv.gz", mode="snapshot"))
    (tmp_path / "p.csv.gz").write_bytes(packed[: len(packed) // 2])
    store = store_of(project)
    report = ingest_staged(project, store)
    assert report.loads[0].status == "failed"
    assert "truncated or damaged gzip" in report.loads[0].error.what
    assert not store.table_exists("raw", "people")


def test_snapshot_glob_loads_only_the_newest_file_and_is_idempotent(make_project, store_of):
    project = make_project(
        PEOPLE.format(path="exp/c*.csv", mode="snapshot"),
        {"exp/c9.csv": rows_csv(1), "exp/c10.csv": rows_csv(2, 3)},
    )
    store = store_of(project)
    first = ingest_staged(project, store)
    assert [(r.file.name, r.status) for r in first.loads] == [("c10.csv", "loaded")]
    second = ingest_staged(project, store)
    assert [r.status for r in second.loads] == ["unchanged"]
    assert store.rows("SELECT record_id FROM stg.contacts ORDER BY 1") == [("2",), ("3",)]
    assert len(list_loads(store)) == 1


def test_header_case_change_does_not_break_the_source(make_project, store_of, tmp_path):
    project = make_project(PEOPLE.format(path="p.csv", mode="snapshot"), {"p.csv": rows_csv(1)})
    store = store_of(project)
    ingest_staged(project, store)
    (tmp_path / "p.csv").write_text(rows_csv(2, header="id,EMAIL"))
    report = ingest_staged(project, store)
    assert report.loads[0].status == "loaded", report.loads[0].error
    assert store.rows("SELECT record_id, email FROM stg.contacts") == [("2", "p2@x.com")]


def test_renamed_source_leaves_no_orphan_staging_rows(make_project, tmp_path):
    project = make_project(PEOPLE.format(path="p.csv", mode="snapshot"), {"p.csv": rows_csv(1)})
    with open_store(project) as store:
        ingest_staged(project, store)
    text = (tmp_path / "workbench.yaml").read_text().replace("  people:", "  persons:")
    (tmp_path / "workbench.yaml").write_text(text)
    project = load_project(tmp_path)
    with open_store(project) as store:
        ingest_staged(project, store)
        run_quality(project, store)
        assert store.rows("SELECT DISTINCT _source FROM stg.contacts") == [("persons",)]
        assert store.scalar("SELECT count(*) FROM core.contacts") == 1


def test_header_only_file_validates_to_empty_core(make_project, store_of):
    project = make_project(PEOPLE.format(path="p.csv", mode="snapshot"), {"p.csv": "id,email\n"})
    store = store_of(project)
    assert ingest_staged(project, store).loads[0].rows_loaded == 0
    result = run_quality(project, store)
    assert result.validation.counts == []
    assert store.scalar("SELECT count(*) FROM core.contacts") == 0


def test_quarantined_fx_rates_are_not_used_and_any_day_names_the_month(make_project, store_of):
    project = make_project(
        """
sources:
  fx:
    system: billing
    object: fx_rates
    path: fx.csv
    columns: {month: m, currency: c, rate: r}
  inv:
    system: billing
    object: invoices
    path: inv.csv
    columns: {record_id: id, customer_id: k, invoice_date: d, amount: a, currency: c}
""",
        {
            "fx.csv": "m,c,r\n2026-02-01,USD,-5\n2026-03-15,USD,0.5\n",
            "inv.csv": "id,k,d,a,c\nI2,K,2026-02-10,100,USD\nI3,K,2026-03-02,100,USD\n",
        },
    )
    store = store_of(project)
    ingest_staged(project, store)
    run_quality(project, store)
    assert store.rows("SELECT record_id, CAST(amount_base AS DOUBLE) FROM core.invoices") == [
        ("I3", 50.0)
    ]
    assert store.scalar("SELECT reasons FROM quar.rows WHERE record_id = 'I2'") == (
        "amount: readable (amount: no fx rate for USD in 2026-02)"
    )


def test_format_list_mixing_offsets_and_local_times(make_project, store_of):
    project = make_project(
        """
sources:
  leads:
    system: crm
    object: leads
    path: l.csv
    options: {timezone: Europe/Berlin}
    columns:
      record_id: id
      created_at: {from: t, format: ["%Y-%m-%dT%H:%M:%S%z", "%d.%m.%Y %H:%M"]}
""",
        {"l.csv": "id;t\n1;2024-07-15T10:00:00+0000\n2;15.07.2024 10:00\n".replace(";", ",")},
    )
    store = store_of(project)
    ingest_staged(project, store)
    assert store.rows("SELECT record_id, created_at FROM stg.leads ORDER BY 1") == [
        ("1", datetime(2024, 7, 15, 10, 0, tzinfo=UTC)),
        ("2", datetime(2024, 7, 15, 8, 0, tzinfo=UTC)),
    ]


def test_append_mode_counts_failures_per_load(make_project, store_of):
    project = make_project(
        PEOPLE.format(path="logs/*.csv", mode="append"),
        {
            "logs/a.csv": "id,email\n1,bad\n2,b@x.com\n",
            "logs/b.csv": "id,email\n3,worse\n4,d@x.com\n",
        },
    )
    store = store_of(project)
    ingest_staged(project, store)
    result = run_quality(project, store)
    validity = store.scalar(
        "SELECT value FROM dq.metrics WHERE run_id = $r "
        "AND metric = 'validity:email address format'",
        {"r": result.validation.run_id},
    )
    assert validity == 0.5
    # an optional email is set aside, not the person: both rows kept, both values counted
    assert store.scalar("SELECT count(*) FROM quar.rows") == 0
    assert store.rows(
        "SELECT load_id, record_id, value FROM quar.failures WHERE severity = 'warn' ORDER BY 1"
    ) == [(1, "1", "bad"), (2, "3", "worse")]
