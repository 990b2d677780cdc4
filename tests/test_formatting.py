"""Table cells: one formatter for the terminal and the reports."""

from workbench.formatting import cell_text


def test_table_cells_read_the_same_in_the_terminal_and_in_reports():
    assert [cell_text(v) for v in (None, True, False, float("nan"))] == ["", "yes", "no", ""]
    assert cell_text(1234567) == "1,234,567"
    assert cell_text(1234.5678) == "1,235"
    assert cell_text(12.0) == "12"
    assert cell_text(0.0) == "0"
    assert cell_text(0.031234567) == "0.03123"
    assert cell_text(0.031234567, digits=2) == "0.031"
    assert cell_text("E1") == "E1"
