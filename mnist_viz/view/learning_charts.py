"""Charts of "How it learns": a signed heat map to pick a weight from, the whole layer's gradient
as tiles, and the two learning rules' curves side by side.

Signed values are drawn on a symmetric scale (-limit to +limit, white at zero, blue negative, red
positive), so a colour means the same number everywhere in one picture and nothing is stretched.
"""

from __future__ import annotations

import math

import numpy as np

from mnist_viz.view import render
from mnist_viz.view.charts import UNIT_SELECTION, Spec

AXES_PX = 50  # the axes' labels and titles, beside the cells
RULE_COLOURS = {"backpropagation": "#4c78a8", "feedback alignment": "#e4572e"}


def signed_picker_chart(grid: np.ndarray, selected: tuple[int, int], limit: float) -> Spec:
    """A 2-D grid of signed values as a clickable heat map (row 0 at the top): a click selects
    one cell (``UNIT_SELECTION``: row and column, as ``charts.clicked_unit`` reads it);
    ``selected`` is outlined in white and black (seen on red, blue and white alike, and without
    telling red from green). NaN cells (padding) are left out."""
    rows, columns = grid.shape
    values = [
        {"row": r, "column": c, "gradient": float(grid[r, c])}
        for r in range(rows)
        for c in range(columns)
        if math.isfinite(grid[r, c])
    ]
    chosen = f"datum.row == {int(selected[0])} && datum.column == {int(selected[1])}"
    step = 1 if max(rows, columns) <= 10 else 5
    axis = {
        "type": "ordinal",
        "axis": {"values": list(range(0, max(rows, columns), step)), "labelAngle": 0},
    }
    position = {"y": {"field": "row", **axis}, "x": {"field": "column", **axis}}
    cell = max(6, min(48, 300 // max(rows, columns)))  # 40 columns: 290 px, inside a phone
    outline = [
        {
            "transform": [{"filter": chosen}],
            "mark": {
                "type": "rect",
                "filled": False,
                "stroke": colour,
                "strokeWidth": width,
                "aria": False,  # the cell under it is already read out
            },
            "encoding": position,
        }
        for colour, width in (("white", 5), ("black", 2))
    ]
    return {
        "data": {"values": values},
        # Streamlit fits the whole chart, axes included, into these: room for them on top
        "height": cell * rows + AXES_PX,
        "width": cell * columns + AXES_PX,
        "layer": [
            {
                "params": [
                    {
                        "name": UNIT_SELECTION,
                        "select": {"type": "point", "fields": ["row", "column"]},
                    }
                ],
                "mark": {"type": "rect", "cursor": "pointer"},
                "encoding": {
                    **position,
                    "color": {
                        "field": "gradient",
                        "type": "quantitative",
                        "scale": {
                            "scheme": "redblue",
                            "reverse": True,  # blue negative, red positive, as the pictures
                            "domain": [-limit, limit],
                            "domainMid": 0,
                        },
                        "legend": None,  # the picture beside it has the scale
                    },
                    "tooltip": [
                        {"field": "row", "type": "ordinal"},
                        {"field": "column", "type": "ordinal"},
                        {"field": "gradient", "type": "quantitative", "format": ".7g"},
                    ],
                },
            },
            *outline,
        ],
    }


def signed_tiles(tiles: np.ndarray, columns: int, limit: float, scale: int) -> np.ndarray:
    """Tiles (N, h, w) of signed values, coloured on -limit..+limit (white = 0); NaN (padding)
    in the grid's grey."""
    tiles = np.asarray(tiles, np.float64)
    coloured = render.colourise(np.nan_to_num(tiles), render.DIVERGING_CMAP, -limit, limit)
    coloured[np.isnan(tiles)] = render.GRID_COLOUR
    return render.tile(coloured, columns, scale)


MAX_WIDTH_PX = 960  # a tiled picture wider than a page is only scaled down again, at a cost


def tile_scale(tile_size: int, columns: int) -> int:
    """Enlargement that makes a tile about 12-40 px (small kernels readable, big ones not huge),
    less when ``columns`` tiles of that size would make the picture wider than a page (conv2's
    64 x 32 kernels: a 2,600 px PNG took 165 ms to encode on every step)."""
    wanted = max(1, 40 // max(1, tile_size)) if tile_size < 12 else 1
    fits = (MAX_WIDTH_PX // max(1, columns) - render.TILE_GAP) // max(1, tile_size)
    return max(1, min(wanted, fits))


def gradient_legend(limit: float) -> np.ndarray:
    """The colour bar of ``signed_tiles`` and ``signed_picker_chart``."""
    return render.colour_bar(render.DIVERGING_CMAP, -limit, limit, fmt="{:+.2e}")


def rule_curves_chart(curves: list[dict], field: str, title: str, percent: bool) -> Spec:
    """One measure (``field`` of each curve's dict: ``test_accuracy`` or ``angle_degrees``)
    against the training step, one line per learning rule."""
    rows = [
        {"step": step, "rule": curve["rule"], title: value}
        for curve in curves
        for step, value in zip(curve["steps"], curve[field], strict=True)
        if value is not None
    ]
    rules = [curve["rule"] for curve in curves]
    return {
        "data": {"values": rows},
        "mark": {"type": "line", "point": True},
        "height": 240,
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "training step"},
            "y": {
                "field": title,
                "type": "quantitative",
                "scale": {"zero": not percent},
                "axis": {"format": "%"} if percent else {},
            },
            "color": {
                "field": "rule",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "bottom"},
                "scale": {"domain": rules, "range": [RULE_COLOURS.get(r, "#777") for r in rules]},
            },
            "tooltip": [
                {"field": "rule", "type": "nominal"},
                {"field": "step", "type": "quantitative"},
                {"field": title, "type": "quantitative", "format": ".2%" if percent else ".1f"},
            ],
        },
    }
