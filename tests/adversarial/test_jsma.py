"""JSMA against an independent computation: on a linear model the Jacobian of the logits is the
weight matrix itself, so a brute-force pair search written from the paper's definition (no
TensorFlow, a loop over the first pixel of each pair) must choose the same pixels in the same
order."""

import numpy as np
import pytest

from mnist_viz.adversarial.jsma import MAX_PIXELS, best_pair, jsma
from mnist_viz.core.model import predict_proba
from tests.adversarial.test_attacks import linear_model


def reference_jsma(x, weights, bias, target: int, max_pixels: int, stop_at_target: bool):
    """Papernot et al. 2016, Algorithm 2 with theta = +1, from the closed-form Jacobian W^T:
    returns (the pixels changed in order, pixels changed when the logits first said target)."""
    x = x.reshape(-1).astype(np.float64).copy()
    w = weights.astype(np.float64)
    free = [i for i in range(784) if x[i] < 1.0]
    order, first = [], None
    while True:
        logits = x @ w + bias.astype(np.float64)
        if first is None and int(np.argmax(logits)) == target:
            first = len(order)
            if stop_at_target:
                break
        if len(order) + 2 > max_pixels:
            break
        others = [k for k in range(10) if k != target]
        alpha = {i: w[i, target] for i in free}
        beta = {i: sum(w[i, k] for k in others) for i in free}
        best, best_score = None, 0.0
        for n, p in enumerate(free):  # p < q: each pair once, the lowest p and q win ties
            q = np.array(free[n + 1 :], dtype=int)
            if not len(q):
                continue
            a = alpha[p] + np.array([alpha[i] for i in q])
            b = beta[p] + np.array([beta[i] for i in q])
            score = np.where((a > 0) & (b < 0), a * -b, 0.0)
            k = int(np.argmax(score))
            if score[k] > best_score:
                best, best_score = (p, int(q[k])), float(score[k])
        if best is None:
            break
        for p in best:
            x[p] = 1.0
            free.remove(p)
            order.append(p)
    return order, first


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    """A sparse digit-like image: most pixels black, a few bright, some already white."""
    rng = np.random.default_rng(3)
    image = np.zeros((28, 28), np.float32)
    image[6:22, 12:16] = rng.uniform(0.5, 1.0, (16, 4))
    image[6, 12:16] = 1.0
    return image


@pytest.mark.parametrize("target", [0, 3, 7])
def test_the_same_pixels_in_the_same_order_as_the_reference_on_a_linear_model(digit, target):
    model, w, b = linear_model(seed=target)
    path = jsma(model, digit, target, max_pixels=24, stop_at_target=False)
    expected, _ = reference_jsma(digit, w, b, target, 24, stop_at_target=False)
    assert list(path.order) == expected
    assert len(path.order) == 24 and len(set(path.order)) == 24


def test_it_stops_when_the_network_says_the_target_as_the_reference_does(digit):
    model, w, b = linear_model(seed=5)
    clean = int(predict_proba(model, digit).argmax())
    target = (clean + 1) % 10
    path = jsma(model, digit, target, max_pixels=MAX_PIXELS)
    order, first = reference_jsma(digit, w, b, target, MAX_PIXELS, stop_at_target=True)
    assert list(path.order) == order and path.pixels_to_flip == first
    assert path.fooled  # a random linear model flips within 10% of the pixels
    assert int(predict_proba(model, path.image(path.pixels_to_flip)).argmax()) == target
    # going on past the target changes nothing before it
    longer = jsma(model, digit, target, max_pixels=MAX_PIXELS, stop_at_target=False)
    assert longer.order[: len(path.order)] == path.order
    assert longer.pixels_to_flip == path.pixels_to_flip


def test_the_path_draws_each_step_and_outlines_what_changed(digit):
    model, _, _ = linear_model(seed=2)
    path = jsma(model, digit, 4, max_pixels=10, stop_at_target=False)
    np.testing.assert_array_equal(path.image(0), digit)
    changed = path.changed_mask(6)
    assert changed.sum() == 6
    after = path.image(6)
    assert (after[changed] == 1.0).all()
    np.testing.assert_array_equal(after[~changed], digit[~changed])
    assert not path.changed_mask(0).any()


def test_no_pair_when_nothing_helps_the_target():
    jacobian = np.zeros((10, 784))
    jacobian[2] = -1.0  # brightening any pixel lowers the target's score
    assert best_pair(jacobian, 2, np.ones(784, bool)) is None
    jacobian[2, [5, 9]] = 1.0  # two pixels help it, and every pixel helps the others less
    jacobian[0] = -2.0
    assert best_pair(jacobian, 2, np.ones(784, bool)) == (5, 9)
    assert best_pair(jacobian, 2, np.arange(784) == 5) is None  # one free pixel is no pair


def test_a_target_outside_the_classes_is_refused(digit):
    model, _, _ = linear_model()
    with pytest.raises(ValueError, match="class 0-9"):
        jsma(model, digit, 10)


def test_each_row_of_the_jacobian_is_one_class_scores_gradient_on_a_conv_net():
    # on a linear model the Jacobian is constant; here it changes with the image (ReLU)
    import keras
    import tensorflow as tf

    from mnist_viz.adversarial.jsma import _jacobian_fn
    from mnist_viz.core.model import LOGITS, PROBABILITIES

    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, activation="relu")(inputs))
    logits = keras.layers.Dense(10, name=LOGITS)(hidden)
    outputs = keras.layers.Activation("softmax", name=PROBABILITIES)(logits)
    model = keras.Model(inputs, outputs)
    scorer = keras.Model(inputs, logits)
    for seed in (1, 2):
        x = tf.constant(np.random.default_rng(seed).uniform(0, 1, (1, 28, 28, 1)), tf.float32)
        scores, jacobian = _jacobian_fn(model)(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = scorer(x, training=False)[0]
        expected = tape.jacobian(z, x).numpy().reshape(10, 784)
        np.testing.assert_allclose(jacobian.numpy(), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(scores.numpy(), z.numpy(), rtol=1e-5, atol=1e-6)
