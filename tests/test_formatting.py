"""Table cells: one formatter for the terminal and the reports."""

from workbench.formatting import cell_text, change_text


def test_table_cells_read_the_same_in_the_terminal_and_in_reports():
    assert [cell_text(v) for v in (None, True, False, float("nan"))] == ["", "yes", "no", ""]
    assert cell_text(1234567) == "1,234,567"
    assert cell_text(1234.5678) == "1,235"
    assert cell_text(12.0) == "12"
    assert cell_text(0.0) == "0"
    assert cell_text(0.031234567) == "0.03123"
    assert cell_text(0.031234567, digits=2) == "0.031"
    assert cell_text("E1") == "E1"


def test_no_number_reads_in_scientific_notation():
    from workbench.formatting import number_text

    assert cell_text(0.000012345) == "0.00001234"
    assert number_text(1.2e-05, 2) == "0.000012"
    assert number_text(-0.5) == "-0.5"
    assert "e" not in cell_text(1.7775936e12) and cell_text(1.7775936e12) == "1,777,593,600,000"


def test_shares_money_and_time_read_as_people_write_them():
    from datetime import UTC, date, datetime, timedelta, timezone

    from workbench.formatting import money_text, percent_text, time_text, value_text

    assert percent_text(0.12345) == "12.3%" and percent_text(1.0) == "100.0%"
    assert money_text(1234567.5, "EUR") == "EUR 1,234,567.50"
    assert money_text(-12.3, "JPY", 0) == "JPY -12"
    assert time_text(datetime(2026, 10, 1, 14, 5, 59, tzinfo=UTC)) == "2026-10-01 14:05 UTC"
    berlin = timezone(timedelta(hours=2))
    assert time_text(datetime(2026, 10, 1, 16, 5, tzinfo=berlin)) == "2026-10-01 14:05 UTC"
    assert cell_text(datetime(2026, 10, 1, 14, 5, 59, 123, tzinfo=UTC)) == "2026-10-01 14:05 UTC"
    assert cell_text(date(2026, 10, 1)) == "2026-10-01"
    assert value_text(0.0412, "share") == "4.1%"
    assert value_text(1234.5, "base currency", "GBP") == "GBP 1,234.50"
    assert value_text(12.345, "hours") == "12.3 hours"
    assert value_text(1204.0, "tickets") == "1,204 tickets"
    assert value_text(None, "hours") == "n/a"


def test_a_change_reads_signed_and_a_shares_in_percentage_points() -> None:
    assert change_text(0.04, "share") == "+4.0 pp"
    assert change_text(-0.123, "rate") == "-12.3 pp"
    assert change_text(-0.38, "hours") == "-0.38 hours"
    assert change_text(1234.5, "tickets") == "+1,234 tickets"
    assert change_text(12.0, "base currency", "EUR") == "EUR +12.00"
    assert change_text(-12.0, "base currency", "EUR") == "EUR -12.00"
    assert change_text(None, "share") == "n/a"
