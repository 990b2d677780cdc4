"""``reports/bench/index.html``: the benchmark table and time vs size per stage (offline)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from plotly.subplots import make_subplots


def write_page(records: list[dict[str, Any]], out: Path) -> Path:
    """One chart per stage (seconds by size, workbench and its baseline) and the table."""
    stages = list(dict.fromkeys(r["stage"] for r in records))
    fig = make_subplots(rows=1, cols=len(stages), subplot_titles=stages)
    for i, stage in enumerate(stages, start=1):
        rows = sorted((r for r in records if r["stage"] == stage), key=lambda r: r["size"])
        sizes = [r["size"] for r in rows]
        for key, name, color in (
            ("baseline_seconds", rows[0]["baseline"] if rows else "baseline", "#5f6b7a"),
            ("workbench_seconds", "workbench", "#1f5fa8"),
        ):
            fig.add_scatter(
                x=sizes,
                y=[r[key] for r in rows],
                mode="lines+markers",
                name=name,
                line={"color": color},
                showlegend=i == 1 or key == "baseline_seconds",
                row=1,
                col=i,
            )
        fig.update_xaxes(type="log", title_text="size (rows or contacts)", row=1, col=i)
        fig.update_yaxes(type="log", title_text="seconds" if i == 1 else None, row=1, col=i)
    fig.update_layout(
        height=420, title="Time vs size (log-log: a slope of 1 is linear)", template="plotly_white"
    )
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in records[0]) if records else ""
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r.values()) + "</tr>"
        for r in records
    )
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Workbench benchmarks</title>
<style>body{{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;margin:2em}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #e6e9ef;padding:3px 6px}}
th{{background:#f4f6f9}}</style></head><body>
<h1>Workbench vs the plain libraries</h1>
{fig.to_html(full_html=False, include_plotlyjs=True)}
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body></html>"""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _cell(value: Any) -> str:
    return "" if value is None else str(value)  # None: a row without a goal to meet
