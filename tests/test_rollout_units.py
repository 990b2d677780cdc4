"""The rollout sections of the ROI report give the change of a share in percentage points,
as the report's canary-vs-control table does: a DiD of 0.30 on a share is ``+30.0 pp``
(``30.0%`` would read as a relative change of the level).

Expected values are worked out below from the rows as written, not by the package.
"""

from __future__ import annotations

from datetime import date

from workbench.ingest import ingest
from workbench.pipeline import run_quality
from workbench.report import roi as roi_report
from workbench.report import rollout as rollout_report
from workbench.report.context import open_context

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
  launch_date: 2026-03-01
  baseline_months: 2
  bootstrap_samples: 200
  treatment: {column: region, treated: EMEA, control: APAC}
  rollout:
    column: region
    launches: {EMEA: 2026-03-01, NA: 2026-05-01}
  definitions:
    big_order_share:
      title: Big orders
      unit: share
      direction: up
      object: orders
      time: ordered_at
      measure: total > 100
      stat: rate
sources:
  shop:
    system: shop
    object: orders
    path: orders.csv
    columns: {record_id: id, region: region, total: total, ordered_at: at}
"""

ROI = """
horizon_months: 12
costs: {one_time: [{name: build, amount: 1000}]}
value_drivers:
  - {name: Bigger orders, type: kpi_change, kpi: big_order_share, unit_value: 10,
     volume_per_month: 100}
"""

LAUNCH = {"EMEA": date(2026, 3, 1), "NA": date(2026, 5, 1)}
# big orders of 10 a month, before and from the region's launch (APAC is never reached)
BIG = {"EMEA": (2, 5), "NA": (4, 6), "APAC": (3, 3)}
MONTHS = [date(2026, m, 1) for m in range(1, 7)]  # January to June 2026


def _csv() -> str:
    lines = ["id,region,total,at"]
    for region, (before, after) in BIG.items():
        for month in MONTHS:
            launched = region in LAUNCH and month >= LAUNCH[region]
            big = after if launched else before
            for k in range(10):
                total = 150 if k < big else 50
                lines.append(f"{region}-{month:%m}-{k},{region},{total},{month:%Y-%m}-10T12:00:00Z")
    return "\n".join(lines) + "\n"


def test_rollout_effects_and_group_value_of_a_share_read_in_points(make_project, store_of):
    project = make_project(CONFIG, {"d.yaml": DICTIONARY, "orders.csv": _csv(), "roi.yaml": ROI})
    store = store_of(project)
    ingest(project, store)
    run_quality(project, store)
    store.close()
    # EMEA: 2 of 10 big in Jan-Feb, 5 of 10 in Mar-Apr; its controls (APAC, NA not reached
    # yet) do not change: +0.30. NA: 4 of 10 in Mar-Apr, 6 of 10 in May-Jun against APAC:
    # +0.20. Overall, both weighted by their 20 rows after launch: +0.25.
    ctx = open_context(project.root, "2026-06")
    table = rollout_report.effects(rollout_report.compute(ctx), ctx)
    rows = {r["group"]: r for r in table.iter_rows(named=True)}
    assert rows["EMEA"]["before"] == "20.0%" and rows["EMEA"]["after"] == "50.0%"
    assert rows["EMEA"]["DiD"] == "+30.0 pp"
    assert rows["NA"]["DiD"] == "+20.0 pp"
    assert rows["overall"]["DiD"] == "+25.0 pp"
    for row in rows.values():
        low, high = row["95% interval"].split(" to ")
        assert low.endswith(" pp") and high.endswith(" pp")

    value = rollout_report.value_by_group(roi_report.compute(ctx), ctx)
    improvement = {
        r["group"]: r["improvement"] for r in value.iter_rows(named=True) if r["improvement"]
    }
    assert improvement == {"EMEA": "+30.0 pp", "NA": "+20.0 pp"}
