"""What report cells show: plotly figures, tables, notes. One theme for every chart.

No report shows an empty chart: a report function that has nothing to draw returns
:class:`NoData` with the reason, which :func:`show` prints as one sentence; a figure whose
traces hold no point is shown the same way, and traces without points are left out of the
others. Numbers never read in scientific notation or SI prefixes (``1.7T``).

A figure is shown as two representations: plotly's own JSON, which JupyterLab draws with its
plotly extension, and an HTML fragment without plotly.js, which the rendered report uses; the
report's page template (``templates/workbench``) carries plotly.js once, so the HTML opens
offline in any browser while the executed notebook stays small.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.subplots import make_subplots

from workbench.formatting import MONEY_UNITS, SHARE_UNITS, cell_text

COLORS = ["#1f5fa8", "#e07b00", "#2a9d5b", "#c23b3b", "#7b5ea7", "#5f6b7a", "#d4a017"]
pio.templates["workbench"] = go.layout.Template(
    layout=go.Layout(
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        colorway=COLORS,
        plot_bgcolor="white",
        paper_bgcolor="white",
        margin={"l": 60, "r": 30, "t": 60, "b": 50},
        xaxis={
            "gridcolor": "#e6e9ef",
            "zerolinecolor": "#c9ced6",
            "exponentformat": "none",
            "separatethousands": True,
        },
        yaxis={
            "gridcolor": "#e6e9ef",
            "zerolinecolor": "#c9ced6",
            "exponentformat": "none",
            "separatethousands": True,
        },
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


class NoData(str):
    """What a report shows instead of a chart or table with nothing in it: the reason, as
    one sentence (``NoData("No tickets were created in 2026-10.")``)."""


def has_points(trace: Any) -> bool:
    """Whether a plotly trace draws anything (x, y, values, z or a table's cells)."""
    for key in ("x", "y", "values", "z", "r", "lat"):
        data = getattr(trace, key, None) if key in trace else None
        if data is not None and len(data) > 0:
            return True
    if trace.type == "table":
        return bool(trace.cells.values)
    return trace.type in ("indicator",)


def drop_empty(fig: go.Figure) -> go.Figure:
    """The figure without the traces that draw nothing (a segment without data)."""
    kept = [t for t in fig.data if has_points(t)]
    if len(kept) != len(fig.data):
        fig.data = tuple(kept)
    return fig


def show(item: Any, title: str | None = None) -> None:
    """Display a figure, a polars frame (as a table) or a text note in the notebook.

    A figure without any point is shown as a sentence saying so (better: return
    :class:`NoData` with the reason from the report function).
    """
    from IPython.display import HTML, display

    if isinstance(item, go.Figure):
        drop_empty(item)
        if not item.data:
            name = item.layout.title.text or "This chart"
            display(HTML(_note(f"{name}: there is no data to draw for this period.")))
            return
        display(figure_bundle(item), raw=True)
    elif isinstance(item, pl.DataFrame):
        display(HTML(table_html(item, title)))
    else:
        display(HTML(_note(str(item))))


def _note(text: str) -> str:
    return f"<p class='wb-note'>{html.escape(text)}</p>"


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


GRID_COLUMNS = 2  # small multiples per row


def grid(titles: list[str], row_height: int) -> go.Figure:
    """Small multiples: one subplot per title, :data:`GRID_COLUMNS` a row, 90 px between
    rows for the x ticks and the next row's titles; the figure's height set to fit."""
    rows = math.ceil(len(titles) / GRID_COLUMNS)
    height = row_height * rows + 80
    fig = make_subplots(rows=rows, cols=GRID_COLUMNS, subplot_titles=titles,
                        vertical_spacing=90 / height)  # fmt: skip
    return fig.update_layout(height=height)


def grid_cell(i: int) -> tuple[int, int]:
    """The row and column of the ``i``-th subplot of a :func:`grid`."""
    return i // GRID_COLUMNS + 1, i % GRID_COLUMNS + 1


def unit_axis(fig: go.Figure, unit: str, currency: str, axis: str = "y") -> go.Figure:
    """Ticks that read in the unit: shares as %, money with thousands separators and the
    currency code in the axis title."""
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    if unit in SHARE_UNITS:
        update(tickformat=".0%", hoverformat=".1%")
    elif unit in MONEY_UNITS:
        update(tickformat=",.0f", hoverformat=",.2f", title_text=currency)
    else:
        update(tickformat=",~r", hoverformat=",.3~r")
    return fig
