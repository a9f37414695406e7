"""The step as the page shows it: every number written is TensorFlow's to 1e-5 (read back from
the text, as a learner would copy it), and the gradient grids put each weight where a click
finds it again."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from inside.test_learning_step import _untrained, model_gradients, tape_reference
from mnist_viz.core.architecture import preset
from mnist_viz.inside import step_table
from mnist_viz.inside.learning_step import (
    WeightRef,
    backward,
    forward,
    layer_gradient,
    private_copy,
    step,
    weight_ref,
)

LABEL = 7
NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def numbers(text: str) -> list[float]:
    return [float(x) for x in NUMBER.findall(text)]


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(5)
    picture = np.zeros((28, 28), np.float32)
    picture[6:22, 9:19] = rng.uniform(0.2, 1.0, (16, 10))
    return picture


@pytest.fixture(scope="module", params=["classic", "mlp"])
def network(request):
    return _untrained(preset(request.param), 4)


def test_num_keeps_seven_significant_digits():
    for value in (123.456789, -0.000123456789, 3.0e-9, 0.0):
        assert abs(float(step_table.num(value)) - value) <= abs(value) * 1e-6


def test_the_forward_rows_and_the_loss_are_the_models(network, image):
    fwd = forward(network, image, LABEL)
    rows = step_table.forward_rows(fwd)
    probabilities = network.predict(image[None, ..., None], verbose=0)[0]
    for k, row in enumerate(rows):
        assert float(row["probability p"]) == pytest.approx(probabilities[k], abs=1e-5)
        assert float(row["dL/dz = p - y"]) == pytest.approx(
            probabilities[k] - (k == LABEL), abs=1e-5
        )
    loss = numbers(step_table.loss_text(fwd))[-1]
    assert loss == pytest.approx(-np.log(probabilities[LABEL]), abs=1e-5)


def tf_close(expected: float):
    """What the page's 7 significant digits of a TensorFlow number must match."""
    return pytest.approx(float(expected), rel=1e-4, abs=1e-7)


def row(rows: list[dict], step: str) -> str:
    return next(r["with the numbers"] for r in rows if r["step"].startswith(step))


def test_the_chains_gradient_and_bias_rows_are_tensorflows(network, image):
    fwd = forward(network, image, LABEL)
    for layer in [x.name for x in network.layers if x.get_weights()]:
        kernel_grad, bias_grad = model_gradients(network, image, LABEL, layer)
        ref = weight_ref(network, layer, step_table.strongest(kernel_grad))
        chain = backward(network, fwd, ref)
        rows = step_table.conv_rows(chain) if ref.is_conv else step_table.dense_rows(chain)
        shown = numbers(row(rows, "the gradient"))[-1]
        assert shown == tf_close(kernel_grad[ref.index]), layer
        unit = ref.index[-1]
        assert numbers(row(rows, "and "))[-1] == tf_close(bias_grad[unit]), layer


def test_every_number_of_a_hidden_dense_chain_is_tensorflows(network, image):
    fwd = forward(network, image, LABEL)
    dense = [x.name for x in network.layers if len(x.get_weights()) == 2][-2]
    _, values, grads = tape_reference(network, image, LABEL, dense)
    ref = weight_ref(network, dense, step_table.strongest(layer_gradient(network, fwd, dense)))
    i, j = ref.index
    rows = step_table.dense_rows(backward(network, fwd, ref))
    errors = numbers(row(rows, "the class scores' errors"))[1::2]  # "k: value, ..."
    probabilities = network.predict(image[None, ..., None], verbose=0)[0]
    assert errors == [tf_close(p - (k == LABEL)) for k, p in enumerate(probabilities)]
    back = re.search(r"add up to (\S+)$", row(rows, "back through")).group(1)
    assert float(back) == tf_close(grads[dense][j])  # dL/da_j
    z = re.search(r"z_\d+ = (\S+),", row(rows, "the ReLU's gate")).group(1)
    assert float(z) == tf_close(values["z"][j])
    assert float(row(rows, f"unit {j}'s error").split(" = ")[-1]) == tf_close(grads["z"][j])
    assert float(row(rows, "what the weight multiplies")) == tf_close(values["input"][i])


def test_every_score_of_the_forward_rows_is_tensorflows(network, image):
    fwd = forward(network, image, LABEL)
    scores = keras.Model(network.input, network.layers[-2].output)
    logits = np.asarray(scores(image[None, ..., None], training=False))[0]
    for k, shown in enumerate(step_table.forward_rows(fwd)):
        assert float(shown["score z"]) == tf_close(logits[k])


def test_a_dense_chain_multiplies_what_it_shows(network, image):
    fwd = forward(network, image, LABEL)
    dense = [x.name for x in network.layers if len(x.get_weights()) == 2][-2]  # a hidden layer
    ref = weight_ref(network, dense, step_table.strongest(layer_gradient(network, fwd, dense)))
    rows = step_table.dense_rows(backward(network, fwd, ref))
    delta, a, gradient = numbers(row(rows, "the gradient"))
    assert delta * a == pytest.approx(gradient, abs=1e-5)
    gate, back, delta_again = numbers(row(rows, f"unit {ref.index[1]}'s error"))
    assert gate * back == pytest.approx(delta_again, abs=1e-5)
    terms = step_table.dense_terms(backward(network, fwd, ref))
    assert len(terms) == 10  # the ten class scores' terms, all of them


def test_the_step_rows_show_minus_lr_times_the_gradient(image):
    copy = private_copy(_untrained(preset("classic"), 6))
    fwd = forward(copy, image, LABEL)
    ref = weight_ref(copy, "conv1", step_table.strongest(layer_gradient(copy, fwd, "conv1")))
    result = step(copy, image, LABEL, ref, 0.5)
    weight, loss, answer = step_table.step_rows(result)
    before, after = float(weight["before"]), float(weight["after"])
    minus_lr, g, change = numbers(weight["change"])  # "-0.5 x g = change"
    assert minus_lr == -0.5 and g == pytest.approx(result.gradient, abs=1e-5)
    assert change == pytest.approx(-0.5 * g, abs=1e-6)
    assert after == pytest.approx(before - 0.5 * g, abs=1e-5)
    assert float(loss["after"]) == pytest.approx(result.loss_after, abs=1e-5)
    assert answer["before"] == str(int(np.argmax(result.probabilities_before)))


@pytest.mark.parametrize(
    ("shape", "ref"),
    [
        ((3, 3, 32, 64), WeightRef("conv2", (2, 1, 5, 63))),
        ((784, 128), WeightRef("dense", (783, 9))),
        ((1600, 128), WeightRef("dense", (1599, 127))),
        ((128, 10), WeightRef("logits", (37, 4))),
    ],
)
def test_a_weight_is_found_again_where_the_grid_shows_it(shape, ref):
    gradient = np.random.default_rng(0).normal(size=shape)
    grid = step_table.picker_grid(gradient, ref)
    cell = step_table.grid_cell(ref, shape)
    assert grid[cell] == gradient[ref.index]
    assert step_table.index_at(cell, ref, shape) == ref.index
    assert np.count_nonzero(np.isfinite(grid)) == (9 if len(shape) == 4 else shape[0])
    if len(shape) == 2 and shape[0] == 784:
        assert grid.shape == (28, 28)  # the pixels' weights are the image's grid


@pytest.mark.parametrize("cell", [(-1, 0), (0, -1), (3, 0), (0, 3), (99, 99)])
def test_a_click_outside_a_kernel_chooses_nothing(cell):
    conv = WeightRef("conv1", (0, 0, 0, 0))
    assert step_table.index_at(cell, conv, (3, 3, 1, 32)) is None


@pytest.mark.parametrize("cell", [(-1, 0), (0, -1), (0, 40), (40, 0), (99, 99)])
def test_a_click_outside_a_dense_layer_chooses_nothing(cell):
    dense = WeightRef("dense", (0, 0))
    assert step_table.index_at(cell, dense, (1600, 128)) is None
    # 130 inputs: a 12-wide grid whose last row has 10 cells
    assert step_table.index_at((10, 11), dense, (130, 10)) is None
    assert step_table.index_at((10, 9), dense, (130, 10)) == (129, 0)


def test_the_layer_tiles_hold_every_gradient_once():
    rng = np.random.default_rng(1)
    for shape in [(3, 3, 1, 32), (3, 3, 32, 64), (1600, 128), (128, 10), (784, 24)]:
        gradient = rng.normal(size=shape)
        ref = WeightRef("any", (0,) * len(shape))
        tiles, columns = step_table.layer_tiles(gradient, ref)
        assert np.sort(tiles[np.isfinite(tiles)]).tolist() == np.sort(gradient, axis=None).tolist()
        assert columns >= 1
    kernels = np.arange(3 * 3 * 2 * 4, dtype=float).reshape(3, 3, 2, 4)
    tiles, _ = step_table.layer_tiles(kernels, WeightRef("conv2", (0, 0, 0, 0)))
    assert tiles[1 * 4 + 3].tolist() == kernels[:, :, 1, 3].tolist()


def test_a_dense_layer_of_many_inputs_is_shown_a_block_at_a_time():
    """No pooling: 36,864 inputs into 128 units. The grids show the 1,600 inputs around the
    chosen one, never all (a 192 x 192 map and a 3,000 px picture on every rerun)."""
    shape = (36_864, 128)
    gradient = np.random.default_rng(2).normal(size=shape)
    ref = WeightRef("dense", (20_000, 7))
    assert step_table.block(ref, shape) == (19_200, 20_800)
    assert step_table.block_text(ref, shape) == " (inputs 19,200 to 20,799 of 36,864)"
    grid = step_table.picker_grid(gradient, ref)
    assert grid.shape == (40, 40)
    cell = step_table.grid_cell(ref, shape)
    assert grid[cell] == gradient[20_000, 7]
    assert step_table.index_at(cell, ref, shape) == (20_000, 7)
    assert step_table.index_at((0, 0), ref, shape) == (19_200, 7)
    tiles, columns = step_table.layer_tiles(gradient, ref)
    assert tiles.shape == (128, 40, 40) and columns == 16
    np.testing.assert_array_equal(tiles[7].ravel(), gradient[19_200:20_800, 7])
    last = WeightRef("dense", (36_863, 0))  # the last block is short: 36,864 - 36,800
    assert np.count_nonzero(np.isfinite(step_table.picker_grid(gradient, last))) == 64
    assert step_table.index_at((1, 39), last, shape) is None
    text = step_table.layer_description("dense", gradient, ref)
    assert "from inputs 19,200 to 20,799 of 36,864" in text
    assert step_table.block_text(WeightRef("dense", (5, 0)), (1600, 128)) == ""


def test_the_layer_description_names_its_scale_and_largest_value():
    gradient = np.zeros((3, 3, 1, 4))
    gradient[1, 2, 0, 3] = -0.25
    gradient[0, 0, 0, 0] = 0.125
    ref = WeightRef("conv1", (0, 0, 0, 0))
    text = step_table.layer_description("conv1", gradient, ref)
    assert "from -0.25 to +0.25" in text
    assert "1 weights have a positive gradient, 1 a negative one, 34 zero" in text
    assert "-0.25 (row 1, column 2, input channel 0, output channel 3)" in text
    flat = step_table.layer_description("conv1", np.zeros((3, 3, 1, 4)), ref)
    assert "from -1 to +1" in flat  # the scale the pictures use when all is zero


def test_the_list_of_terms_says_when_it_is_not_all_of_them():
    assert step_table.terms_title(10, "terms of the sum") == "The terms of the sum"
    assert step_table.terms_title(676, "products") == "The 10 largest of the 676 products"
