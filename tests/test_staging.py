"""Transforms from raw text to typed canonical fields; expected values worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from staged import ingest_staged

from workbench.config import FieldMap, Source
from workbench.dictionary import FieldType
from workbench.ingest.staging import SqlBuilder, raw_text_sql, typed_sql

SPLIT_NAME = (  # the columns of a source with one full name, split
    "      record_id: id\n"
    "      first_name: {from: name, name_part: first}\n"
    "      last_name: {from: name, name_part: last}\n"
)


def stage(make_project, store_of, columns: str, body: str, options: str = "", obj="contacts"):
    cfg = f"""
sources:
  src:
    system: test
    object: {obj}
    path: in.csv
    options: {{delimiter: ";"{options}}}
    columns:
{columns}
"""
    project = make_project(cfg, {"in.csv": body})
    store = store_of(project)
    report = ingest_staged(project, store)
    assert report.failures == [], report.failures[0].error
    return store


def test_trim_case_and_null_tokens(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      email: {from: mail, case: lower}\n"
        "      city: {from: city, case: title}\n      country: {from: cc, case: upper}\n",
        "id;mail;city;cc\n1;  ANNA@Example.COM ;  NEW YORK ;de\n2;N/A;#N/A;-\n3;;  ;\n",
    )
    rows = store.rows("SELECT record_id, email, city, country FROM stg.contacts ORDER BY 1")
    assert rows == [
        ("1", "anna@example.com", "New York", "DE"),
        ("2", None, None, None),
        ("3", None, None, None),
    ]


def test_full_name_split_in_both_orders(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        SPLIT_NAME,
        "id;name\n1;Anna Müller\n2;Müller, Anna\n3;Mary Ann van Dyke\n4;Madonna\n"
        "5; Smith ,  John \n",
    )
    rows = store.rows("SELECT record_id, first_name, last_name FROM stg.contacts ORDER BY 1")
    assert rows == [
        ("1", "Anna", "Müller"),
        ("2", "Anna", "Müller"),
        ("3", "Mary Ann", "van Dyke"),  # particles stay with the surname
        ("4", "Madonna", None),
        ("5", "John", "Smith"),
    ]


def test_name_split_leaves_out_honorifics_and_suffixes(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        SPLIT_NAME,
        "id;name\n"
        "01;Dr. Mateo Rossi Jr.\n"
        "02;Ms. Priya Raghunathan\n"
        "03;MRS Anna Smith\n"
        "04;prof. dr. Hans Müller\n"
        "05;Mx. Sam Lee, PhD\n"
        "06;Jane Doe, Esq.\n"
        "07;Henry Ford III\n"
        "08;Rossi, Dr. Mateo\n"
        "09;Rossi Jr., Mateo\n"
        "10;Rossi, Mateo, Jr.\n"
        "11;Mateo Rossi, Jr.\n"
        "12;Sir Ian McKellen\n"
        "13;Herr Jan Weber Sr\n"
        "14;Frau Müller\n"
        "15;Dr.\n"
        "16;Dr.Anna van der Berg\n",
    )
    rows = store.rows("SELECT record_id, first_name, last_name FROM stg.contacts ORDER BY 1")
    assert rows == [
        ("01", "Mateo", "Rossi"),
        ("02", "Priya", "Raghunathan"),
        ("03", "Anna", "Smith"),  # any case
        ("04", "Hans", "Müller"),  # one honorific after another
        ("05", "Sam", "Lee"),  # a suffix after a comma is not 'Last, First'
        ("06", "Jane", "Doe"),
        ("07", "Henry", "Ford"),
        ("08", "Mateo", "Rossi"),
        ("09", "Mateo", "Rossi"),
        ("10", "Mateo", "Rossi"),
        ("11", "Mateo", "Rossi"),
        ("12", "Ian", "McKellen"),
        ("13", "Jan", "Weber"),
        ("14", None, "Müller"),  # a lone word after an honorific is the surname
        ("15", "Dr.", None),  # nothing follows: kept as it was
        ("16", "Anna", "van der Berg"),
    ]


def test_name_split_keeps_names_that_only_look_like_honorifics_or_suffixes(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        SPLIT_NAME,
        "id;name\n"
        "01;Drew Barrymore\n"
        "02;Misses Jones\n"
        "03;Sirius Black\n"
        "04;Dameon Mrsic\n"
        "05;Anna van der Berg\n"
        "06;Ii Naosuke\n"  # II only in capitals: Ii is a surname
        "07;Md Rahman\n"  # MD only in capitals: Md is a given name
        "08;Anna Iv\n"
        "09;Jon Jra\n"
        "10;Herrmann Hesse\n"
        "11;Frauke Esquivel\n"
        "12;Mary Ann van Dyke\n"
        "13;Madonna\n",
    )
    rows = store.rows("SELECT record_id, first_name, last_name FROM stg.contacts ORDER BY 1")
    assert rows == [
        ("01", "Drew", "Barrymore"),
        ("02", "Misses", "Jones"),
        ("03", "Sirius", "Black"),
        ("04", "Dameon", "Mrsic"),
        ("05", "Anna", "van der Berg"),
        ("06", "Ii", "Naosuke"),
        ("07", "Md", "Rahman"),
        ("08", "Anna", "Iv"),
        ("09", "Jon", "Jra"),
        ("10", "Herrmann", "Hesse"),
        ("11", "Frauke", "Esquivel"),
        ("12", "Mary Ann", "van Dyke"),
        ("13", "Madonna", None),
    ]


def test_declared_name_orders_leave_out_honorifics_and_suffixes(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n"
        "      first_name: {from: name, name_part: first, name_order: last_first}\n"
        "      last_name: {from: name, name_part: last, name_order: last_first}\n"
        "      company_name: {from: full, name_part: first, name_order: first_last}\n"
        "      job_title: {from: full, name_part: last, name_order: first_last}\n",
        "id;name;full\n"
        "1;Raghunathan, Ms. Priya;Ms. Priya Raghunathan\n"
        "2;Rossi Jr., Mateo;Dr. Mateo Rossi, PhD\n"
        "3;Dr. Cher;Dr. Cher\n"
        "4;Van der Berg, Anna;Anna van der Berg\n",
    )
    rows = store.rows(
        "SELECT first_name, last_name, company_name, job_title FROM stg.contacts ORDER BY record_id"
    )
    assert rows == [
        ("Priya", "Raghunathan", "Priya", "Raghunathan"),
        ("Mateo", "Rossi", "Mateo", "Rossi"),
        (None, "Cher", None, "Cher"),
        ("Anna", "Van der Berg", "Anna", "van der Berg"),
    ]


def test_declared_name_order_last_first_without_comma(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n"
        "      first_name: {from: name, name_part: first, name_order: last_first}\n"
        "      last_name: {from: name, name_part: last, name_order: last_first}\n",
        "id;name\n1;Müller, Anna\n2;Cher\n",
    )
    assert store.rows("SELECT first_name, last_name FROM stg.contacts ORDER BY record_id") == [
        ("Anna", "Müller"),
        (None, "Cher"),
    ]


def test_timestamps_with_offsets_land_in_utc(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      created_at: {from: ts, format: '%Y-%m-%dT%H:%M:%S.%g%z'}\n",
        "id;ts\n1;2026-09-30T22:00:00.000-0500\n2;2026-10-01T00:30:00.000+0200\n",
    )
    assert store.rows("SELECT record_id, created_at FROM stg.contacts ORDER BY 1") == [
        ("1", datetime(2026, 10, 1, 3, 0, tzinfo=UTC)),
        ("2", datetime(2026, 9, 30, 22, 30, tzinfo=UTC)),
    ]


def test_iso_timestamps_without_format_and_naive_ones_in_source_zone(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      created_at: ts\n",
        "id;ts\n1;2026-01-15T10:00:00Z\n2;2026-07-15 10:00:00\n3;2026-01-15 10:00:00+01:00\n"
        "4;2026-01-15\n",
        options=", timezone: Europe/Berlin",
    )
    assert store.rows("SELECT record_id, created_at FROM stg.contacts ORDER BY 1") == [
        ("1", datetime(2026, 1, 15, 10, 0, tzinfo=UTC)),
        ("2", datetime(2026, 7, 15, 8, 0, tzinfo=UTC)),  # CEST is UTC+2
        ("3", datetime(2026, 1, 15, 9, 0, tzinfo=UTC)),
        ("4", datetime(2026, 1, 14, 23, 0, tzinfo=UTC)),  # midnight CET
    ]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-03-04 10:22:33 -0500", datetime(2026, 3, 4, 15, 22, 33, tzinfo=UTC)),  # Shopify
        ("2026-03-04 10:22:33 +0000", datetime(2026, 3, 4, 10, 22, 33, tzinfo=UTC)),  # Rails
        ("2026-03-04 10:22:33 +05:30", datetime(2026, 3, 4, 4, 52, 33, tzinfo=UTC)),
        ("2026-03-04T10:22:33z", datetime(2026, 3, 4, 10, 22, 33, tzinfo=UTC)),
        ("2026-03-04T10:22Z", datetime(2026, 3, 4, 10, 22, tzinfo=UTC)),
        ("2026-03-04 10:22+05:45", datetime(2026, 3, 4, 4, 37, tzinfo=UTC)),
        ("2026-03-04 10:22 -0500", datetime(2026, 3, 4, 15, 22, tzinfo=UTC)),
        (
            "2026-03-04T10:22:33.123456789+05:30",
            datetime(2026, 3, 4, 4, 52, 33, 123456, tzinfo=UTC),
        ),
    ],
)
def test_iso_timestamps_with_an_offset_in_other_spellings(make_project, store_of, written, read):
    """An offset after a space, a lower-case z and a time without seconds are read as the
    moment they name (they were told apart as having an offset, then not read)."""
    store = stage(make_project, store_of, "      record_id: id\n      created_at: ts\n",
                  f"id;ts\n1;{written}\n", options=", timezone: Europe/Berlin")  # fmt: skip
    assert store.rows("SELECT created_at, _problems FROM stg.contacts") == [(read, [])]


def test_dates_with_format_decimal_comma_and_currency(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      customer_id: cust\n      invoice_date: d\n"
        "      amount: amt\n      currency: cur\n      status: {from: st, map: {bezahlt: paid, "
        "storniert: void}}\n",
        "id;cust;d;amt;cur;st\nR1;K1;05.01.2026;1.234,56;eur;bezahlt\n"
        "R2;K1;31.12.2025;-0,5;€;storniert\nR3;K2;01.02.2026;12 345,00 EUR;£;offen\n",
        options=', decimal: ",", date_format: "%d.%m.%Y"',
        obj="invoices",
    )
    rows = store.rows(
        "SELECT record_id, invoice_date, amount, currency, status, _problems "
        "FROM stg.invoices ORDER BY 1"
    )
    assert rows == [
        ("R1", date(2026, 1, 5), Decimal("1234.5600"), "EUR", "paid", []),
        ("R2", date(2025, 12, 31), Decimal("-0.5000"), "EUR", "void", []),
        # the amount says EUR, the currency column GBP: which is right is not for staging
        # to guess
        (
            "R3",
            date(2026, 2, 1),
            Decimal("12345.0000"),
            "GBP",
            "offen",
            ["amount: '12 345,00 EUR' is written in EUR, but the row says currency GBP"],
        ),
    ]


def test_an_amount_written_in_another_currency_than_its_row_is_a_problem(make_project, store_of):
    """A code or the euro sign on the amount that names another currency than the row's
    currency column is a problem of the amount; $ and £ are written for several currencies
    (CAD, AUD; EGP), so they are not judged."""
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      customer_id: cust\n      invoice_date: d\n"
        "      amount: amt\n      currency: cur\n",
        "id;cust;d;amt;cur\nR1;K1;2026-01-05;EUR 20;USD\nR2;K1;2026-01-05;20 USD;USD\n"
        "R3;K1;2026-01-05;€20;EUR\nR4;K1;2026-01-05;€20;USD\nR5;K1;2026-01-05;$20;CAD\n"
        "R6;K1;2026-01-05;£20;USD\nR7;K1;2026-01-05;20;USD\nR8;K1;2026-01-05;EUR 20;\n",
        obj="invoices",
    )
    rows = store.rows("SELECT record_id, amount, _problems FROM stg.invoices ORDER BY 1")
    clash = "amount: '{}' is written in EUR, but the row says currency USD"
    assert rows == [
        ("R1", Decimal("20"), [clash.format("EUR 20")]),
        ("R2", Decimal("20"), []),
        ("R3", Decimal("20"), []),
        ("R4", Decimal("20"), [clash.format("€20")]),
        ("R5", Decimal("20"), []),
        ("R6", Decimal("20"), []),
        ("R7", Decimal("20"), []),
        ("R8", Decimal("20"), []),
    ]


def test_a_two_digit_year_does_not_pass_for_a_four_digit_one(make_project, store_of):
    """DuckDB reads '18.03.25' with %d.%m.%Y as the year 25; %Y means four digits, so the
    value is a problem of the field, not a date 2,000 years off."""
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      created_at: d\n",
        "id;d\n1;18.03.2025\n2;18.03.25\n3;18.03.125\n",
        options=', date_format: "%d.%m.%Y", timezone: UTC',
    )
    rows = store.rows("SELECT record_id, created_at, _problems FROM stg.contacts ORDER BY 1")
    assert rows[0] == ("1", datetime(2025, 3, 18, tzinfo=UTC), [])
    assert [r[1] for r in rows[1:]] == [None, None]
    assert [len(r[2]) for r in rows[1:]] == [1, 1] and "18.03.25" in rows[1][2][0]


def test_decimal_point_with_thousands_commas(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      customer_id: c\n      invoice_date: d\n"
        "      amount: a\n      currency: {value: USD}\n",
        "id;c;d;a\n1;k;2026-01-01;1,234.50\n2;k;2026-01-01;$99.9\n3;k;2026-01-01;1,5\n",
        obj="invoices",
    )
    rows = store.rows("SELECT record_id, amount, currency, _problems FROM stg.invoices ORDER BY 1")
    assert rows[0] == ("1", Decimal("1234.5000"), "USD", [])
    assert rows[1] == ("2", Decimal("99.9000"), "USD", [])
    # '1,5' is not a number with '.' decimals: kept as a problem, not silently read as 15
    assert rows[2][1] is None
    assert rows[2][3] == ["amount: cannot read '1,5' as decimal"]


def test_unparseable_values_are_kept_as_problems_not_silent_nulls(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      occurred_at: ts\n      status: st\n      latency_ms: ms\n",
        "id;ts;st;ms\n1;yesterday;success;12\n2;2026-02-30 10:00:00;failed;12.0\n"
        "3;2026-02-01 10:00:00;success;fast\n4;2026-02-01 10:00:00;success;N/A\n",
        obj="sync_events",
    )
    rows = store.rows("SELECT record_id, occurred_at, latency_ms, _problems FROM stg.sync_events")
    by_id = {r[0]: r for r in rows}
    assert by_id["1"][3] == ["occurred_at: cannot read 'yesterday' as timestamp"]
    assert by_id["2"][3] == ["occurred_at: cannot read '2026-02-30 10:00:00' as timestamp"]
    assert by_id["2"][2] == 12
    assert by_id["3"][3] == ["latency_ms: cannot read 'fast' as integer"]
    assert by_id["4"][2] is None and by_id["4"][3] == []  # a null token is missing, not bad


def test_decimal_comma_refuses_a_point_that_is_not_a_thousands_separator(make_project, store_of):
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      customer_id: c\n      invoice_date: d\n"
        "      amount: a\n      currency: {value: EUR}\n",
        "id;c;d;a\n1;k;2026-01-01;12.50\n2;k;2026-01-01;1.234.567,8\n3;k;2026-01-01;-7\n",
        options=', decimal: ","',
        obj="invoices",
    )
    rows = store.rows("SELECT record_id, amount, _problems FROM stg.invoices ORDER BY 1")
    assert rows[0] == ("1", None, ["amount: cannot read '12.50' as decimal"])
    assert rows[1] == ("2", Decimal("1234567.8000"), [])
    assert rows[2] == ("3", Decimal("-7.0000"), [])


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.text(
            alphabet=st.sampled_from(
                ["a", "é", " ", "\t", "\r", "\n", "\xa0", "\u0600", "\u0301", "\u2003"]
            )
        ),
        min_size=1,
        max_size=20,
    )
)
def test_trimming_only_values_with_space_at_an_end_is_trimming_every_value(texts: list[str]):
    """raw_text_sql calls trim only where a value starts or ends with a trimmed character;
    the result is trim's for any text (combining marks, other spaces, an empty string)."""
    b = SqlBuilder()
    guarded = raw_text_sql(FieldMap.model_validate({"from": "v"}), b)
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT v, {guarded}, trim(v, ' \t\r\n' || chr(160)) FROM unnest($texts) t(v)",
            {"texts": [*texts, None]},
        ).fetchall()
    assert [r[1] for r in rows] == [r[2] for r in rows]
    assert [r[1] for r in rows][:-1] == [t.strip(" \t\r\n\xa0") for t in texts]


def test_decimals_and_integers_read_as_by_the_wide_cast() -> None:
    """Reading through DECIMAL(18,s) first (fast) gives what the wide cast alone gives,
    rounding and overflow included."""
    from workbench.ingest.staging import _decimal_sql

    values = ["0", "-0", "12", "12.5", "-12.50", "007", ".5", "12.", "1e3", "0.12345678901234",
              "-0.00000000005", "0.00000000015", "99999999.9999999999", "123456789.5",
              "999999999999999999.5", "123456789012345678", "1234567890123456789",
              "99999999999999999999", "12.000", "+7", "abc", None]  # fmt: skip
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest($v::VARCHAR[]) AS x", {"v": values})
    fast = con.execute(f"SELECT x, {_decimal_sql('x', 'DECIMAL(28,10)')} FROM t").fetchall()
    wide = con.execute("SELECT x, TRY_CAST(x AS DECIMAL(28,10)) FROM t").fetchall()
    assert fast == wide
    # integers: the staged expression against the wide cast behind its own guard
    source = Source.model_validate({"system": "s", "object": "o", "path": "p.csv",
                                    "columns": {"n": "x"}})  # fmt: skip
    fmap = FieldMap.model_validate({"from": "x"})
    staged = typed_sql("x", FieldType.INTEGER, fmap, source, b := SqlBuilder())
    old = r"CASE WHEN regexp_matches(x, '^[+-]?\d+(\.0*)?$') THEN " + (
        "TRY_CAST(TRY_CAST(x AS DECIMAL(38,6)) AS BIGINT) END"
    )
    ints = con.execute(f"SELECT {staged}, {old} FROM t", b.params).fetchall()
    assert [a for a, _ in ints] == [w for _, w in ints]
    assert sum(a is not None for a, _ in ints) >= 8


def _staged_amount(make_project, store_of, decimal: str, written: str) -> tuple:
    """The amount and problems staging makes of an invoice's amount as ``written``."""
    store = stage(
        make_project,
        store_of,
        "      record_id: id\n      customer_id: cust\n      invoice_date: d\n"
        "      amount: amt\n      currency: cur\n",
        f"id;cust;d;amt;cur\nR1;K1;2026-01-05;{written};EUR\n",
        options=f', decimal: "{decimal}"',
        obj="invoices",
    )
    return store.rows("SELECT amount, _problems FROM stg.invoices")[0]


@pytest.mark.parametrize(
    ("decimal", "written", "read"),
    [
        (".", "(123.45)", Decimal("-123.45")),
        (".", "($1,234.00)", Decimal("-1234")),
        (".", "123.45-", Decimal("-123.45")),  # SAP
        (".", "-$50.00", Decimal("-50")),  # QuickBooks, Excel
        (".", "-EUR 5", Decimal("-5")),
        (".", "+$5", Decimal("5")),
        (".", "-5", Decimal("-5")),
        (".", "$-50.00", Decimal("-50")),
        (",", "1.234,56-", Decimal("-1234.56")),
        (",", "(1.234,56 €)", Decimal("-1234.56")),
        (",", "\u22121\u202f234,56", Decimal("-1234.56")),  # minus sign: Swedish (CLDR)
        (".", "\u2212$5", Decimal("-5")),
        (".", "5\u2212", Decimal("-5")),
        (".", "5-", Decimal("-5")),  # one digit (SAP)
        (".", "(12", None),
        (".", "12)", None),
        (".", "--5", None),
        (".", "5-5", None),
        (".", "(-5)", None),
    ],
)
def test_accounting_spellings_of_negative_amounts(make_project, store_of, decimal, written, read):
    """Parentheses, a trailing minus and a sign before the currency mark say the amount is
    negative; anything else that is no number stays a problem of the field."""
    amount, problems = _staged_amount(make_project, store_of, decimal, written)
    assert amount == read
    assert (problems == []) is (read is not None)


@pytest.mark.parametrize(
    ("decimal", "written"),
    [
        (",", "1\xa0234,56"),  # NBSP: Excel's French and German thousands
        (",", "1\u202f234,56"),  # narrow no-break space: CLDR's French (ICU, macOS, Zoho)
        (",", "1\u2009234,56"),  # thin space: typeset figures
        (",", "1\u202f234,56\u202f€"),
        (".", "1\u202f234.56"),
    ],
)
def test_amounts_grouped_by_unicode_spaces_are_read(make_project, store_of, decimal, written):
    """Thousands grouped by the spaces locales write (not only ASCII ones) are read."""
    amount, problems = _staged_amount(make_project, store_of, decimal, written)
    assert (amount, problems) == (Decimal("1234.56"), [])
