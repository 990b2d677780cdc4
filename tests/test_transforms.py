"""Field transforms that foreign exports need: epochs, minor units, code maps, email names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from staged import ingest_staged

from workbench.errors import ConfigError


def staged(project, store, sql: str) -> list[tuple]:
    assert ingest_staged(project, store).failures == []
    return store.rows(sql)


def test_epoch_seconds_milliseconds_and_microseconds(make_project, store_of):
    project = make_project(
        """
        sources:
          events:
            system: app
            object: tickets
            path: t.csv
            options: {timezone: Europe/Berlin}
            columns:
              record_id: id
              created_at: {from: s, format: epoch}
              first_response_at: {from: ms, format: epoch_ms}
              solved_at: {from: us, format: [epoch_us, "%d.%m.%Y %H:%M"]}
        """,
        {
            "t.csv": """
            id,s,ms,us
            a,1727740800,1727740800123,1727740800123456
            b,1727740800.5,-86400000,01.10.2024 02:00
            c,soon,1e40,
            """
        },
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, created_at, first_response_at, solved_at, _problems "
        "FROM stg.tickets ORDER BY 1",
    )
    at = datetime.fromtimestamp(1727740800, UTC)  # 2024-10-01 00:00 UTC
    assert rows[0][1:4] == (
        at,
        at.replace(microsecond=123000),
        at.replace(microsecond=123456),
    )
    # an epoch is UTC whatever the source's zone; a strptime format is in the zone
    assert rows[1][1:4] == (
        at.replace(microsecond=500000),
        datetime(1969, 12, 31, tzinfo=UTC),
        datetime(2024, 10, 1, 0, 0, tzinfo=UTC),
    )
    assert rows[2][1:3] == (None, None)
    assert rows[2][4] == [
        "created_at: cannot read 'soon' as timestamp with format epoch",
        "first_response_at: cannot read '1e40' as timestamp with format epoch_ms",
    ]


def test_epoch_into_a_date_field_is_the_utc_day(make_project, store_of):
    project = make_project(
        """
        sources:
          stripe:
            system: billing
            object: invoices
            path: i.csv
            columns:
              record_id: id
              customer_id: c
              invoice_date: {from: created, format: epoch}
              amount: {from: cents, minor_units: true}
              currency: cur
        """,
        {
            "i.csv": """
            id,c,created,cents,cur
            in_1,cus_1,1727740799,12900,eur
            in_2,cus_1,1727740800,15000,jpy
            in_3,cus_2,1727740800,-1999,usd
            in_4,cus_2,1727740800,123456,kwd
            in_5,cus_2,1727740800,12.5,eur
            in_6,cus_2,1727740800,1000,XYZ
            """
        },
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, invoice_date, amount, currency, _problems FROM stg.invoices ORDER BY 1",
    )
    assert [r[1] for r in rows[:2]] == [date(2024, 9, 30), date(2024, 10, 1)]
    assert [(r[2], r[3]) for r in rows] == [
        (Decimal("129"), "EUR"),
        (Decimal("15000"), "JPY"),  # yen have no minor unit
        (Decimal("-19.99"), "USD"),
        (Decimal("123.456"), "KWD"),  # three decimals
        (None, "EUR"),  # not a whole number of cents
        (Decimal("10"), "XYZ"),  # an unknown currency: hundredths
    ]
    assert rows[4][4] == ["amount: cannot read '12.5' as decimal in minor units"]


def test_fixed_minor_units(make_project, store_of):
    project = make_project(
        """
        sources:
          erp:
            system: erp
            object: deals
            path: d.csv
            columns:
              record_id: id
              status: st
              created_at: created
              amount: {from: amount_tenths, minor_units: 1}
        """,
        {
            "d.csv": "id,st,created,amount_tenths\nd1,won,2026-01-01,12345\n"
            # a whole number written as a float (a JSON exporter's 1e3); a fraction of a
            # minor unit is no amount of minor units
            "d2,won,2026-01-01,1000.0\nd3,won,2026-01-01,1000.5\n"
        },
    )
    assert staged(project, store_of(project), "SELECT amount FROM stg.deals ORDER BY 1") == [
        (Decimal("100.0"),),
        (Decimal("1234.5"),),
        (None,),
    ]


def test_numeric_codes_in_a_map_and_a_fallback(make_project, store_of):
    project = make_project(
        """
        sources:
          desk:
            system: support
            object: tickets
            path: t.csv
            columns:
              record_id: id
              created_at: created
              status: {from: status, map: {2: open, 3: pending, 4: solved, 5: closed}}
              priority: {from: priority, map: {1: low, 2: normal, 3: high, 4: urgent, "*": normal}}
              channel: {from: source, map: {7: email, 99: null, true: web}}
        """,
        {
            "t.csv": """
            id,created,status,priority,source
            1,2026-01-01,2,4,7
            2,2026-01-01,5,,99
            3,2026-01-01,7,9,true
            """
        },
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, status, priority, channel FROM stg.tickets ORDER BY 1",
    )
    assert rows == [
        ("1", "open", "urgent", "email"),
        ("2", "closed", None, None),  # an empty value stays empty; 99 maps to nothing
        ("3", "7", "normal", "web"),  # unmapped codes stay as they are, or take '*'
    ]


def test_names_from_email_local_parts_and_names_with_punctuation(make_project, store_of):
    project = make_project(
        """
        sources:
          desk:
            system: support
            object: contacts
            path: c.csv
            columns:
              record_id: id
              first_name: {from: name, email_local: true, name_part: first}
              last_name: {from: name, email_local: true, name_part: last, case: title}
        """,
        {
            "c.csv": """
            id,name
            1,anna.obrien83
            2,jean_luc.picard+work@starfleet.org
            3,Seán O'Brien
            4,Anna van der Berg
            5,jsmith
            6,mary-jane.o'neil
            7,Anna Maria de la Cruz
            """
        },
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, first_name, last_name FROM stg.contacts ORDER BY 1",
    )
    assert rows == [
        ("1", "anna", "Obrien"),
        ("2", "jean luc", "Picard"),
        ("3", "Seán", "O'Brien"),
        ("4", "Anna", "Van Der Berg"),
        ("5", "jsmith", None),
        ("6", "mary-jane", "O'Neil"),
        ("7", "Anna Maria", "De La Cruz"),
    ]


@pytest.mark.parametrize(
    ("mapping", "key", "says"),
    [
        (
            '{from: c, format: "%Y-%m-%d %Q"}',
            "sources.s.columns.created_at.format",
            "'%Y-%m-%d %Q' is not a valid date format",
        ),
        (
            "{from: c, format: YYYY-MM-DD}",
            "sources.s.columns.created_at.format",
            "has no %-directive",
        ),
        (
            "{from: c, minor_units: 2}",
            "sources.s.columns: 'created_at'",
            "minor_units only applies to decimal",
        ),
    ],
)
def test_a_bad_transform_is_a_config_error_naming_the_key(make_project, mapping, key, says):
    with pytest.raises(ConfigError) as err:
        make_project(
            f"""
            sources:
              s:
                system: crm
                object: leads
                path: l.csv
                columns:
                  record_id: id
                  created_at: {mapping}
            """
        )
    assert key in str(err.value) and says in str(err.value)


def test_minor_units_by_currency_needs_the_currency_mapped(make_project):
    with pytest.raises(ConfigError) as err:
        make_project(
            """
            sources:
              s:
                system: crm
                object: deals
                path: d.csv
                columns:
                  record_id: id
                  status: st
                  created_at: c
                  amount: {from: cents, minor_units: true}
            """
        )
    assert "sources.s.columns" in str(err.value)
    assert (
        "its currency field 'currency' is not mapped; map it, or give the number of decimals"
        in (str(err.value))
    )


def test_a_bad_reader_format_is_a_config_error(make_project):
    with pytest.raises(ConfigError) as err:
        make_project(
            """
            sources:
              s:
                system: crm
                object: leads
                path: l.csv
                options: {timestamp_format: "%d.%m.%Y %"}
                columns: {record_id: id, created_at: c}
            """
        )
    assert "sources.s.options.timestamp_format" in str(err.value)
    assert "Trailing format character" in str(err.value)


def test_map_keys_are_read_as_written_and_every_target_may_be_null(make_project, store_of):
    project = make_project(
        """
        sources:
          desk:
            system: support
            object: tickets
            path: t.csv
            columns:
              record_id: id
              created_at: created
              status: {from: s, map: {01: open, yes: solved, 1.50: closed}}
              channel: {from: c, map: {unknown: null}}
              priority: {from: p, map: {x: null, "*": null}}
        """,
        {
            "t.csv": """
            id,created,s,c,p
            1,2026-01-01,01,unknown,high
            2,2026-01-01,yes,web,x
            3,2026-01-01,1.50,,
            4,2026-01-01,1,web,low
            """
        },
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, status, channel, priority FROM stg.tickets ORDER BY 1",
    )
    # YAML 1.1 would read 01 as 1, yes as true and 1.50 as 1.5: the keys stay as written
    assert rows == [
        ("1", "open", None, None),
        ("2", "solved", "web", None),
        ("3", "closed", None, None),
        ("4", "1", "web", None),
    ]


def test_title_case_and_minor_units_at_their_edges(make_project, store_of):
    project = make_project(
        """
        sources:
          erp:
            system: erp
            object: deals
            path: d.csv
            columns:
              record_id: id
              status: st
              created_at: created
              name: {from: name, case: title}
              amount: {from: cents, minor_units: 2}
        """,
        {
            "d.csv": """
            id,st,created,name,cents
            1,won,2026-01-01,macy's on 3rd avenue,-1999
            2,won,2026-01-01,o'brien & d'arcy,+0012
            3,won,2026-01-01,se\u0301an,999999999999999999999999
            """  # the accent as a combining mark (NFD)
        },
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, name, amount, _problems FROM stg.deals ORDER BY 1",
    )
    assert rows[0][1:3] == ("Macy's On 3rd Avenue", Decimal("-19.99"))
    assert rows[1][1:3] == ("O'Brien & D'Arcy", Decimal("0.12"))
    # composed to one letter first; an amount too large for money is a problem, not a crash
    assert rows[2][1] == "S\u00e9an" and rows[2][2] is None
    assert rows[2][3] == [
        "amount: cannot read '999999999999999999999999' as decimal in minor units"
    ]


def test_yaml_words_and_codes_in_a_mapping_are_read_as_written(make_project, store_of):
    """YAML 1.1 reads NO as False, 0123 as octal 83 and 10:30 as 630: in a value map, a
    column name or a constant they are Norway, a code and a time, as written."""
    project = make_project(
        """
        sources:
          crm:
            system: crm
            object: contacts
            path: c.csv
            columns:
              record_id: No
              country: {from: Land, map: {Norge: NO, Sverige: SE, Danmark: DK}}
              postcode: {value: 0123}
              city: {from: Stadt, map: {"*": 10:30}}
              email: {from: Mail, map: {off: on}}
        """,
        {"c.csv": "No,Land,Stadt,Mail\n1,Norge,x,off\n2,Sverige,y,a@x.com\n"},
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, country, postcode, city, email FROM stg.contacts ORDER BY 1",
    )
    assert rows == [("1", "NO", "0123", "10:30", "on"), ("2", "SE", "0123", "10:30", "a@x.com")]


def test_a_boolean_field_reads_on_and_off_from_the_export_and_from_a_map(make_project, store_of):
    """A checkbox exports 'on'; YAML keeps a map's on/off as text (only true/false are
    booleans there): both read as the booleans they say."""
    project = make_project(
        """
        dictionary: d.yaml
        sources:
          crm:
            system: crm
            object: contacts
            path: c.csv
            columns:
              record_id: id
              newsletter: box
              active: {from: state, map: {Aktiv: on, Inaktiv: off}}
        """,
        {
            "c.csv": "id,box,state\n1,on,Aktiv\n2,off,Inaktiv\n3,,Aktiv\n",
            "d.yaml": "objects:\n  contacts:\n    fields:\n"
            "      newsletter: {type: boolean}\n      active: {type: boolean}\n",
        },
    )
    rows = staged(
        project,
        store_of(project),
        "SELECT record_id, newsletter, active, _problems FROM stg.contacts ORDER BY 1",
    )
    assert rows == [("1", True, True, []), ("2", False, False, []), ("3", None, True, [])]
