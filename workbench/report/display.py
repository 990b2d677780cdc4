"""What report cells show: plotly figures, tables, notes. One theme for every chart.

A figure is shown as two representations: plotly's own JSON, which JupyterLab draws with its
plotly extension, and an HTML fragment without plotly.js, which the rendered report uses; the
report's page template (``templates/workbench``) carries plotly.js once, so the HTML opens
offline in any browser while the executed notebook stays small.
"""

from __future__ import annotations

import html
import json
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from workbench.formatting import cell_text

COLORS = ["#1f5fa8", "#e07b00", "#2a9d5b", "#c23b3b", "#7b5ea7", "#5f6b7a", "#d4a017"]
pio.templates["workbench"] = go.layout.Template(
    layout=go.Layout(
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        colorway=COLORS,
        plot_bgcolor="white",
        paper_bgcolor="white",
        margin={"l": 60, "r": 30, "t": 60, "b": 50},
        xaxis={"gridcolor": "#e6e9ef", "zerolinecolor": "#c9ced6"},
        yaxis={"gridcolor": "#e6e9ef", "zerolinecolor": "#c9ced6"},
        legend={"orientation": "h", "y": -0.2},
        hoverlabel={"namelength": -1},
    )
)
pio.templates.default = "plotly_white+workbench"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def figure_html(fig: go.Figure) -> str:
    """The figure as an HTML fragment that expects plotly.js on the page."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG)


def figure_bundle(fig: go.Figure) -> dict[str, Any]:
    """The figure as a display bundle: plotly's JSON (for JupyterLab) and HTML (for reports)."""
    spec = json.loads(pio.to_json(fig, validate=False))
    return {PLOTLY_MIME: {**spec, "config": PLOTLY_CONFIG}, "text/html": figure_html(fig)}


def show(item: Any, title: str | None = None) -> None:
    """Display a figure, a polars frame (as a table) or a text note in the notebook."""
    from IPython.display import HTML, display

    if isinstance(item, go.Figure):
        display(figure_bundle(item), raw=True)
    elif isinstance(item, pl.DataFrame):
        display(HTML(table_html(item, title)))
    else:
        display(HTML(f"<p class='wb-note'>{html.escape(str(item))}</p>"))


def table_html(frame: pl.DataFrame, title: str | None = None, *, digits: int = 4) -> str:
    """A small HTML table of a frame (values escaped, floats rounded)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows():
        cells = "".join(f"<td>{html.escape(cell_text(v, digits))}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    if not rows:
        rows.append(f"<tr><td colspan='{len(frame.columns)}'>(none)</td></tr>")
    return (
        "<table class='wb-table' style='border-collapse:collapse;font-size:13px'>"
        f"{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def layout(fig: go.Figure, title: str, x: str, y: str, **kwargs: Any) -> go.Figure:
    """Title and axis labels (with units) every chart has."""
    fig.update_layout(title={"text": title, "x": 0}, xaxis_title=x, yaxis_title=y, **kwargs)
    return fig
