"""Receptive fields: the recurrence's numbers, checked against gradients (which input pixels can
change a unit at all)."""

import numpy as np
import pytest

from mnist_viz.core.model import CONV1, CONV2, POOL1, POOL2, build_model
from mnist_viz.inside.receptive_field import effective_field, field_box, layer_geometry


@pytest.fixture(scope="module")
def model():
    return build_model()


def test_theoretical_sizes(model):
    sizes = {name: g.size for name, g in layer_geometry(model).items()}
    assert sizes == {"image": 1, CONV1: 3, POOL1: 4, CONV2: 8, POOL2: 10}


@pytest.mark.parametrize("layer", [CONV1, POOL1, CONV2, POOL2])
def test_gradient_support_is_the_theoretical_field(model, layer):
    # with random weights and a random input every pixel in the field has a non-zero gradient
    # (almost surely), and no pixel outside it can have one
    images = np.random.default_rng(0).uniform(0.2, 1, (16, 28, 28)).astype(np.float32)
    field = effective_field(model, layer, images)
    rows, cols = np.nonzero(field > 0)
    geometry = layer_geometry(model)[layer]
    out_h = model.get_layer(layer).output.shape[1]
    top, left, bottom, right = field_box(geometry, out_h // 2, out_h // 2)
    assert (rows.min(), cols.min(), rows.max(), cols.max()) == (top, left, bottom, right)
    assert bottom - top + 1 == geometry.size


def test_dense_layers_never_see_the_last_two_rows(model):
    # pool2 keeps 10 of conv2's 11 rows, so input rows and columns 26-27 reach no unit after it
    geometry = layer_geometry(model)[POOL2]
    assert field_box(geometry, 4, 4)[2] == 25


def test_coverage_is_every_pixel_some_unit_of_the_layer_sees():
    from mnist_viz.core.architecture import Architecture, build
    from mnist_viz.inside.receptive_field import coverage, field_box, layer_geometry

    for spec in [Architecture("classic"), Architecture("t", filters=(4, 6, 8), dense=8)]:
        model = build(spec)
        geometry = layer_geometry(model)
        for layer in model.layers:
            if layer.name not in geometry or layer.name == "image":
                continue
            h, w = (int(d) for d in layer.output.shape[1:3])
            seen = np.zeros((28, 28), bool)  # by brute force: every unit's field, painted
            for r in range(h):
                for c in range(w):
                    top, left, bottom, right = field_box(geometry[layer.name], r, c)
                    seen[max(0, top) : bottom + 1, max(0, left) : right + 1] = True
            rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
            expected = (rows[0], cols[0], rows[-1], cols[-1])
            assert coverage(geometry[layer.name], h, w) == expected, layer.name
    classic = layer_geometry(build(Architecture("classic")))
    assert coverage(classic["pool2"], 5, 5) == (0, 0, 25, 25)  # the last two rows go unseen
