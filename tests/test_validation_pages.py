"""The data-quality report's validation pages: per source and check the expectation,
severity, observed value, result against the blocking limit, history across validation runs
and failing values (masked unless unmasked), with the checks that passed listed too.

A support desk's tickets are ingested and validated twice, the export changed in between;
every expected number is computed here from the rows written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ConfigError
from workbench.report.context import open_context
from workbench.report.validation_pages import NOT_NULL, WHOLE_ROW, check_results, validation_pages
from workbench.standardize.rules import EMAIL_PATTERN
from workbench.validate.quarantine import (
    INGEST_CHECK,
    QUARANTINED,
    REJECTED,
    SET_ASIDE,
    mask_text,
)

CONFIG = """
privacy: {allow_unmask: true}
quality:
  blocking:
    validity: 0.75
    "validity:unique (a later duplicate)": 0.95
    reject_rate: 0.05
    quarantine_rate: 0.5
sources:
  desk:
    system: support
    object: tickets
    path: t.csv
    columns: {record_id: id, requester_email: email, priority: priority, created_at: created}
"""
PERIOD = "2026-01"
ALLOWED = ("low", "normal", "high", "urgent")
PRIORITY = "one of low, normal, high, urgent"
EMAIL = "email address format"
UNIQUE = "unique (a later duplicate)"
# id, requester email, priority; every ticket created on 2 January 2026
RUN_1 = [
    ("T1", "anna@x.com", "low"),
    ("T2", "an na@x.com", "normal"),  # not an email address (warn)
    ("T3", "bo b@x.com", "hgih"),  # not an email address, not a priority (warn)
    ("T4", "dan@x.com", "hgih"),  # not a priority
    ("T5", "eve@x.com", "high"),
    ("T5", "fay@x.com", "low"),  # a repeated id (error: quarantined)
    ("T7", "carl.x.com", "urgent"),  # not an email address
    ("T8", "", "low"),  # no email: optional, passes
    ("T9", "gus@x.com", "normal"),
    ("T10", "hal@x.com", "normal"),
]
RUN_2 = [
    ("T1", "anna@x.com", "low"),
    ("T2", "ann a@x.com", "normal"),  # still not an email address
    ("T3", "bob@x.com", "high"),
    ("T4", "dan@x.com", "critical"),  # not a priority
    ("T5", "eve@x.com", "high"),
    ("T6", "fay@x.com", "low"),
    ("T7", "carl@x.com", "urgent"),
    ("T8", "", "low"),
    ("T9", "gus@x.com", "normal"),
    ("T10", "hal@x.com", "normal"),
    ("T11", "ida@x.com", "low"),
    ("T12", "jon@x.com", "high"),
]
RAGGED = "T13,kim@x.com,low,2026-01-02T09:00:00Z,one too many"  # ingest cannot read it


def export(rows: list[tuple[str, str, str]], *extra: str) -> str:
    lines = ["id,email,priority,created"]
    lines += [f"{i},{e},{p},2026-01-02T09:00:00Z" for i, e, p in rows]
    return "\n".join([*lines, *extra]) + "\n"


def bad_emails(rows: list[tuple[str, str, str]]) -> list[str]:
    return [e for _, e, _ in rows if e and not re.match(EMAIL_PATTERN, e)]


def bad_priorities(rows: list[tuple[str, str, str]]) -> list[str]:
    return [p for _, _, p in rows if p not in ALLOWED]


def repeated_ids(rows: list[tuple[str, str, str]]) -> int:
    ids = [i for i, _, _ in rows]
    return len(ids) - len(set(ids))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("pages")
    (folder / "workbench.yaml").write_text(CONFIG)
    (folder / "t.csv").write_text(export(RUN_1))
    assert main(["ingest", "--project", str(folder)]) == 0
    # email format passes on 70% of the rows, below the validity limit of 75%: exit 5
    assert main(["validate", "--project", str(folder)]) == 5
    (folder / "t.csv").write_text(export(RUN_2, RAGGED))
    assert main(["ingest", "--project", str(folder)]) == 0
    # one row of 13 unreadable is above the reject_rate limit of 5%: exit 5
    assert main(["validate", "--project", str(folder)]) == 5
    return str(folder)


@pytest.fixture
def results(root: str):
    ctx = open_context(root, PERIOD)
    frame = check_results(ctx)
    return {(r["column"], r["check"]): r for r in frame.iter_rows(named=True)}


def pages(root: str, *, unmask: bool = False) -> str:
    ctx = open_context(root, PERIOD, unmask=unmask)
    found = validation_pages(ctx)
    assert not isinstance(found, str), found
    return found.html


def test_every_check_of_the_mapped_fields_is_listed(results) -> None:
    assert sorted(results) == sorted(
        [
            (WHOLE_ROW, INGEST_CHECK),
            ("record_id", NOT_NULL),
            ("record_id", UNIQUE),
            ("requester_email", EMAIL),
            ("requester_email", "at most 254 chars"),
            ("priority", PRIORITY),
            ("created_at", NOT_NULL),
            ("created_at", "readable"),
            ("created_at", ">= 1990-01-01"),
            ("created_at", "<= now"),
        ]
    )
    assert {k: (r["rule"], r["severity"], r["outcome"]) for k, r in results.items()} == {
        (WHOLE_ROW, INGEST_CHECK): ("ingest", "error", REJECTED),
        ("record_id", NOT_NULL): ("required", "error", QUARANTINED),
        ("record_id", UNIQUE): ("unique", "error", QUARANTINED),
        ("requester_email", EMAIL): ("format", "warn", SET_ASIDE),
        ("requester_email", "at most 254 chars"): ("max_length", "warn", SET_ASIDE),
        ("priority", PRIORITY): ("allowed", "warn", SET_ASIDE),
        ("created_at", NOT_NULL): ("required", "error", QUARANTINED),
        ("created_at", "readable"): ("type", "error", QUARANTINED),
        ("created_at", ">= 1990-01-01"): ("min", "error", QUARANTINED),
        ("created_at", "<= now"): ("max", "error", QUARANTINED),
    }
    assert results[("priority", PRIORITY)]["expectation"] == "one of low, normal, high, urgent"
    assert results[("requester_email", "at most 254 chars")]["expectation"] == "at most 254 chars"


def test_observed_values_of_the_latest_run(results) -> None:
    rows = len(RUN_2)
    for key, failed in (
        (("requester_email", EMAIL), len(bad_emails(RUN_2))),
        (("priority", PRIORITY), len(bad_priorities(RUN_2))),
        (("record_id", UNIQUE), repeated_ids(RUN_2)),
        (("created_at", "<= now"), 0),
    ):
        found = results[key]
        assert (found["rows"], found["failed"]) == (rows, failed), key
        assert found["passing"] == pytest.approx(1 - failed / rows), key
        assert found["passed"] is (failed == 0), key
    ingest = results[(WHOLE_ROW, INGEST_CHECK)]
    assert (ingest["rows"], ingest["failed"], ingest["passed"]) == (rows + 1, 1, False)
    assert ingest["passing"] == pytest.approx(rows / (rows + 1))


def test_thresholds_and_blocking_limits(results) -> None:
    email, unique = results[("requester_email", EMAIL)], results[("record_id", UNIQUE)]
    ingest = results[(WHOLE_ROW, INGEST_CHECK)]
    assert (email["limit"], email["within_limit"]) == (0.75, True)  # 11 of 12 now
    assert email["limit_text"] == "at least 75.0% passing"
    assert (unique["limit"], unique["within_limit"]) == (0.95, True)  # the check's own limit
    assert (ingest["limit"], ingest["within_limit"]) == (0.05, False)  # 1 of 13 > 5%
    assert ingest["limit_text"] == "at most 5.0% unreadable"


def test_history_has_a_point_per_validation_run(results) -> None:
    def points(key):
        return [(p["failed"], p["rows"]) for p in results[key]["history"]]

    assert points(("requester_email", EMAIL)) == [
        (len(bad_emails(RUN_1)), len(RUN_1)),
        (len(bad_emails(RUN_2)), len(RUN_2)),
    ]
    assert points(("priority", PRIORITY)) == [
        (len(bad_priorities(RUN_1)), len(RUN_1)),
        (len(bad_priorities(RUN_2)), len(RUN_2)),
    ]
    assert points(("record_id", UNIQUE)) == [(repeated_ids(RUN_1), len(RUN_1)), (0, len(RUN_2))]
    assert points((WHOLE_ROW, INGEST_CHECK)) == [(0, len(RUN_1)), (1, len(RUN_2) + 1)]
    email = results[("requester_email", EMAIL)]["history"]
    assert [p["passing"] for p in email] == pytest.approx([0.7, 11 / 12])
    assert email[0]["run_id"] < email[1]["run_id"]
    assert all(p["started_at"] is not None for p in email)


def test_failing_values_are_masked_by_default(root: str, results) -> None:
    assert results[("requester_email", EMAIL)]["sample"] == ["a***@x.com"]  # "ann a@x.com"
    assert results[("priority", PRIORITY)]["sample"] == ["critical"]  # pii none: as it is
    # the unreadable row: its line (header, 12 rows, then it), kind and masked raw text
    assert results[(WHOLE_ROW, INGEST_CHECK)]["sample"] == [
        f"line 14, too many columns: {mask_text(RAGGED)}"
    ]
    assert "k***@x.com" in mask_text(RAGGED)
    page = pages(root)
    assert "<code>a***@x.com</code>" in page
    assert "ann a@x.com" not in page and "kim@x.com" not in page


def test_failing_values_unmasked_where_allowed(root: str) -> None:
    ctx = open_context(root, PERIOD, unmask=True)
    found = {(r["column"], r["check"]): r for r in check_results(ctx).iter_rows(named=True)}
    assert found[("requester_email", EMAIL)]["sample"] == ["ann a@x.com"]
    assert found[(WHOLE_ROW, INGEST_CHECK)]["sample"] == [f"line 14, too many columns: {RAGGED}"]
    assert "<code>ann a@x.com</code>" in pages(root, unmask=True)


def test_unmasking_needs_the_project_to_allow_it(make_project, tmp_path: Path) -> None:
    make_project(CONFIG.replace("privacy: {allow_unmask: true}", ""), {"t.csv": export(RUN_1)})
    with pytest.raises(ConfigError):
        open_context(tmp_path, PERIOD, unmask=True)


def test_page_lists_failing_and_passing_checks_per_source(root: str) -> None:
    page = pages(root)
    section = re.search(r"<details class='wb-vp-source'( open)?><summary>(.*?)</summary>", page)
    assert section is not None
    assert section.group(1) == " open"  # ingest's reject_rate is beyond its limit
    summary = re.sub(r"<[^>]+>", "", section.group(2))
    assert summary.startswith("desk (tickets) · 12 rows validated · 10 checks: 7 passed, 3 failed")
    assert "1 beyond a blocking limit" in summary
    failed, passed = page.split("Checks that passed on every row")
    # failing now, or earlier in the history (the repeated id of the first run)
    for text in (PRIORITY, "an email address (name@domain)", "unique within the source"):
        assert text in failed
    assert "✗ failed, beyond the blocking limit" in failed  # ingest
    assert "limit: at least 95.0% passing (met)" in failed  # unique, recovered
    assert "91.7%</b> pass" in failed and "1 of 12 rows failed" in failed
    assert "run 1: 70.0% → run 2: 91.7%" in failed
    assert "<svg" in failed
    # passed on every row of both runs: listed compactly with their severity
    assert "(in all the 2 runs shown): 6" in passed
    for text in ("at most 254 chars", "readable as timestamp", "&gt;= 1990-01-01"):
        assert text in passed
    assert "not empty (the field is required) <small>(error)</small>" in passed


@pytest.mark.slow
def test_full_report_renders_the_validation_pages(root: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    argv = ["report", "data_quality", "--period", PERIOD, "--project", root, "--out", str(out)]
    assert main(argv) == 0
    page = (out / "data_quality" / PERIOD / "data_quality.html").read_text()
    assert "Validation results: every check, per source" in page
    assert re.search(r"<details class=.wb-vp-source. open", page)  # as nbconvert writes it
    assert "a***@x.com" in page and "ann a@x.com" not in page
    assert main([*argv, "-p", "unmask=true"]) == 0
    page = (out / "data_quality" / PERIOD / "data_quality.html").read_text()
    assert "<code>ann a@x.com</code>" in page
