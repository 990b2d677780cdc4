"""Resolution writes its tables as a difference from the last run (``_replace``)."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.resolve import resolve
from workbench.resolve.results import PAIR_KEY, _replace
from workbench.store import Store


def _rows(store: Store, sql: str) -> set[tuple]:
    return set(store.rows(sql))


def _write(store: Store, target: str, run_id: int, frame: pl.DataFrame, key: list[str]) -> None:
    """One run's write of ``frame`` to ``target`` (object contacts), as resolution does it."""
    with store.transaction():
        _replace(store, target, "contacts", run_id, frame, key)


def test_only_new_and_changed_rows_are_written(tmp_path):
    with Store(tmp_path / "w.duckdb") as store:
        store.execute(
            "CREATE OR REPLACE TABLE id.members (object VARCHAR, unique_id VARCHAR, "
            "entity_id VARCHAR, feature_hash VARCHAR, run_id BIGINT)"
        )
        store.execute("INSERT INTO id.members VALUES ('companies', 'a', 'X', 'h', 7)")
        first = pl.DataFrame(
            {"unique_id": ["a", "b", "c", "d"], "entity_id": ["E1", "E1", "E2", None],
             "feature_hash": ["h1", "h2", "h3", "h4"]}
        )  # fmt: skip
        _write(store, "id.members", 1, first, ["unique_id"])
        # b moves to E2, c's features change, d's null entity stays null, a is gone, e is new
        second = pl.DataFrame(
            {"unique_id": ["b", "c", "d", "e"], "entity_id": ["E2", "E2", None, "E3"],
             "feature_hash": ["h2", "h3x", "h4", "h5"]}
        )  # fmt: skip
        _write(store, "id.members", 2, second, ["unique_id"])
        assert _rows(store, "SELECT * FROM id.members") == {
            ("companies", "a", "X", "h", 7),  # another object's rows are not touched
            ("contacts", "b", "E2", "h2", 2),
            ("contacts", "c", "E2", "h3x", 2),
            ("contacts", "d", None, "h4", 1),  # unchanged: keeps the run that wrote it
            ("contacts", "e", "E3", "h5", 2),
        }
        _write(store, "id.members", 3, second, ["unique_id"])  # the same again: nothing
        assert not _rows(store, "SELECT * FROM id.members WHERE run_id = 3")


def test_pairs_are_matched_on_both_records(tmp_path):
    with Store(tmp_path / "w.duckdb") as store:
        store.execute(
            "CREATE OR REPLACE TABLE id.pairs (object VARCHAR, unique_id_l VARCHAR, "
            "unique_id_r VARCHAR, match_probability DOUBLE, run_id BIGINT)"
        )
        first = pl.DataFrame(
            {"unique_id_l": ["a", "a", "b"], "unique_id_r": ["b", "c", "c"],
             "match_probability": [0.9, 0.5, 0.7]}
        )  # fmt: skip
        _write(store, "id.pairs", 1, first, PAIR_KEY)
        second = pl.DataFrame(
            {"unique_id_l": ["a", "b", "c"], "unique_id_r": ["c", "c", "a"],
             "match_probability": [0.5, 0.8, 0.4]}
        )  # fmt: skip
        _write(store, "id.pairs", 2, second, PAIR_KEY)
        stored = "SELECT unique_id_l, unique_id_r, match_probability, run_id FROM id.pairs"
        assert _rows(store, stored) == {
            ("a", "c", 0.5, 1),
            ("b", "c", 0.8, 2),
            ("c", "a", 0.4, 2),
        }


CONFIG = """
sources:
  crm:
    system: crm
    object: contacts
    path: crm.csv
    columns: {record_id: id, first_name: first, last_name: last, email: email}
"""


@pytest.mark.slow
def test_members_of_text_feature_hashes_are_upgraded(make_project, store_of):
    """Members from before feature hashes were numbers lose their text hashes and get
    numbers on the next run (here an incremental one)."""
    lines = [f"C{i},Ann{i},Lee{i},p{i}@x.com" for i in range(20)]
    lines += [f"D{i},Anne{i},Lee{i},p{i}@x.com" for i in range(10)]  # ten people twice
    project = make_project(CONFIG, {"crm.csv": "id,first,last,email\n" + "\n".join(lines)})
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    resolve(project, store)
    numbers = dict(store.rows("SELECT unique_id, feature_hash FROM id.members"))
    assert len(numbers) == 30 and all(isinstance(h, int) for h in numbers.values())
    store.execute("ALTER TABLE id.members ALTER feature_hash TYPE VARCHAR USING md5(unique_id)")
    report = resolve(project, store, incremental=True)
    assert report.records == 30
    kind = store.scalar(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'members' "
        "AND column_name = 'feature_hash'"
    )
    assert kind == "BIGINT"
    assert dict(store.rows("SELECT unique_id, feature_hash FROM id.members")) == numbers
