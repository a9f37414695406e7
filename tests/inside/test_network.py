"""Kernels, the diagram and unit rankings, checked against independent numpy computations."""

import re

import numpy as np
import pytest

from mnist_viz.core.activations import build_activation_model, layer_activations
from mnist_viz.core.architecture import Architecture, build
from mnist_viz.core.model import CONV1, CONV2, architecture, build_model
from mnist_viz.inside import network
from mnist_viz.inside.network import dense_input_text, layer_role, parameter_arithmetic


@pytest.fixture(scope="module")
def model():
    m = build_model()
    rng = np.random.default_rng(0)
    # random non-zero biases too, so the reference checks cover them
    for name in (CONV1, CONV2):
        kernel, bias = m.get_layer(name).get_weights()
        m.get_layer(name).set_weights([kernel, rng.normal(0, 0.1, bias.shape).astype(np.float32)])
    return m


def correlate_valid(image: np.ndarray, kernel: np.ndarray, bias: float) -> np.ndarray:
    """A 3x3 'valid' cross-correlation by explicit loops (what Conv2D computes), then ReLU."""
    h, w = image.shape[0] - 2, image.shape[1] - 2
    out = np.empty((h, w))
    for y in range(h):
        for x in range(w):
            out[y, x] = np.sum(image[y : y + 3, x : x + 3] * kernel) + bias
    return np.maximum(out, 0)


def test_conv1_feature_maps_are_the_kernels_slid_over_the_image(model, tiny_data):
    image = tiny_data.x_test[0]
    kernel, bias = network.conv_kernels(model, CONV1)
    maps = layer_activations(build_activation_model(model), image)[CONV1]
    x = image / 255.0
    for f in (0, 7, 31):
        expected = correlate_valid(x, network.kernels_of_filter(kernel, f)[0], bias[f])
        np.testing.assert_allclose(maps[..., f], expected, atol=1e-4)


def test_kernel_views_pick_the_right_slices(model):
    kernel, _ = network.conv_kernels(model, CONV2)
    assert kernel.shape == (3, 3, 32, 64)
    of_filter = network.kernels_of_filter(kernel, 5)
    on_input = network.kernels_on_input(kernel, 9)
    assert of_filter.shape == (32, 3, 3) and on_input.shape == (64, 3, 3)
    for i in range(3):
        for j in range(3):
            assert of_filter[9, i, j] == kernel[i, j, 9, 5] == on_input[5, i, j]


def test_diagram_lists_every_layer_with_its_shape(model):
    dot = network.data_flow_dot(architecture(model))
    for row in architecture(model):
        assert f'label="{row.name}\\n' in dot
    assert "26x26x32" in dot and "5x5x64" in dot and "\\n10" in dot
    edges = [line for line in dot.splitlines() if "->" in line and "invis" not in line]
    assert len(edges) == len(architecture(model)) - 1  # one chain through every layer
    assert all(f"n{i} -> n{i + 1}" in dot for i in range(len(edges)))


def test_rank_units_sorts_and_counts_the_active_ones():
    ranking = network.rank_units(np.array([0.0, 2.0, 0.5, 0.0, 3.0]))
    assert ranking.order.tolist()[:3] == [4, 1, 2]
    assert ranking.values.tolist()[:3] == [3.0, 2.0, 0.5]
    assert ranking.active == 3


@pytest.mark.parametrize(
    "spec",
    [
        Architecture("classic"),
        Architecture("mlp", filters=(), dense=24),
        Architecture("five", filters=(3, 5), kernel=5, dense=8),
        Architecture("no-pooling", filters=(4,), pooling=False, dense=8),
    ],
    ids=lambda s: s.name,
)
def test_parameter_arithmetic_adds_up_to_each_layers_count(spec):
    model = build(spec)
    lines = parameter_arithmetic(model)
    counted = [layer for layer in model.layers if layer.count_params()]
    assert len(lines) == len(counted)
    for line, layer in zip(lines, counted, strict=True):
        assert line.startswith(f"{layer.name}: ")
        assert line.endswith(f"= {layer.count_params():,}")
        # the formula's own numbers multiply out to the total it states
        numbers = [int(n.replace(",", "")) for n in re.findall(r"[\d,]*\d", line.split(": ")[1])]
        *factors, total = numbers
        if "filters" in line:
            f, kh, kw, c_in, bias = factors
            assert f * kh * kw * c_in + bias == total
        else:
            n_in, n_out, bias = factors
            assert n_in * n_out + bias == total


def test_what_feeds_the_dense_layer_is_said_from_the_model():
    classic = build(Architecture("classic"))
    assert dense_input_text(classic, classic.get_layer("dense")) == (
        "pool2's 64 maps of 5 x 5 are flattened into 1,600 numbers"
    )
    mlp = build(Architecture("mlp", filters=(), dense=24))
    assert dense_input_text(mlp, mlp.get_layer("dense")) == (
        "the 784 pixels are flattened into 784 numbers"
    )
    assert dense_input_text(mlp, mlp.get_layer("logits")) == "dense's 24 values"
    unpooled = build(Architecture("np", filters=(4,), pooling=False, dense=8))
    assert dense_input_text(unpooled, unpooled.get_layer("dense")) == (
        "conv1's 4 maps of 26 x 26 are flattened into 2,704 numbers"
    )
    assert layer_role(classic.get_layer("conv1")) == "3x3 filters + ReLU"
    assert layer_role(classic.get_layer("pool1")) == "keep the max of each 2x2"
    assert layer_role(classic.get_layer("dense")) == "weighted sums + ReLU"
    assert layer_role(classic.get_layer("logits")) == "weighted sums"


def test_map_summary_counts_silent_maps_and_keeps_zero_on_the_scale():
    maps = np.zeros((3, 3, 3), np.float32)
    maps[1, 1, 0] = 2.5
    maps[0, 2, 2] = -0.5  # below zero everywhere else: silent after all
    summary = network.summarise_maps(maps)
    assert summary.peak == 2.5 and summary.low == -0.5
    assert summary.channel_peaks.tolist() == [2.5, 0.0, 0.0]
    assert summary.silent == 2
    assert summary.legend(per_channel=False) == (-0.5, 2.5)
    assert summary.legend(per_channel=True) == (0.0, 1.0)
    assert network.summarise_maps(np.zeros((2, 2, 1))).legend(False) == (0.0, 1.0)


def test_pixel_templates_put_each_weight_where_its_pixel_is():
    kernel = np.zeros((784, 5), np.float32)
    kernel[28 * 3 + 7, 2] = 1.0  # unit 2's weight on the pixel at row 3, column 7
    templates = network.pixel_templates(kernel, 4)
    assert templates.shape == (4, 28, 28)
    assert templates[2, 3, 7] == 1.0 and templates.sum() == 1.0
