"""``python -m workbench.bench``: print benchmark ratios and write them to reports/bench/."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from rich.console import Console
from rich.table import Table

from workbench.bench.data import contacts_csv
from workbench.bench.runner import Measure, run_case


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workbench.bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the ingest CSV")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is kept)")
    parser.add_argument(
        "--contacts", type=int, default=1_000_000, help="contact records of the resolution demo"
    )
    parser.add_argument("--skip-resolve", action="store_true", help="leave out resolution")
    parser.add_argument("--data", type=Path, default=Path("data/bench"))
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    console = Console(width=150)

    source = contacts_csv(args.data, args.rows)
    size_mb = source.stat().st_size / 1e6
    console.print(f"Ingest: {args.rows:,} rows, {size_mb:.0f} MB CSV ({source})")
    work = args.data / "work"
    plain = run_case("duckdb_read_csv", source, work, repeat=args.repeat)
    ours = run_case("workbench_ingest", source, work, repeat=args.repeat)
    staged = args.data / "staged"
    console.print(f"Validate: the same rows, staged once into {staged}")
    run_case("prepare_staged", source, staged, repeat=1)
    checks = run_case("polars_checks", source, staged, repeat=args.repeat)
    pandera = run_case("workbench_validate", source, staged, repeat=args.repeat)
    rows = [
        ("ingest", plain, ours, ours.rows_per_s / plain.rows_per_s, "speed >= 0.8x"),
        ("validate", checks, pandera, pandera.seconds / checks.seconds, "time <= 1.5x"),
    ]
    if not args.skip_resolve:
        demo = args.data / f"resolve_{args.contacts}"
        console.print(f"Resolve: demo of {args.contacts:,} contacts in {demo} (prepared once)")
        if not (demo / "data" / "warehouse.duckdb").exists():
            run_case("prepare_demo", Path(str(args.contacts)), demo, repeat=1)
        size = Path(str(args.contacts))
        splink = run_case("splink_plain", size, demo, repeat=min(args.repeat, 2))
        trained = run_case("workbench_resolve_retrain", size, demo, repeat=min(args.repeat, 2))
        # after a trained run, the next ones reuse its model (the data has not changed)
        resolved = run_case("workbench_resolve", size, demo, repeat=min(args.repeat, 2))
        for stage, wb in (("resolve (trained)", trained), ("resolve", resolved)):
            rows.append((stage, splink, wb, wb.seconds / splink.seconds, "time <= 1.25x"))
        console.print(_accuracy(demo))
    table = Table(title="Workbench vs the plain library (same data, same run)")
    for col in (
        "stage",
        "baseline",
        "rows/s",
        "s",
        "peak MiB",
        "workbench rows/s",
        "s",
        "peak MiB",
        "ratio",
        "goal",
        "met",
    ):
        table.add_column(
            col, justify="right" if col not in ("stage", "baseline", "goal", "met") else "left"
        )
    records = []
    for stage, base, wb, ratio, goal in rows:
        table.add_row(
            stage,
            base.case,
            f"{base.rows_per_s:,.0f}",
            f"{base.seconds:.2f}",
            f"{base.peak_mib:.0f}",
            f"{wb.rows_per_s:,.0f}",
            f"{wb.seconds:.2f}",
            f"{wb.peak_mib:.0f}",
            f"{ratio:.2f}x",
            goal,
            "yes" if _met(ratio, goal) else "no",
        )
        records.append(_record(stage, base, wb, ratio, goal))
    console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "bench.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    console.print(f"Written: {args.out / 'bench.csv'}")


def _accuracy(demo: Path) -> str:
    """Pairwise accuracy of the resolution against the demo's ground truth."""
    import polars as pl

    from workbench.config import load_project
    from workbench.resolve import pairwise_scores
    from workbench.store import open_store

    project = load_project(demo)
    with open_store(project, read_only=True) as store:
        members = store.frame("SELECT unique_id, entity_id AS cluster_id FROM id.members")
    truth = pl.read_csv(
        demo / "truth" / "contacts_truth.csv", schema_overrides={"record_id": pl.String}
    ).filter(pl.col("injected_error").fill_null("") != "duplicate_id")
    truth = truth.with_columns((pl.col("source") + ":" + pl.col("record_id")).alias("unique_id"))
    s = pairwise_scores(members, truth)
    return (
        f"Resolution accuracy on {s.records:,} records: precision {s.precision:.4f}, "
        f"recall {s.recall:.4f}, F1 {s.f1:.4f}"
    )


def _met(ratio: float, goal: str) -> bool:
    """Whether a ratio meets a goal written as 'speed >= 0.8x' or 'time <= 1.5x'."""
    limit = float(goal.rsplit(" ", 1)[1].rstrip("x"))
    return ratio >= limit if ">=" in goal else ratio <= limit


def _record(stage: str, base: Measure, wb: Measure, ratio: float, goal: str) -> dict:
    return {
        "stage": stage,
        "baseline": base.case,
        "baseline_seconds": round(base.seconds, 3),
        "baseline_rows_per_s": round(base.rows_per_s),
        "baseline_peak_mib": round(base.peak_mib),
        "workbench_seconds": round(wb.seconds, 3),
        "workbench_rows_per_s": round(wb.rows_per_s),
        "workbench_peak_mib": round(wb.peak_mib),
        "ratio": round(ratio, 3),
        "goal": goal,
        "met": _met(ratio, goal),
        "rows": wb.rows,
    }


if __name__ == "__main__":
    main()
