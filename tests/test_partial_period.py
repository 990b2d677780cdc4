"""An export taken mid-month: the latest month is not complete, so its values are not final
(leads not yet answered or converted). The default baseline window leaves it out and says
so; a few rows ending days before a month's end are no such cut.

Expected values are worked out below from the rows as written, not by the package.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from staged import ingest_staged

from workbench.cli import main
from workbench.kpi.periods import gap_to_end, is_partial, loaded_after
from workbench.kpi.run import baseline, compare, measure, rollout
from workbench.report import kpi_baseline
from workbench.validate import validate

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DICTIONARY = """
objects:
  tickets:
    fields:
      record_id: {type: text, required: true, unique: true}
      segment: {type: text}
      created_at: {type: timestamp, required: true}
      first_response_at: {type: timestamp}
      solved_at: {type: timestamp}
"""
CONFIG = """
dictionary: dictionary.yaml
kpi:
  baseline_months: {months}
  bootstrap_samples: 100
{launch}
sources:
  desk:
    system: support
    object: tickets
    path: tickets.csv
    columns: {{record_id: id, segment: seg, created_at: created, first_response_at: first,
               solved_at: solved}}
"""


def created(last_day: date) -> list[datetime]:
    """Tickets from 1 Feb 2026 to ``last_day``: as many a day as the month's number (2 a
    day in February, 5 in May), on the hour from 08:00; answered an hour later, solved two."""
    out, day = [], date(2026, 2, 1)
    while day <= last_day:
        out += [datetime(day.year, day.month, day.day, 8 + i) for i in range(day.month)]
        day += timedelta(days=1)
    return out


def desk(
    make_project,
    store_of,
    last_day: date,
    launch: str = "",
    months: int = 2,
    loaded: datetime | None = None,
    config: str = CONFIG,
):
    """The desk's tickets up to ``last_day``, loaded (the ledger's start) at ``loaded``: by
    default at 06:00 the morning after, as an export taken at the end of that day."""
    stamps = created(last_day)
    z = "%Y-%m-%dT%H:%M:%SZ"
    lines = [
        f"T{i},{('control', 'canary')[i % 2]},{t:{z}},{t + timedelta(hours=1):{z}},"
        f"{t + timedelta(hours=2):{z}}"
        for i, t in enumerate(stamps)
    ]
    project = make_project(
        config.format(launch=f"  launch_date: {launch}" if launch else "", months=months),
        {
            "dictionary.yaml": DICTIONARY,
            "tickets.csv": "id,seg,created,first,solved\n" + "\n".join(lines) + "\n",
        },
    )
    store = store_of(project)
    assert ingest_staged(project, store).failures == []
    morning = datetime(last_day.year, last_day.month, last_day.day, 6, tzinfo=UTC) + DAY
    store.execute("UPDATE meta.loads SET started_at = $t", {"t": loaded or morning})
    validate(project, store)
    assert store.scalar("SELECT count(*) FROM core.tickets") == len(stamps)
    return project, store, Counter((t.year, t.month) for t in stamps)


def test_a_month_cut_mid_way_is_left_out_of_the_baseline_window(make_project, store_of):
    project, store, per_month = desk(make_project, store_of, date(2026, 5, 17))
    assert per_month[(2026, 5)] == 17 * 5  # May holds 17 of its days
    result = baseline(project, store, record=False, now=NOW)
    assert result.values.latest == datetime(2026, 5, 1)
    assert result.values.newest == datetime(2026, 5, 17, 14, 0)  # 12:00 solved at 14:00
    assert result.values.latest_partial
    # the two whole months before May, not April and the half May
    assert (result.start, result.end) == (
        datetime(2026, 3, 1),
        datetime(2026, 4, 1) + (datetime(2026, 5, 1) - datetime(2026, 4, 1)),
    )
    levels = {r["kpi"]: r["level"] for r in result.levels.iter_rows(named=True)}
    assert levels["ticket_volume"] == (per_month[(2026, 3)] + per_month[(2026, 4)]) / 2
    said = kpi_baseline.window(result)
    assert said.startswith("Baseline window: Mar 2026 to Apr 2026.")
    assert "The data ends on 17 May 2026" in said and "May 2026 is not complete" in said
    assert "The baseline window ends before it." in said
    assert result.partial in result.notes
    # targets are judged on the last whole month, not on the half May
    assert set(result.targets["period"].to_list()) == {"2026-04"}


def test_a_whole_month_stays_in_the_window(make_project, store_of):
    project, store, per_month = desk(make_project, store_of, date(2026, 5, 31))
    result = baseline(project, store, record=False, now=NOW)
    assert not result.values.latest_partial and result.partial is None
    assert (result.start, result.end) == (datetime(2026, 4, 1), datetime(2026, 6, 1))
    levels = {r["kpi"]: r["level"] for r in result.levels.iter_rows(named=True)}
    assert levels["ticket_volume"] == (per_month[(2026, 4)] + per_month[(2026, 5)]) / 2
    assert kpi_baseline.window(result) == "Baseline window: Apr 2026 to May 2026."


def test_before_a_launch_the_window_stops_where_the_data_does(make_project, store_of):
    """Launch on 1 Jul, three months before it: April to June. May is cut on the 17th and
    June has no data, so the window is shorter: it ends where May begins."""
    project, store, per_month = desk(
        make_project, store_of, date(2026, 5, 17), "2026-07-01", months=3
    )
    result = baseline(project, store, record=False, now=NOW)
    assert (result.start, result.end) == (datetime(2026, 4, 1), datetime(2026, 5, 1))
    levels = {r["kpi"]: r["level"] for r in result.levels.iter_rows(named=True)}
    assert levels["ticket_volume"] == per_month[(2026, 4)]


def test_a_window_that_would_be_left_empty_stays_and_says_why(make_project, store_of):
    """Two months before a launch on 1 Jul: May and June. Without May nothing would be
    left: the window stays, and the note says May's values are not final."""
    project, store, _ = desk(make_project, store_of, date(2026, 5, 17), "2026-07-01")
    result = baseline(project, store, record=False, now=NOW)
    assert (result.start, result.end) == (datetime(2026, 5, 1), datetime(2026, 7, 1))
    assert result.partial is not None and "May 2026 is not complete" in result.partial
    assert "ends before it" not in result.partial


def test_the_kpi_commands_say_the_latest_month_is_not_complete(make_project, store_of, capsys):
    project, store, _ = desk(make_project, store_of, date(2026, 5, 17))
    store.close()
    assert main(["kpi", "--project", str(project.root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "2026-05 is not complete: the data ends on 17 May 2026 14:00 UTC" in out
    assert main(["baseline", "--project", str(project.root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Baseline 2026-03..2026-04" in out and "May 2026 is not complete" in out


@pytest.mark.parametrize(
    ("gap", "usual", "partial"),
    [
        # data every day until the 17th of May (gap 14.4 days), each month before ending
        # within hours of its end: cut
        (datetime(2026, 6, 1) - datetime(2026, 5, 17, 14), timedelta(hours=10), True),
        # ... a last row on Friday 29 May, the month ending on a weekend: not cut
        (datetime(2026, 6, 1) - datetime(2026, 5, 29, 18), timedelta(hours=10), False),
        # invoices dated on the 1st: every month's newest row is 30 days before its end
        (30 * DAY, 31 * DAY, False),
        # a few rows a month, once 17 days before the end: a 10-day gap is usual
        (10 * DAY, 17 * DAY, False),
        # the month in progress, four days in, after months of daily data
        (27 * DAY, timedelta(hours=6), True),
        # the first month of data: nothing tells
        (27 * DAY, None, False),
    ],
)
def test_a_cut_is_a_gap_longer_than_a_weekend_beyond_the_usual_one(gap, usual, partial):
    assert is_partial(gap, "month", usual) is partial


def test_measure_gives_the_newest_stamp_and_the_usual_gap(make_project, store_of):
    project, store, _ = desk(make_project, store_of, date(2026, 5, 17))
    _, values = measure(project, store, record=False, now=NOW)
    assert (values.latest, values.newest) == (datetime(2026, 5, 1), datetime(2026, 5, 17, 14))
    # Feb to Apr: each month's newest row is its last day's last solve: created at 08:00
    # plus (the month's number - 1) hours, solved two hours later
    ends = {m: datetime(2026, m + 1, 1) for m in (2, 3, 4)}
    newest = {m: ends[m] - DAY + timedelta(hours=8 + m - 1 + 2) for m in ends}
    assert values.usual_gap == max(ends[m] - newest[m] for m in ends) == timedelta(hours=13)


@pytest.mark.parametrize(
    ("last_day", "post_end", "said"),
    [
        (date(2026, 5, 17), datetime(2026, 5, 1), True),
        (date(2026, 5, 31), datetime(2026, 6, 1), False),
    ],
)
def test_the_window_after_a_launch_ends_before_a_month_cut_short(
    make_project, store_of, last_day, post_end, said
):
    project, store, _ = desk(make_project, store_of, last_day, "2026-03-01")
    comparison = compare(project, store, record=False, now=NOW)
    assert (comparison.windows.launch, comparison.windows.post_end) == (
        datetime(2026, 3, 1),
        post_end,
    )
    cut = "The data ends on 17 May 2026: May 2026 is not complete, so the window after the "
    assert (comparison.cut is not None and comparison.cut.startswith(cut)) is said
    assert (comparison.cut in comparison.notes) is said


def test_a_month_cut_short_is_no_signal_of_a_real_shift(make_project, store_of):
    """Three tickets every day from 1 Feb to 17 May: the whole months hold 84 to 93, May
    51, far below the baseline's lower limit only because the export was taken on the
    17th. It is left out of the signals, not flagged as a shift."""
    stamps, day = [], date(2026, 2, 1)
    while day <= date(2026, 5, 17):
        stamps += [datetime(day.year, day.month, day.day, 9 + i) for i in range(3)]
        day += timedelta(days=1)
    z = "%Y-%m-%dT%H:%M:%SZ"
    lines = [f"T{i},all,{t:{z}},{t:{z}},{t:{z}}" for i, t in enumerate(stamps)]
    project = make_project(
        CONFIG.format(launch="", months=2),
        {
            "dictionary.yaml": DICTIONARY,
            "tickets.csv": "id,seg,created,first,solved\n" + "\n".join(lines) + "\n",
        },
    )
    store = store_of(project)
    assert ingest_staged(project, store).failures == []
    store.execute("UPDATE meta.loads SET started_at = '2026-05-18 06:00:00+00'")  # on the 17th
    validate(project, store)
    result = baseline(project, store, record=False, now=NOW)
    assert result.values.latest_partial and result.end == datetime(2026, 5, 1)
    volume = result.levels.filter(result.levels["kpi"] == "ticket_volume").row(0, named=True)
    assert volume["lcl"] > 17 * 3  # May's count would break the limits
    assert "2026-05" not in result.signals["period"].to_list()


def test_a_window_after_a_launch_that_keeps_a_month_cut_short_says_so(make_project, store_of):
    """A launch on 10 May and data cut on 17 May: no whole month after the launch is left
    without May, so the window keeps it, and says its values are not final."""
    project, store, _ = desk(make_project, store_of, date(2026, 5, 17), "2026-05-10")
    comparison = compare(project, store, record=False, now=NOW)
    assert comparison.values.latest_partial
    assert comparison.windows.post_end == datetime(2026, 6, 1)
    said = "May 2026 is not complete, and the window after the launch includes it"
    assert comparison.cut is not None and said in comparison.cut
    assert comparison.cut in comparison.notes


def test_data_loaded_after_the_month_ended_is_taken_as_whole(make_project, store_of):
    """Data every day until 17 May, as a desk closed for the rest of the month would leave,
    loaded on 10 June: nothing says the export was taken before May ended, so May counts
    whole (a December loaded in January, its last rows before the holidays, is the same)."""
    loaded = datetime(2026, 6, 10, 9, tzinfo=UTC)
    project, store, per_month = desk(make_project, store_of, date(2026, 5, 17), loaded=loaded)
    result = baseline(project, store, record=False, now=NOW)
    assert result.values.loaded == datetime(2026, 6, 10, 9)
    assert not result.values.latest_partial and result.partial is None
    assert (result.start, result.end) == (datetime(2026, 4, 1), datetime(2026, 6, 1))
    levels = {r["kpi"]: r["level"] for r in result.levels.iter_rows(named=True)}
    assert levels["ticket_volume"] == (per_month[(2026, 4)] + per_month[(2026, 5)]) / 2


@pytest.mark.parametrize(
    ("loaded", "partial"),
    [
        (datetime(2026, 6, 1), False),  # at the month's end: every export after it
        (datetime(2026, 5, 31, 23, 59), True),
        (None, True),  # not known (no ledger): the rows alone decide
    ],
)
def test_a_period_is_whole_when_every_export_was_loaded_after_it(loaded, partial):
    start, usual = datetime(2026, 5, 1), timedelta(hours=10)
    gap = gap_to_end(start, "month", datetime(2026, 5, 17, 14))
    assert (not loaded_after(start, "month", loaded) and is_partial(gap, "month", usual)) is partial


def test_a_cohort_launched_in_a_month_cut_short_is_said_to_have_no_period_after(
    make_project, store_of
):
    """Cohorts launched 1 Mar (canary) and 4 May (control), data cut on 17 May: the window
    ends on 1 May, so the May cohort has nothing after its launch, and the notes say where
    the measured data ends, not that May 4 is after the data (it is not)."""
    config = CONFIG.replace(
        "{launch}",
        "  rollout:\n    column: segment\n"
        "    launches: {{canary: 2026-03-01, control: 2026-05-04}}\n{launch}",
    )
    project, store, _ = desk(make_project, store_of, date(2026, 5, 17), config=config)
    result = rollout(project, store, record=False, now=NOW)
    notes = " ".join(result.notes)
    assert "May 2026 is not complete, so the window after the launch ends before it" in notes
    assert (
        "cohort control launches 2026-05-04, when the measured data has ended (2026-05-01)" in notes
    )
