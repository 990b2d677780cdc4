"""A record's unique id is composed in one place, the same in Python and in SQL."""

from __future__ import annotations

import duckdb

from workbench.record_ids import split_unique_id, unique_id, unique_id_sql


def test_unique_id_round_trip():
    assert unique_id("crm", 7) == "crm:7"
    assert split_unique_id("crm:7") == ("crm", "7")
    assert split_unique_id("web:a:b") == ("web", "a:b")  # a record id may hold a colon
    assert split_unique_id("crm") == ("crm", "")


def test_sql_composes_the_same_id():
    con = duckdb.connect()
    found = con.execute(
        f"SELECT {unique_id_sql()}, {unique_id_sql('t.s', 't.r')} "
        "FROM (SELECT 'crm' AS _source, 7 AS record_id, 'web' AS s, 'a:b' AS r) t"
    ).fetchone()
    assert found == (unique_id("crm", 7), unique_id("web", "a:b"))
