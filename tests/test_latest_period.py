"""Rows dated in the future and quarantined rows never pick the latest period, never move
the baseline or comparison windows, and never make freshness (issue 17, item 4).

A small desk export: valid tickets created 2026-03 .. 2026-05, one of them solved in 2099
(this dictionary drops ``solved_at``'s ``max: now`` rule: the row stays valid and its
future time stamp reaches core, as validation does not promise there is none), and one
ticket of 2026-09 without its required ``status`` (quarantined, so only staged). The clock
is fixed at ``NOW``, after 2026-09, so the quarantined row is not ignored for being in the
future.
Expected values are worked out below from the rows as written, not by the package.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import polars as pl
from staged import ingest_staged

from workbench.cli import main
from workbench.kpi.run import baseline, compare, measure
from workbench.quality.metrics import record_metrics
from workbench.validate import validate

NOW = datetime(2026, 10, 15, 12, 0, 0, tzinfo=UTC)

DICTIONARY = """
objects:
  tickets:
    fields:
      record_id: {type: text, required: true, unique: true}
      status: {type: text, required: true}
      segment: {type: text, rules: {allowed: [canary, control]}}
      created_at: {type: timestamp, required: true, rules: {min: "1990-01-01", max: now}}
      first_response_at: {type: timestamp, rules: {min: "1990-01-01", max: now}}
      solved_at: {type: timestamp, rules: {min: "1990-01-01", max: null}}
"""
CONFIG = """
dictionary: dictionary.yaml
kpi:
  baseline_months: 3
  bootstrap_samples: 200
{launch}
sources:
  desk:
    system: support
    object: tickets
    path: tickets.csv
    columns: {{record_id: id, status: st, segment: seg, created_at: created,
               first_response_at: first, solved_at: solved}}
"""


def ts(text: str) -> datetime:
    """A time stamp as written below (whole minutes, UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# id, status, segment, created_at, first_response_at, solved_at (UTC, written with a Z)
VALID = [
    ("T1", "solved", "canary", "2026-03-03T09:00", "2026-03-03T10:30", "2026-03-04T09:00"),
    ("T2", "solved", "control", "2026-03-20T14:00", "2026-03-20T18:00", "2026-03-25T08:00"),
    ("T3", "solved", "canary", "2026-04-11T08:15", "2026-04-11T08:45", "2026-04-13T16:15"),
    ("T4", "solved", "control", "2026-05-06T11:00", "2026-05-06T15:00", "2026-05-28T17:45"),
    ("T5", "open", "canary", "2026-05-19T07:00", "2026-05-19T09:00", "2099-01-15T00:00"),
]  # fmt: skip
# no status (required): quarantined
QUARANTINED = ("T6", "", "control", "2026-09-10T10:00", "2026-09-10T11:00", "2026-09-11T10:00")


def tickets_csv(rows: list[tuple[str, ...]]) -> str:
    lines = [",".join(r[:3] + tuple(f"{t}:00Z" if t else "" for t in r[3:])) for r in rows]
    return "id,st,seg,created,first,solved\n" + "".join(line + "\n" for line in lines)


def desk(make_project, store_of, *, launch: str = ""):
    project = make_project(
        CONFIG.format(launch=f"  launch_date: {launch}" if launch else ""),
        {"dictionary.yaml": DICTIONARY, "tickets.csv": tickets_csv([*VALID, QUARANTINED])},
    )
    store = store_of(project)
    assert ingest_staged(project, store).failures == []
    report = validate(project, store)
    assert store.rows("SELECT record_id FROM quar.rows") == [("T6",)]
    assert store.scalar("SELECT count(*) FROM core.tickets WHERE solved_at > $n", {"n": NOW}) == 1
    return project, store, report.run_id


def test_the_latest_period_ignores_future_and_quarantined_rows(make_project, store_of):
    project, store, _ = desk(make_project, store_of)
    _, values = measure(project, store, record=False, now=NOW)
    periods = set(zip(values.frame["kpi"], values.frame["period"], strict=True))
    # the bait is there: a value of 2026-09 (the staged, quarantined ticket counts in the
    # missing-mandatory rate, which reads staging); the 2099 solve makes no 2099-01 value
    assert ("missing_mandatory_rate", "2026-09") in periods
    assert not [p for _, p in periods if p.startswith("2099")]
    assert any("after today (2099-01)" in note for note in values.notes)
    # ... but the latest period is the newest with a validated row up to now
    assert values.latest == datetime(2026, 5, 1)


def test_kpi_cli_prints_the_latest_period_up_to_now(make_project, store_of, capsys):
    project, store, _ = desk(make_project, store_of)
    store.close()
    capsys.readouterr()
    assert main(["kpi", "--project", str(project.root)]) == 0  # the real clock: after 2026-09
    out = capsys.readouterr().out
    assert "2026-05" in out
    table = [line for line in out.splitlines() if "│" in line]
    assert not [line for line in table if "2099" in line or "2026-09" in line]
    assert "left out for period(s) after today (2099-01)" in out  # said, not shown as a value


def test_kpi_cli_says_why_a_period_has_no_values(make_project, store_of, capsys):
    project, store, _ = desk(make_project, store_of)
    store.close()
    capsys.readouterr()
    assert main(["kpi", "--period", "2026-07", "--project", str(project.root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    # no ticket is dated in July; the values run from March (T1) to September (the
    # quarantined T6, counted by the missing-mandatory rate, which reads staging)
    assert "No KPI has a value for 2026-07: no validated row is dated in it." in out
    assert "Periods with values: 2026-03 to 2026-09." in out


def test_baseline_window_and_targets_stop_at_the_latest_period(make_project, store_of):
    project, store, _ = desk(make_project, store_of)
    result = baseline(project, store, record=False, now=NOW)
    # no launch date: the 3 months up to and including 2026-05
    assert (result.start, result.end) == (datetime(2026, 3, 1), datetime(2026, 6, 1))
    levels = {r["kpi"]: r for r in result.levels.iter_rows(named=True)}
    # tickets solved in the window: T1..T4 (T5's 2099 solve is outside)
    hours = [
        (ts(solved) - ts(created)).total_seconds() / 3600
        for _, _, _, created, _, solved in VALID
        if ts(solved) < datetime(2026, 6, 1, tzinfo=UTC)
    ]
    assert len(hours) == 4
    assert levels["resolution_time_h"]["level"] == statistics.median(hours)
    assert levels["resolution_time_h"]["size"] == 4
    # tickets created per month 03: 2, 04: 1, 05: 2 -> mean 5/3 (T6 never validated)
    assert levels["ticket_volume"]["level"] == 5 / 3
    assert levels["ticket_volume"]["periods"] == 3
    assert result.targets.select("kpi", "period").rows() == [("first_response_time_h", "2026-05")]
    # no later period has a value: the 2099 solve is in the future
    later = result.signals.filter(pl.col("kpi") == "resolution_time_h")["period"].to_list()
    assert later == []


def test_comparison_window_ends_with_the_latest_period(make_project, store_of):
    project, store, _ = desk(make_project, store_of, launch="2026-05-01")
    comparison = compare(project, store, record=False, now=NOW)
    windows = comparison.windows
    assert (windows.pre_start, windows.launch, windows.post_end) == (
        datetime(2026, 2, 1),
        datetime(2026, 5, 1),
        datetime(2026, 6, 1),
    )


def test_freshness_is_the_age_of_the_newest_valid_stamp_up_to_now(make_project, store_of):
    project, store, run_id = desk(make_project, store_of)
    record_metrics(project, store, run_id, now=NOW)
    got = store.scalar(
        "SELECT value FROM dq.metrics WHERE run_id = $r AND metric = 'freshness_hours'",
        {"r": run_id},
    )
    stamps = [ts(v) for row in VALID for v in row[3:]]
    newest = max(s for s in stamps if s <= NOW + timedelta(days=1))
    assert newest == ts("2026-05-28T17:45")  # not T5's 2099 solve, not T6's 2026-09
    assert got == (NOW - newest).total_seconds() / 3600


def test_stamps_within_the_day_of_skew_count_and_freshness_is_never_negative(
    make_project, store_of
):
    now = datetime(2026, 5, 31, 23, 59, tzinfo=UTC)
    rows = [
        ("T1", "open", "canary", "2026-05-30T08:00", "", ""),
        # exactly now + 1 day: allowed, as validation's `max: now` allows it
        ("T2", "open", "canary", "2026-06-01T23:59", "", ""),
        # a minute later, in an optional field: ignored
        ("T3", "open", "canary", "2026-05-30T09:00", "", "2026-06-02T00:00"),
    ]
    project = make_project(
        CONFIG.format(launch=""), {"dictionary.yaml": DICTIONARY, "tickets.csv": tickets_csv(rows)}
    )
    store = store_of(project)
    ingest_staged(project, store)
    run_id = validate(project, store).run_id
    assert store.scalar("SELECT count(*) FROM core.tickets") == 3
    _, values = measure(project, store, grain="day", record=False, now=now)
    assert values.latest == datetime(2026, 6, 1)
    record_metrics(project, store, run_id, now=now)
    got = store.scalar(
        "SELECT value FROM dq.metrics WHERE run_id = $r AND metric = 'freshness_hours'",
        {"r": run_id},
    )
    assert got == 0.0  # the newest stamp is a day ahead of the clock: fresh, not negative
