"""One unit's arithmetic, checked against the value Keras' own forward pass gives that unit."""

import numpy as np
import pytest

from mnist_viz.core.activations import build_activation_model, layer_activations
from mnist_viz.core.architecture import Architecture, build
from mnist_viz.inside.unit_math import conv_unit, layer_input, pool_unit


@pytest.fixture(scope="module")
def setup():
    model = build(Architecture("t", filters=(4, 6), dense=8))
    rng = np.random.default_rng(0)
    for layer in model.layers:  # random biases too, so the check covers them
        weights = layer.get_weights()
        if len(weights) == 2:
            layer.set_weights([weights[0], rng.normal(0, 0.2, weights[1].shape).astype(np.float32)])
    image = rng.uniform(0, 1, (28, 28)).astype(np.float32)
    return model, image, layer_activations(build_activation_model(model), image)


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_a_convolution_unit_adds_up_to_its_feature_map_value(setup, layer):
    model, image, acts = setup
    inputs = layer_input(model, acts, layer, image)
    rng = np.random.default_rng(1)
    h, w, c = acts[layer].shape
    for _ in range(20):
        row, col, ch = rng.integers(0, h), rng.integers(0, w), rng.integers(0, c)
        unit = conv_unit(model, inputs, layer, int(row), int(col), int(ch))
        assert unit.value == pytest.approx(float(acts[layer][row, col, ch]), abs=1e-5)
        assert unit.per_input.sum() + unit.bias == pytest.approx(unit.before_relu, abs=1e-5)
        assert unit.summed == pytest.approx(float(np.sum(unit.patch * unit.kernel)), abs=1e-5)
        assert unit.patch.shape == unit.kernel.shape == (3, 3, inputs.shape[-1])


@pytest.mark.parametrize("layer", ["pool1", "pool2"])
def test_a_pooling_unit_is_the_maximum_of_its_window(setup, layer):
    model, image, acts = setup
    inputs = layer_input(model, acts, layer, image)
    h, w, c = acts[layer].shape
    for row, col, ch in [(0, 0, 0), (h - 1, w - 1, c - 1), (h // 2, 1, 1)]:
        unit = pool_unit(model, inputs, layer, row, col, ch)
        assert unit.window.shape == (2, 2)
        assert unit.value == pytest.approx(float(acts[layer][row, col, ch]))
        r, c2 = unit.winner
        assert unit.window[r, c2] == unit.value


def test_the_first_layer_reads_the_image_itself(setup):
    model, image, acts = setup
    np.testing.assert_allclose(layer_input(model, acts, "conv1", image)[..., 0], image)
    np.testing.assert_array_equal(layer_input(model, acts, "conv2", image), acts["pool1"])


def test_the_strongest_unit_and_the_largest_contributions(setup):
    from mnist_viz.inside.unit_math import strongest

    model, image, acts = setup
    maps = acts["conv1"]
    r, c = strongest(maps, 2)
    assert maps[r, c, 2] == maps[..., 2].max()
    unit = conv_unit(model, layer_input(model, acts, "conv2", image), "conv2", 3, 4, 1)
    top = unit.top_inputs(3)
    assert [abs(v) for _, v in top] == sorted((abs(v) for v in unit.per_input), reverse=True)[:3]
    assert all(unit.per_input[i] == pytest.approx(v) for i, v in top)
