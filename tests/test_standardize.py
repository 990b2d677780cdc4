"""Each standardization rule on its own, with expected values written out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from workbench.standardize import rules


def apply(expr_fn, values: list) -> list:
    return pl.DataFrame({"v": values}).select(expr_fn(pl.col("v")))["v"].to_list()


def test_email_trimmed_and_lower_cased():
    assert apply(rules.email, ["  Anna.Mueller@ACME.com ", None]) == ["anna.mueller@acme.com", None]


def test_an_email_ending_in_a_dot_is_the_address_without_it():
    """``x.com.`` is the fully qualified spelling of ``x.com``; it would never match it."""
    assert apply(rules.email, ["BOB@X.COM.", "bob@x.com"]) == ["bob@x.com", "bob@x.com"]


def test_the_email_format_wants_a_domain_of_labels_none_empty():
    values = ["a@x.com", "a.b+c@sub.x.co.uk", "müller@bücher.de", "a@.x.com", "a@x..com",
              "a@x.com.", "a@x", "a b@x.com"]  # fmt: skip
    matched = pl.Series(values).str.contains(rules.EMAIL_PATTERN).to_list()
    assert matched == [True, True, True, False, False, False, False, False]


def test_email_alias_removed_only_in_the_local_part():
    values = ["anna+news@x.com", "bob@x.com", "c+a+b@sub+x.com", None]
    assert apply(rules.email_without_alias, values) == [
        "anna@x.com",
        "bob@x.com",
        "c@sub+x.com",
        None,
    ]


def test_person_names_normalized_and_case_fixed():
    decomposed = "Mu\u0308ller"  # u + combining diaeresis
    values = ["ANNA-LENA MÜLLER", "o'brien", "McDonald", decomposed, "  jean   pierre ", None]
    assert apply(rules.person_name, values) == [
        "Anna-Lena Müller",
        "O'Brien",
        "McDonald",
        "Müller",
        "Jean Pierre",
        None,
    ]
    assert apply(rules.person_name, [decomposed])[0] == "M\u00fcller"


def test_phone_numbers_to_e164_with_record_or_default_region():
    raw = pl.Series(
        [
            "+49 30 1234567",
            "030 1234567",
            "(415) 555-0132",
            "0049 30 1234567",
            "415.555.0132",
            "12",
            "call me",
            None,
            "020 7946 0958",
        ]
    )
    region = pl.Series(["DE", "DE", "US", "DE", None, "DE", "DE", "DE", "GB"])
    assert rules.phone_e164(raw, region).to_list() == [
        "+49301234567",
        "+49301234567",
        "+14155550132",
        "+49301234567",
        None,  # a national number without a country cannot be read
        None,
        None,
        None,
        "+442079460958",
    ]


def test_money_converted_at_the_rate_of_its_month():
    rates = pl.DataFrame(
        {
            "month": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 1, 1)],
            "currency": ["USD", "USD", "GBP"],
            "rate": [0.9, 0.8, 1.2],
        }
    )
    frame = pl.DataFrame(
        {
            "amount": [Decimal("100"), Decimal("100"), Decimal("50"), Decimal("10"), Decimal("7")],
            "currency": ["USD", "USD", "GBP", "EUR", "JPY"],
            "day": [
                date(2026, 1, 31),
                date(2026, 2, 1),
                date(2026, 1, 15),
                date(2026, 3, 3),
                date(2026, 1, 2),
            ],
        }
    ).with_columns(pl.col("amount").cast(pl.Decimal(18, 4)))
    base = rules.to_base_currency(frame, "amount", "currency", pl.col("day"), rates, "EUR")
    assert base.to_list() == [Decimal(90), Decimal(80), Decimal(60), Decimal(10), None]


def test_large_amounts_convert_to_the_base_currency_exactly():
    """Twenty billion in cents is more digits than a float holds: the conversion stays in
    decimals (through a float it came back as 19999999999.9900016784)."""
    rates = pl.DataFrame(
        {"month": [date(2026, 1, 1)], "currency": ["USD"], "rate": [0.8571]},
    )
    frame = pl.DataFrame(
        {
            "amount": [Decimal("19999999999.99"), Decimal("19999999999.99"), Decimal("0.05")],
            "currency": ["EUR", "USD", "USD"],
            "day": [date(2026, 1, 5)] * 3,
        }
    ).with_columns(pl.col("amount").cast(pl.Decimal(38, 2)))
    base = rules.to_base_currency(frame, "amount", "currency", pl.col("day"), rates, "EUR")
    # 19999999999.99 * 0.8571 = 17141999999.991429 -> 17141999999.9914; 0.05 * 0.8571 =
    # 0.042855 -> 0.0429 (half away from zero)
    assert base.to_list() == [
        Decimal("19999999999.9900"),
        Decimal("17141999999.9914"),
        Decimal("0.0429"),
    ]


def test_many_phone_numbers_parse_in_worker_processes_as_in_one(tmp_path):
    """Above the threshold the numbers are split across worker processes: same values, same
    order, as parsing them one by one here."""
    import phonenumbers

    from workbench.standardize import phones

    numbers = [
        (f"0{30 + i % 60} {1000000 + 7919 * i % 9000000}", ["DE", "GB", "FR", None][i % 4])
        for i in range(3000)
    ] + [("+1 415 555 0132", None), ("call me", "DE"), ("12", "DE")]

    def by_hand(raw: str, region: str | None) -> str | None:
        try:
            n = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(n):
            return None
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)

    expected = [by_hand(raw, region) for raw, region in numbers]
    assert phones.e164_all(numbers, parallel_from=1000) == expected
    # a worker interpreter really parses its share (the fallback would hide a broken one)
    worker = phones._Worker(tmp_path / "share", numbers[:500])
    assert worker.result(timeout=60) == expected[:500]
    assert not worker.fell_back and worker.process is not None
    assert worker.process.returncode == 0
    assert sum(v is not None for v in expected) > 1000  # mostly real numbers
    assert expected[-3:] == ["+14155550132", None, None]
