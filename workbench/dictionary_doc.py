"""The data dictionary as a document (Markdown, CSV or HTML) for the governance pack."""

from __future__ import annotations

import csv
import html
import io
from typing import Literal

from workbench.dictionary import Dictionary, FieldSpec, ObjectSpec

COLUMNS = (
    "object",
    "field",
    "type",
    "required",
    "unique",
    "pii",
    "owner",
    "direction",
    "identity",
    "rules",
    "description",
)


def rows(dictionary: Dictionary) -> list[dict[str, str]]:
    """One row per object and field, every column as text."""
    out = []
    for obj, spec in dictionary.objects.items():
        for name, field in spec.fields.items():
            out.append(
                {
                    "object": obj,
                    "field": name,
                    "type": field.type.value,
                    "required": "yes" if field.required else "",
                    "unique": "yes" if field.unique else "",
                    "pii": "" if field.pii == "none" else field.pii,
                    "owner": field.owner or "",
                    "direction": field.direction or "",
                    "identity": field.identity or "",
                    "rules": rules_text(field),
                    "description": description_text(field),
                }
            )
    return out


def description_text(field: FieldSpec) -> str:
    """The description, led by ``Deprecated`` (and its note) for a field being retired."""
    if not field.deprecated:
        return field.description
    note = f" ({field.deprecated_note})" if field.deprecated_note else ""
    return f"Deprecated{note}. {field.description}".strip()


def rules_text(field: FieldSpec) -> str:
    """The field's rules in words, e.g. ``one of: open, won, lost; >= 0``."""
    r = field.rules
    parts = []
    if r.regex:
        parts.append(f"matches {r.regex}")
    if r.allowed:
        parts.append("one of: " + ", ".join(r.allowed))
    if r.min is not None:
        parts.append(f">= {r.min}")
    if r.max is not None:
        parts.append("not in the future" if r.max == "now" else f"<= {r.max}")
    if r.max_length:
        parts.append(f"at most {r.max_length} characters")
    if r.references:
        parts.append(f"must exist in {r.references}")
    if field.currency_field:
        parts.append(f"currency in {field.currency_field}")
    if field.consent:
        parts.append("records consent")
    return "; ".join(parts)


def governance_text(spec: ObjectSpec) -> str:
    """The object's owner and legal basis in words ("" when neither is set)."""
    parts = [f"Owner: {spec.owner}."] if spec.owner else []
    if spec.legal_basis:
        parts.append(f"Legal basis: {', '.join(spec.legal_basis)}.")
    return " ".join(parts)


def render(dictionary: Dictionary, fmt: Literal["md", "csv", "html"], *, title: str) -> str:
    """The whole dictionary in the format asked for."""
    table = rows(dictionary)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
        return buffer.getvalue()
    if fmt == "md":
        return _markdown(dictionary, table, title)
    return _html(dictionary, table, title)


def _markdown(dictionary: Dictionary, table: list[dict[str, str]], title: str) -> str:
    lines = [f"# Canonical Data Dictionary: {title}", ""]
    cols = COLUMNS[1:]
    for obj, spec in dictionary.objects.items():
        lines += [f"## {obj}", "", spec.description, ""]
        if governance_text(spec):
            lines += [governance_text(spec), ""]
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for row in (r for r in table if r["object"] == obj):
            cells = (row[c].replace("|", "\\|") for c in cols)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _html(dictionary: Dictionary, table: list[dict[str, str]], title: str) -> str:
    cols = COLUMNS[1:]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Data dictionary: {html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse;margin-bottom:2rem;font-size:.9rem}"
        "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}"
        "th{background:#f3f4f6}</style></head><body>",
        f"<h1>Canonical Data Dictionary: {html.escape(title)}</h1>",
    ]
    for obj, spec in dictionary.objects.items():
        parts.append(f"<h2>{html.escape(obj)}</h2><p>{html.escape(spec.description)}</p>")
        if governance_text(spec):
            parts.append(f"<p>{html.escape(governance_text(spec))}</p>")
        parts.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>")
        for row in (r for r in table if r["object"] == obj):
            parts.append(
                "<tr>" + "".join(f"<td>{html.escape(row[c])}</td>" for c in cols) + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
