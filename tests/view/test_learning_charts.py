"""The charts of "How it learns": signed, on a symmetric scale, padding left out, a click's
selection named as the picker reads it."""

import numpy as np

from mnist_viz.view import learning_charts, render
from mnist_viz.view.charts import UNIT_SELECTION, clicked_unit


def test_the_picker_is_signed_and_symmetric_and_skips_padding():
    grid = np.array([[0.5, -0.25], [0.1, np.nan]])
    spec = learning_charts.signed_picker_chart(grid, (1, 0), 0.5)
    assert len(spec["data"]["values"]) == 3
    base, *outline = spec["layer"]
    scale = base["encoding"]["color"]["scale"]
    assert scale["domain"] == [-0.5, 0.5] and scale["domainMid"] == 0
    assert base["params"][0]["name"] == UNIT_SELECTION
    assert [o["mark"]["stroke"] for o in outline] == ["white", "black"]
    assert all(
        o["transform"] == [{"filter": "datum.row == 1 && datum.column == 0"}] for o in outline
    )
    event = {"selection": {UNIT_SELECTION: [{"row": 1, "column": 0, "gradient": 0.1}]}}
    assert clicked_unit(event) == (1, 0)


def test_signed_tiles_put_zero_at_white_and_padding_in_grey():
    tiles = np.array([[[0.0, 1.0], [-1.0, np.nan]]])
    image = learning_charts.signed_tiles(tiles, 1, 1.0, 1)
    white = render.colourise(np.array(0.0), render.DIVERGING_CMAP, -1, 1)
    inner = image[2:4, 2:4]  # one gap of grid colour around the tile
    assert inner[0, 0].tolist() == white.tolist()
    assert inner[1, 1].tolist() == list(render.GRID_COLOUR)
    assert inner[0, 1, 0] > inner[0, 1, 2]  # positive: red
    assert inner[1, 0, 2] > inner[1, 0, 0]  # negative: blue


def test_the_rule_curves_keep_every_number_and_each_rule():
    curves = [
        {"rule": "backpropagation", "steps": [0, 10], "test_accuracy": [0.1, 0.8]},
        {"rule": "feedback alignment", "steps": [0, 10], "test_accuracy": [0.1, 0.7]},
    ]
    spec = learning_charts.rule_curves_chart(curves, "test_accuracy", "test accuracy", True)
    values = spec["data"]["values"]
    assert [(v["rule"], v["step"], v["test accuracy"]) for v in values] == [
        ("backpropagation", 0, 0.1),
        ("backpropagation", 10, 0.8),
        ("feedback alignment", 0, 0.1),
        ("feedback alignment", 10, 0.7),
    ]
    assert spec["encoding"]["color"]["scale"]["domain"] == ["backpropagation", "feedback alignment"]


def test_tiles_are_enlarged_but_never_wider_than_a_page():
    assert learning_charts.tile_scale(3, 8) == 13  # conv1's 32 kernels: readable squares
    conv2 = learning_charts.tile_scale(3, 64)  # 64 kernels a row
    assert 64 * (3 * conv2 + 2) <= learning_charts.MAX_WIDTH_PX
    assert learning_charts.tile_scale(40, 16) == 1
    assert learning_charts.tile_scale(3, 5000) == 1  # never below one pixel a value
