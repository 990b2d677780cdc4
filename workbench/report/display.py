"""What report cells show: plotly figures (with plotly.js embedded once), tables, notes.

Figures are emitted as HTML with plotly.js inlined in the first one of the kernel, so a
rendered report opens offline in any browser. One theme for every chart.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

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
_state = {"plotly_js": False}


def reset() -> None:
    """A new report starts: its first figure embeds plotly.js again."""
    _state["plotly_js"] = False


def figure_html(fig: go.Figure) -> str:
    """The figure as an HTML fragment; the first one carries plotly.js itself."""
    first = not _state["plotly_js"]
    _state["plotly_js"] = True
    return fig.to_html(
        full_html=False,
        include_plotlyjs=first,
        config={"displaylogo": False, "responsive": True},
    )


def show(item: Any, title: str | None = None) -> None:
    """Display a figure, a polars frame (as a table) or a text note in the notebook."""
    from IPython.display import HTML, display

    if isinstance(item, go.Figure):
        display(HTML(figure_html(item)))
    elif isinstance(item, pl.DataFrame):
        display(HTML(table_html(item, title)))
    else:
        display(HTML(f"<p class='wb-note'>{html.escape(str(item))}</p>"))


def table_html(frame: pl.DataFrame, title: str | None = None, *, digits: int = 4) -> str:
    """A small HTML table of a frame (values escaped, floats rounded)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows():
        cells = "".join(f"<td>{html.escape(_fmt(v, digits))}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    if not rows:
        rows.append(f"<tr><td colspan='{len(frame.columns)}'>(none)</td></tr>")
    return (
        "<table class='wb-table' style='border-collapse:collapse;font-size:13px'>"
        f"{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _fmt(value: object, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"
    return str(value)


def layout(fig: go.Figure, title: str, x: str, y: str, **kwargs: Any) -> go.Figure:
    """Title and axis labels (with units) every chart has."""
    fig.update_layout(title={"text": title, "x": 0}, xaxis_title=x, yaxis_title=y, **kwargs)
    return fig
