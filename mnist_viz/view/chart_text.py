"""Text alternatives for the Vega-Lite charts (WCAG 1.1.1): a sentence for the chart's accessible
name, and a table of the very numbers it is drawn from, read out of the chart's own spec, so the
words cannot drift from the picture."""

from __future__ import annotations

import html
import re
from typing import Any

Spec = dict[str, Any]
SPOKEN_ROWS = 12  # up to this many points, the chart's name itself lists them all
TABLE_ROWS = 400  # a screen reader's table stops here (a 28 x 28 map has 784 cells)
_CHANNELS = ("x", "y", "theta", "color", "row", "column", "text", "size", "opacity")

__all__ = ["columns", "data_rows", "formats", "spoken", "table_html"]


def _layers(spec: Spec) -> list[Spec]:
    return [spec, *(layer for part in spec.get("layer", []) for layer in _layers(part))]


def columns(spec: Spec) -> list[tuple[str, str]]:
    """(field, title) of every encoded field, in channel order, each field once."""
    found: dict[str, str] = {}
    for layer in _layers(spec):
        for channel in _CHANNELS:
            enc = layer.get("encoding", {}).get(channel)
            if isinstance(enc, dict) and "field" in enc and enc["field"] not in found:
                found[enc["field"]] = str(enc.get("title") or enc["field"])
    return list(found.items())


def formats(spec: Spec) -> dict[str, str]:
    """Each field's number format (d3-format), as its tooltip shows it or else its axis."""
    found: dict[str, str] = {}
    for layer in _layers(spec):
        encoding = layer.get("encoding", {})
        tips = encoding.get("tooltip", [])
        for enc in [*(tips if isinstance(tips, list) else [tips]), *encoding.values()]:
            if not isinstance(enc, dict) or "field" not in enc:
                continue
            fmt = enc.get("format") or (enc.get("axis") or {}).get("format")
            if fmt and enc["field"] not in found:
                found[enc["field"]] = fmt
    return found


def data_rows(spec: Spec) -> list[dict]:
    """The chart's largest inline data set (a layered chart may hold small extra ones)."""
    sets = [layer["data"]["values"] for layer in _layers(spec) if "values" in layer.get("data", {})]
    return max(sets, key=len) if sets else []


def _value(value: Any, fmt: str | None = None) -> str:
    """A value as the chart writes it: d3's ".2%", "%", ".4f" and ",d"; else 3 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    match = re.fullmatch(r"(,?)(?:\.(\d+))?([%fd])", fmt or "")
    if match:
        comma, digits, kind = match.groups()
        places = int(digits) if digits is not None else (1 if kind == "%" else 0)
        if kind == "%":
            return f"{value:{comma}.{places}%}"
        return f"{value:{comma}.{0 if kind == 'd' else places}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _table(spec: Spec) -> tuple[list[tuple[str, str, str | None]], list[dict]]:
    rows, fmt = data_rows(spec), formats(spec)
    fields = [(f, t, fmt.get(f)) for f, t in columns(spec) if any(f in row for row in rows)]
    return fields, rows


def spoken(spec: Spec, what: str) -> str:
    """The chart's accessible name: ``what`` it shows and, for a few points, every number."""
    fields, rows = _table(spec)
    if not rows or not fields:
        return f"{what}."
    if len(rows) > SPOKEN_ROWS:
        return f"{what}: {len(rows)} values; a table of them follows the chart."
    points = [", ".join(f"{t} {_value(row.get(f), fm)}" for f, t, fm in fields) for row in rows]
    return f"{what}: " + "; ".join(points) + "."


def table_html(spec: Spec, what: str, always: bool = False) -> str:
    """The chart's numbers as an HTML table for screen readers only (class ``mv-sr``); empty
    when the chart's name already speaks them all, unless ``always``."""
    fields, rows = _table(spec)
    if not rows or not fields or (len(rows) <= SPOKEN_ROWS and not always):
        return ""
    head = "".join(f'<th scope="col">{html.escape(t)}</th>' for _, t, _ in fields)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_value(row.get(f), fm))}</td>" for f, _, fm in fields)
        + "</tr>"
        for row in rows[:TABLE_ROWS]
    )
    more = f" (the first {TABLE_ROWS} of {len(rows)})" if len(rows) > TABLE_ROWS else ""
    caption = html.escape(f"The numbers of the chart: {what}{more}")
    # The class sits on a wrapper: a table is never narrower than its content, so a hidden
    # table itself would still widen the page.
    return (
        f'<div class="mv-sr"><table><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
