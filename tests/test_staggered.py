"""Staggered rollout (issue 22 item 1): per-cohort DiD against not-yet-treated and
never-treated groups, the weighted overall effect and the event study, checked against the
same definitions computed here in plain Python from the rows written to the export."""

from __future__ import annotations

import json
from datetime import date
from statistics import mean

import pytest

from workbench.cli import main
from workbench.errors import ConfigError
from workbench.ingest import ingest
from workbench.kpi.run import rollout
from workbench.pipeline import run_quality

DICTIONARY = """
objects:
  orders:
    fields:
      record_id: {type: text, required: true, unique: true}
      region: {type: text}
      total: {type: decimal}
      ordered_at: {type: timestamp, required: true}
"""

CONFIG = """
pack: none
dictionary: d.yaml
kpi:
  baseline_months: 2
  bootstrap_samples: 400
  rollout:
    column: region
    launches: {EMEA: 2026-03-01, NA: 2026-05-01}
  definitions:
    order_value:
      title: Mean order value
      direction: up
      object: orders
      time: ordered_at
      measure: total
      stat: mean
sources:
  shop:
    system: shop
    object: orders
    path: orders.csv
    columns: {record_id: id, region: region, total: total, ordered_at: at}
"""

LAUNCH = {"EMEA": date(2026, 3, 1), "NA": date(2026, 5, 1)}
BASE = {"EMEA": 100, "NA": 80, "APAC": 60}
EFFECT = {"EMEA": 12, "NA": 7}
MONTHS = [date(2026, m, 1) for m in range(1, 7)]  # January to June 2026


def _orders() -> list[tuple[str, str | None, date, float]]:
    """Orders per region and month: the region's level, a common trend of +2 a month, a
    spread of -3/0/+3 and the region's effect from its launch on. APAC, a control, doubles
    its volume from March (pooling its rows with NA's would pull the control level down);
    a few orders carry no region (they belong to no group)."""
    rows: list[tuple[str, str | None, date, float]] = []
    for region, base in BASE.items():
        for i, month in enumerate(MONTHS):
            launched = region in LAUNCH and month >= LAUNCH[region]
            copies = 2 if region == "APAC" and month >= date(2026, 3, 1) else 1
            for k, spread in enumerate((-3, 0, 3) * copies):
                total = base + 2 * i + spread + (EFFECT[region] if launched else 0)
                rows.append((f"{region}-{i}-{k}", region, month, float(total + (k % 3) * 0.5)))
    rows += [(f"none-{i}", None, month, 500.0 + 50 * i) for i, month in enumerate(MONTHS)]
    return rows


def _level(rows, regions, start, end) -> tuple[float, int]:
    picked = [r[3] for r in rows if r[1] in regions and start <= r[2] < end]
    return mean(picked), len(picked)


def _control_change(rows, controls, pre, launch, end) -> float:
    """Each control group's own change, weighted by its baseline rows."""
    changes, weights = [], []
    for group in sorted(controls):
        before, n = _level(rows, {group}, pre, launch)
        after, _ = _level(rows, {group}, launch, end)
        changes.append(after - before)
        weights.append(n)
    return sum(c * w for c, w in zip(changes, weights, strict=True)) / sum(weights)


def _shop(make_project, store_of, config: str = CONFIG):
    """A project of ``config`` over :func:`_orders`, ingested and validated."""
    rows = _orders()
    text = "id,region,total,at\n" + "".join(
        f"{i},{region or ''},{total},{day.isoformat()}T12:00:00Z\n"
        for i, region, day, total in rows
    )
    project = make_project(config, {"d.yaml": DICTIONARY, "orders.csv": text})
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    return project, store, rows


@pytest.fixture
def shop(make_project, store_of):
    return _shop(make_project, store_of)


def test_each_cohort_is_compared_with_the_groups_not_yet_reached(shop):
    project, store, rows = shop
    result = rollout(project, store)
    mine = result.cohorts.filter(kpi="order_value")
    got = {r["cohort"]: r for r in mine.iter_rows(named=True)}
    # EMEA: baseline Jan-Feb, post Mar-Apr (NA launches in May), controls APAC and NA
    # NA: baseline Mar-Apr, post May-Jun (end of data), controls APAC only
    plans = {
        "EMEA": (date(2026, 1, 1), date(2026, 3, 1), date(2026, 5, 1), {"APAC", "NA"}),
        "NA": (date(2026, 3, 1), date(2026, 5, 1), date(2026, 7, 1), {"APAC"}),
    }
    expected_overall, weights = 0.0, 0
    for cohort, (pre, launch, end, controls) in plans.items():
        t0, _ = _level(rows, {cohort}, pre, launch)
        t1, n = _level(rows, {cohort}, launch, end)
        row = got[cohort]
        assert set(row["controls"].split(", ")) == controls
        change = _control_change(rows, controls, pre, launch, end)
        assert row["did"] == pytest.approx((t1 - t0) - change)
        assert row["ci_low"] < row["did"] < row["ci_high"] and row["ci_high"] - row["ci_low"] < 20
        expected_overall += row["did"] * n
        weights += n
    # the data hold each cohort's effect exactly: the common trend cancels out
    assert got["EMEA"]["did"] == pytest.approx(EFFECT["EMEA"])
    assert got["NA"]["did"] == pytest.approx(EFFECT["NA"])
    overall = result.overall.filter(kpi="order_value").row(0, named=True)
    assert overall["cohorts"] == 2
    assert overall["did"] == pytest.approx(expected_overall / weights)
    # never narrower than the weighted cohort bounds allow (rank-order combination)
    share = {c: got[c]["weight"] / sum(got[k]["weight"] for k in got) for c in got}
    assert overall["ci_low"] == pytest.approx(
        sum(share[c] * got[c]["ci_low"] for c in got), abs=0.05
    )
    assert any("without a region value belong to no group" in n for n in result.notes)


def test_a_launch_group_the_data_lacks_is_a_config_error(make_project, store_of):
    config = CONFIG.replace("EMEA: 2026-03-01", "Emea: 2026-03-01")
    project, store, _ = _shop(make_project, store_of, config)
    with pytest.raises(ConfigError) as err:
        rollout(project, store)
    text = str(err.value)
    assert "kpi.rollout.launches.Emea" in text and "APAC, EMEA, NA" in text


def test_the_event_study_shows_no_effect_before_launch_and_the_effect_after(shop):
    project, store, _ = shop
    study = rollout(project, store).event_study.filter(kpi="order_value")
    effects = dict(zip(study["event_time"], study["effect"], strict=True))
    assert effects[-1] == pytest.approx(0)  # the reference month
    assert effects[-2] == pytest.approx(0)  # parallel before launch
    # months 0 and 1 after launch: both cohorts, each its own effect, averaged
    assert effects[0] == pytest.approx((EFFECT["EMEA"] + EFFECT["NA"]) / 2)
    assert effects[1] == pytest.approx((EFFECT["EMEA"] + EFFECT["NA"]) / 2)


def test_a_launch_mid_month_leaves_its_month_out_of_the_event_study(make_project, store_of):
    """EMEA launching on 15 March: March holds both sides, so EMEA has no event time 0 and
    months -1 and +1 are February and April; NA's launch month is its event time 0."""
    config = CONFIG.replace("EMEA: 2026-03-01", "EMEA: 2026-03-15")
    project, store, _ = _shop(make_project, store_of, config)
    study = rollout(project, store).event_study.filter(kpi="order_value")
    by_time = {r["event_time"]: r for r in study.iter_rows(named=True)}
    assert by_time[0]["cohorts"] == 1 and by_time[0]["effect"] == pytest.approx(EFFECT["NA"])
    # a month later both cohorts are in (EMEA's April, NA's June), each with its effect
    assert by_time[1]["cohorts"] == 2
    assert by_time[1]["effect"] == pytest.approx((EFFECT["EMEA"] + EFFECT["NA"]) / 2)


def test_the_last_cohort_without_controls_says_so(make_project, store_of):
    config = CONFIG.replace(
        "launches: {EMEA: 2026-03-01, NA: 2026-05-01}",
        "launches: {EMEA: 2026-03-01, NA: 2026-05-01, APAC: 2026-05-01}",
    )
    project, store, _ = _shop(make_project, store_of, config)
    result = rollout(project, store)
    # EMEA has NA and APAC as controls until May; NA and APAC launch together: none left
    assert result.cohorts.filter(kpi="order_value")["cohort"].to_list() == ["EMEA"]
    assert any("cohort NA: no group stays untreated" in n for n in result.notes)


def test_the_cli_prints_the_cohorts_and_needs_the_launch_dates(shop, make_project, capsys):
    project, store, _ = shop
    store.close()
    assert main(["rollout", "--project", str(project.root), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["cohort"] for r in doc["cohorts"] if r["kpi"] == "order_value"] == ["EMEA", "NA"]
    assert {"overall", "event_study", "notes"} <= set(doc)
    (project.root / "workbench.yaml").write_text(
        CONFIG.replace("  rollout:\n    column: region\n    launches: {EMEA: 2026-03-01, "
                       "NA: 2026-05-01}\n", ""), encoding="utf-8")  # fmt: skip
    assert main(["rollout", "--project", str(project.root)]) == 2
    assert "kpi.rollout" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="launches"):
        make_project(CONFIG.replace("launches: {EMEA: 2026-03-01, NA: 2026-05-01}", "launches: {}"))
