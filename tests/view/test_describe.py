"""Images' text alternatives say what a sighted learner reads from them."""

import numpy as np

from mnist_viz.view import describe


def test_feature_maps_name_the_brightest_maps():
    maps = np.zeros((26, 26, 32))
    maps[..., 12] = 0.5
    maps[..., 5] = 0.9
    maps[0, 0, 7] = 3.0  # one bright unit, a small mean: not among the brightest maps
    text = describe.feature_maps("conv1", maps, "your drawing")
    assert text == (
        "conv1's 32 feature maps for your drawing, 26 x 26 each; the brightest are maps 5 and 12."
    )
    assert "all are dark" in describe.feature_maps("conv1", np.zeros((4, 4, 3)), "a 7")


def test_hot_spot_finds_the_strongest_square_and_names_its_place():
    heat = np.zeros((28, 28))
    heat[2:7, 20:25] = 1.0
    assert describe.hot_spot(heat) == "rows 2-6, columns 20-24 (top right)"
    heat = np.zeros((28, 28))
    heat[12:15, 12:15] = 1.0
    assert describe.hot_spot(heat, 3) == "rows 12-14, columns 12-14 (centre)"
    assert describe.hot_spot(np.zeros((28, 28))) == "nowhere (the map is empty)"


def test_kernels_and_map_change_report_extremes():
    weights = np.zeros((4, 3, 3))
    weights[2] = -0.5
    weights[1, 0, 0] = 0.75
    text = describe.kernels("conv1's 4 filters", weights)
    assert "4 grids of 3 x 3 weights" in text and "from -0.50 to 0.75" in text
    assert text.endswith("number 2 has the largest.")
    before, after = np.zeros((5, 5, 6)), np.zeros((5, 5, 6))
    after[..., 4], after[..., 1] = -2.0, 1.0
    change = describe.map_change("conv2", before, after, 4.0)
    assert change.endswith("maps 4 and 1.")
    assert "colour scale -4.00 to +4.00; changes from -2.00 to +1.00" in change
    assert describe.map_change("conv2", before, before, 4.0).endswith("not at all.")
    assert describe.change_numbers(before, after, 4.0) in change
    assert describe.listing(["a", "b", "c"]) == "a, b and c"
