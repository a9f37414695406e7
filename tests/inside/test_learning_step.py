"""One training step as arithmetic, checked number by number against tf.GradientTape, against a
central finite difference of the loss in float64, and against the weights a step leaves."""

from __future__ import annotations

from functools import partial

import keras
import numpy as np
import pytest
import tensorflow as tf

from mnist_viz.core.architecture import Architecture, build, preset
from mnist_viz.core.model import to_model_input
from mnist_viz.inside.learning_step import (
    ConvChain,
    DenseChain,
    backward,
    checked_label,
    checked_learning_rate,
    forward,
    layer_gradient,
    private_copy,
    step,
    symmetric_scale,
    weight_layers,
    weight_ref,
)

LABEL = 3
close = partial(np.testing.assert_allclose, rtol=0, atol=1e-5)


def _random_biases(model: keras.Model, seed: int) -> keras.Model:
    """Non-zero biases, so that the check covers them and some units are off (gate 0)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if len(weights) == 2:
            bias = rng.normal(0, 0.05, weights[1].shape).astype(np.float32)
            layer.set_weights([weights[0], bias])
    return model


def _untrained(arch: Architecture, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return _random_biases(build(arch), seed)


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    """Strokes on a blank page: conv1 gives every blank spot the same value, so pool windows
    hold ties, and the winner the module picks must be TensorFlow's."""
    image = np.zeros((28, 28), np.float32)
    image[5:8, 8:20] = 1.0
    image[8:23, 16:19] = 0.9
    image[12:18, 6:12] = np.random.default_rng(3).uniform(0, 1, (6, 6))
    return image


@pytest.fixture(scope="module")
def classic() -> keras.Model:
    return _untrained(preset("classic"), 0)


@pytest.fixture(scope="module")
def mlp() -> keras.Model:
    return _untrained(preset("mlp"), 1)


@pytest.fixture(scope="module")
def tiny() -> keras.Model:
    return _untrained(Architecture("tiny", filters=(4, 6), dense=8), 2)


def tape_reference(model: keras.Model, image: np.ndarray, label: int, name: str):
    """TensorFlow's loss and gradients along the way to layer ``name``: its pre-activation z is
    computed with tf ops (checked against the layer's own output) so the tape can see it."""
    layers = [x for x in model.layers if not isinstance(x, keras.layers.InputLayer)][:-1]
    h = tf.constant(to_model_input(image))
    seen = {}
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(h)  # so that layers with no weights before ``name`` are on the tape too
        for layer in layers:
            if layer.name == name:
                seen["input"] = h
                if isinstance(layer, keras.layers.Conv2D):
                    z = tf.nn.conv2d(h, layer.kernel, 1, "VALID") + layer.bias
                else:
                    z = tf.matmul(h, layer.kernel) + layer.bias
                seen["z"] = z
                close(layer.activation(z), layer(h, training=False))
                h = layer.activation(z)
            else:
                h = layer(h, training=False)
            seen[layer.name] = h
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits([label], h)[0]
    values = {key: value.numpy()[0] for key, value in seen.items()}
    grads = {
        key: tape.gradient(loss, value).numpy()[0] for key, value in seen.items() if key != "input"
    }
    return float(loss), values, grads


def model_gradients(model: keras.Model, image: np.ndarray, label: int, name: str):
    """dL/dkernel and dL/dbias of ``name`` from the untouched model, read at the layer before
    its softmax layer."""
    scores = keras.Model(model.input, model.layers[-2].output)
    layer = model.get_layer(name)
    with tf.GradientTape() as tape:
        logits = scores(tf.constant(to_model_input(image)), training=False)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits([label], logits)[0]
    kernel, bias = tape.gradient(loss, [layer.kernel, layer.bias])
    return kernel.numpy(), bias.numpy()


def strongest(gradient: np.ndarray) -> tuple[int, ...]:
    """The index of the largest |gradient|: a weight the loss clearly depends on."""
    return tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(gradient)), gradient.shape))


# -- forward ------------------------------------------------------------------------------------


def test_forward_reads_the_models_class_scores_and_its_softmax(classic, digit):
    fwd = forward(classic, digit, LABEL)
    x = tf.constant(to_model_input(digit))
    close(fwd.probabilities, classic(x, training=False).numpy()[0], atol=1e-6)
    logits = keras.Model(classic.input, classic.get_layer("logits").output)(x).numpy()[0]
    close(fwd.logits, logits, atol=1e-6)
    assert fwd.p_true == pytest.approx(fwd.probabilities[LABEL])
    assert fwd.loss == pytest.approx(-np.log(fwd.p_true), abs=1e-9)
    close(fwd.output_error, fwd.probabilities - np.eye(10)[LABEL], atol=0)


# -- backward, number by number -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["conv1", "conv2"])
def test_every_number_of_a_convolution_weights_chain_is_tensorflows(classic, digit, name):
    loss, values, grads = tape_reference(classic, digit, LABEL, name)
    kernel_grad, _ = model_gradients(classic, digit, LABEL, name)
    fwd = forward(classic, digit, LABEL)
    chain = backward(classic, fwd, weight_ref(classic, name, strongest(kernel_grad)))
    assert isinstance(chain, ConvChain)
    r, c, i, o = chain.ref.index
    pool = "pool1" if name == "conv1" else "pool2"
    assert fwd.loss == pytest.approx(loss, abs=1e-5)
    close(chain.output_error, grads["logits"])
    close(chain.pooled, grads[pool][..., o])
    close(chain.upstream, grads[name][..., o])  # only each window's winner gets a gradient
    np.testing.assert_array_equal(chain.gate, values[name][..., o] > 0)
    close(chain.delta, grads["z"][..., o])
    h, w = chain.delta.shape
    close(chain.inputs, values["input"][r : r + h, c : c + w, i])
    close(chain.products.sum(), chain.gradient, atol=1e-12)
    assert chain.gradient == pytest.approx(kernel_grad[r, c, i, o], abs=1e-5)
    assert abs(chain.gradient) > 1e-3  # a weight that matters, so the comparisons mean something
    # one winner per pool window, and the gradient arrives nowhere else
    assert chain.winners.sum() == chain.pooled.size
    assert not chain.upstream[~chain.winners].any()
    close(layer_gradient(classic, fwd, name), kernel_grad)


@pytest.mark.parametrize(
    ("network", "name"),
    [("classic", "dense"), ("classic", "logits"), ("mlp", "dense"), ("mlp", "logits")],
)
def test_every_number_of_a_dense_weights_chain_is_tensorflows(request, digit, network, name):
    model = request.getfixturevalue(network)
    loss, values, grads = tape_reference(model, digit, LABEL, name)
    kernel_grad, _ = model_gradients(model, digit, LABEL, name)
    fwd = forward(model, digit, LABEL)
    chain = backward(model, fwd, weight_ref(model, name, strongest(kernel_grad)))
    assert isinstance(chain, DenseChain)
    i, j = chain.ref.index
    assert fwd.loss == pytest.approx(loss, abs=1e-5)
    close(chain.output_error, grads["logits"])
    assert chain.input_value == pytest.approx(values["input"][i], abs=1e-6)
    assert chain.pre_activation == pytest.approx(values["z"][j], abs=1e-5)
    assert chain.back_sum == pytest.approx(grads[name][j], abs=1e-5)  # dL/da_j
    assert chain.delta == pytest.approx(grads["z"][j], abs=1e-5)  # dL/dz_j
    assert chain.gradient == pytest.approx(kernel_grad[i, j], abs=1e-5)
    assert abs(chain.gradient) > 1e-3
    if name == "logits":
        assert chain.gate == 1.0 and chain.next_weights is None
        assert chain.back_sum == pytest.approx(fwd.probabilities[j] - (j == LABEL))
    else:
        assert chain.gate == 1.0  # the strongest weight's unit is on
        close(chain.next_delta, grads["logits"])
        np.testing.assert_array_equal(
            chain.next_weights, model.get_layer("logits").get_weights()[0][j]
        )
        # a unit that is off: its gate is 0, so none of its weights learns from this digit
        off = int(np.flatnonzero(values[name] == 0)[0])
        dead = backward(model, fwd, weight_ref(model, name, (i, off)))
        assert dead.gate == 0.0 and dead.gradient == 0.0 and dead.back_sum != 0.0
        assert not kernel_grad[:, off].any()
    close(layer_gradient(model, fwd, name), kernel_grad)


def test_without_pooling_every_layers_gradient_is_tensorflows(digit):
    model = _untrained(Architecture("flat", filters=(3, 4), pooling=False, dense=8), 4)
    fwd = forward(model, digit, LABEL)
    for name in weight_layers(model):
        close(layer_gradient(model, fwd, name), model_gradients(model, digit, LABEL, name)[0])
    chain = backward(model, fwd, weight_ref(model, "conv1", (0, 0, 0, 0)))
    assert chain.pooled is None and chain.winners is None


def float64_twin(model: keras.Model) -> keras.Model:
    """The same network computing in float64, with the same weights."""

    def in_float64(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float64"})

    twin = keras.models.clone_model(model, clone_function=in_float64)
    twin.set_weights([w.astype(np.float64) for w in model.get_weights()])
    return twin


@pytest.mark.parametrize(
    ("network", "names"),
    [("classic", ["conv1", "conv2", "dense", "logits"]), ("mlp", ["dense", "logits"])],
)
def test_a_finite_difference_of_the_loss_agrees(request, digit, network, names):
    """(L(w + h) - L(w - h)) / 2h in float64 with h = 1e-6: rounding adds about 1e-10 and a
    ReLU crossing its kink within +-h is unlikely, so a 1e-3 relative tolerance is met by the
    true derivative and missed by any chain that drops a gate or a pool mask."""
    model = request.getfixturevalue(network)
    twin = float64_twin(model)
    scores = keras.Model(twin.input, twin.layers[-2].output)
    x = tf.constant(to_model_input(digit), tf.float64)
    fwd = forward(model, digit, LABEL)
    h = 1e-6
    for name in names:
        gradient = layer_gradient(model, fwd, name)
        index = strongest(gradient)
        kernel = twin.get_layer(name).kernel
        original = kernel.numpy()

        def loss_at(value: float, kernel=kernel, original=original, index=index) -> float:
            moved = original.copy()
            moved[index] = value
            kernel.assign(moved)
            logits = scores(x, training=False)
            return float(tf.nn.sparse_softmax_cross_entropy_with_logits([LABEL], logits)[0])

        w = float(original[index])
        numeric = (loss_at(w + h) - loss_at(w - h)) / (2 * h)
        kernel.assign(original)
        assert abs(gradient[index]) > 1e-3, name
        assert numeric == pytest.approx(gradient[index], rel=1e-3), name


# -- one step -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["conv1", "conv2", "dense", "logits"])
def test_a_step_moves_its_layer_only_by_minus_lr_times_the_gradient(tiny, digit, name):
    copy = private_copy(tiny)
    before = {layer.name: layer.get_weights() for layer in copy.layers}
    kernel_grad, bias_grad = model_gradients(copy, digit, LABEL, name)
    ref = weight_ref(copy, name, strongest(kernel_grad))
    lr = 0.05
    result = step(copy, digit, LABEL, ref, lr)
    for layer in copy.layers:
        now = layer.get_weights()
        if layer.name == name:
            kernel, bias = before[name]
            np.testing.assert_allclose(now[0], kernel - lr * kernel_grad, rtol=0, atol=1e-7)
            np.testing.assert_allclose(now[1], bias - lr * bias_grad, rtol=0, atol=1e-7)
        else:
            for a, b in zip(now, before[layer.name], strict=True):
                np.testing.assert_array_equal(a, b)
    assert result.gradient == pytest.approx(kernel_grad[ref.index], abs=1e-6)
    assert result.weight_before == before[name][0][ref.index]
    assert result.weight_after == pytest.approx(result.weight_before - lr * result.gradient)
    assert result.weight_after != result.weight_before
    assert result.loss_after < result.loss_before
    assert result.probabilities_after[LABEL] > result.probabilities_before[LABEL]
    assert result.loss_after == pytest.approx(forward(copy, digit, LABEL).loss)


def test_the_shared_model_never_changes(tiny, digit):
    saved = tiny.get_weights()
    ref = weight_ref(tiny, "conv1", (1, 1, 0, 0))
    with pytest.raises(ValueError, match="private_copy"):
        step(tiny, digit, LABEL, ref, 0.1)
    copy = private_copy(tiny)
    for _ in range(3):
        step(copy, digit, LABEL, ref, 0.5)
        step(copy, digit, LABEL, weight_ref(copy, "logits", (0, LABEL)), 0.5)
    for a, b in zip(tiny.get_weights(), saved, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(copy.get_layer("conv1").get_weights()[0], saved[0])


# -- what a user sends is checked ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "index", "message"),
    [
        ("pool1", (0, 0, 0, 0), "no layer 'pool1'"),
        ("probabilities", (0, 0), "no layer"),
        ("nope", (0, 0), "choose conv1, conv2, dense, logits"),
        (None, (0, 0), "no layer"),
        ("conv1", (0, 0, 0), "4 numbers"),
        ("conv1", (3, 0, 0, 0), "row of conv1 is 0 to 2"),
        ("conv1", (0, 0, 1, 0), "input channel of conv1 is 0 to 0"),
        ("conv2", (0, 0, 0, -1), "output channel of conv2 is 0 to 5"),
        ("dense", (150, 0), "input unit of dense is 0 to 149"),
        ("logits", (0, 10), "output unit of logits is 0 to 9"),
        ("dense", (1.0, 0), "whole number"),
        ("dense", (True, 0), "whole number"),
        ("dense", "01", "2 numbers"),
        ("dense", 5, "2 numbers"),
    ],
)
def test_bad_weight_references_are_refused(tiny, layer, index, message):
    with pytest.raises(ValueError, match=message):
        weight_ref(tiny, layer, index)


def test_good_references_and_learning_rates_pass(tiny):
    assert weight_layers(tiny) == ["conv1", "conv2", "dense", "logits"]
    ref = weight_ref(tiny, "dense", [np.int64(149), np.int32(7)])
    assert weight_ref(tiny, "dense", np.array([149, 7])) == ref
    assert ref.index == (149, 7) and not ref.is_conv
    assert weight_ref(tiny, "conv2", (2, 2, 3, 5)).describe() == (
        "conv2: row 2, column 2, input channel 3, output channel 5"
    )
    assert checked_learning_rate(10) == 10.0 and checked_learning_rate(np.float32(1e-4)) > 0


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), 10.5, "0.1", True, None])
def test_bad_learning_rates_are_refused(lr):
    with pytest.raises(ValueError, match="learning rate"):
        checked_learning_rate(lr)


def test_bad_images_labels_and_networks_are_refused(tiny, digit):
    for label in (10, -1, 2.5, True):
        with pytest.raises(ValueError, match="label"):
            forward(tiny, digit, label)
    for image in (digit[:27], digit * 2, np.full((28, 28), np.nan, np.float32)):
        with pytest.raises(ValueError, match="image"):
            forward(tiny, image, LABEL)
    inputs = keras.Input((28, 28, 1))
    softmax_inside = keras.Model(
        inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs))
    )
    with pytest.raises(ValueError, match="softmax layer"):
        forward(softmax_inside, digit, LABEL)
    padded = keras.layers.Conv2D(2, 3, padding="same", activation="relu")(inputs)
    logits = keras.layers.Dense(10)(keras.layers.Flatten()(padded))
    same = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    with pytest.raises(ValueError, match="stride-1"):
        forward(same, digit, LABEL)
    leaky = keras.layers.Dense(8, activation=keras.layers.LeakyReLU())(
        keras.layers.Flatten()(inputs)
    )
    scores = keras.layers.Activation("softmax")(keras.layers.Dense(10)(leaky))
    with pytest.raises(ValueError, match="only ReLU"):
        forward(keras.Model(inputs, scores), digit, LABEL)
    per_position = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Dense(3)(inputs)))
    with pytest.raises(ValueError, match="flat input"):
        forward(keras.Model(inputs, keras.layers.Activation("softmax")(per_position)), digit, LABEL)


def test_the_colour_scale_is_symmetric_and_never_zero(classic, digit):
    assert symmetric_scale(np.array([[-3.0, 1.0], [0.5, 2.0]])) == 3.0
    assert symmetric_scale(np.zeros((3, 3))) == 1.0
    gradient = layer_gradient(classic, forward(classic, digit, LABEL), "conv1")
    assert symmetric_scale(gradient) == np.abs(gradient).max() > 0


@pytest.mark.parametrize("value", ["x", "3", 10, -1, True, 3.0, None])
def test_a_true_label_is_a_digit_from_0_to_9(value):
    with pytest.raises(ValueError, match="label"):
        checked_label(value)


def test_good_true_labels_pass():
    assert [checked_label(v) for v in (0, 9, np.int64(4))] == [0, 9, 4]
