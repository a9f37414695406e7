"""Feedback alignment against backpropagation: one update checked against an implementation
written out example by example and unit by unit (and backpropagation's against TensorFlow's
gradient), then both rules learning a learnable toy set, and feedback alignment's update turning
towards the true gradient as it learns."""

import math

import numpy as np
import pytest
from conftest import synthetic_digits, tiny_mnist

from mnist_viz.inside import feedback_alignment as fa


def reference_update(net, x, labels, feedback=None):
    """The mean cross-entropy's update, one example and one unit at a time in plain Python;
    ``feedback`` (classes, hidden): the matrix the error goes back through, else w2's transpose."""
    n, inputs = x.shape
    hidden, classes = net.w2.shape
    g = {
        "w1": [[0.0] * hidden for _ in range(inputs)],
        "b1": [0.0] * hidden,
        "w2": [[0.0] * classes for _ in range(hidden)],
        "b2": [0.0] * classes,
    }
    loss = 0.0
    for e in range(n):
        z1 = [net.b1[j] + sum(x[e, i] * net.w1[i, j] for i in range(inputs)) for j in range(hidden)]
        h = [max(v, 0.0) for v in z1]
        scores = [
            net.b2[k] + sum(h[j] * net.w2[j, k] for j in range(hidden)) for k in range(classes)
        ]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        p = [v / sum(exps) for v in exps]
        loss -= math.log(p[labels[e]]) / n
        err = [(p[k] - (k == labels[e])) / n for k in range(classes)]
        for k in range(classes):
            g["b2"][k] += err[k]
            for j in range(hidden):
                g["w2"][j][k] += h[j] * err[k]
        for j in range(hidden):
            back = sum(
                err[k] * (net.w2[j, k] if feedback is None else feedback[k, j])
                for k in range(classes)
            )
            delta = back if z1[j] > 0 else 0.0
            g["b1"][j] += delta
            for i in range(inputs):
                g["w1"][i][j] += x[e, i] * delta
    return {k: np.array(v) for k, v in g.items()}, loss


@pytest.fixture
def toy():
    rng = np.random.default_rng(3)
    net, feedback = fa.initial(inputs=6, hidden=5, classes=3, seed=4)
    net.b1 = rng.normal(0, 0.1, 5)  # some units off, some on
    net.b2 = rng.normal(0, 0.1, 3)
    return net, feedback, rng.uniform(0, 1, (7, 6)), rng.integers(0, 3, 7)


@pytest.mark.parametrize("rule", fa.RULES)
def test_one_update_equals_the_one_written_out_by_hand(toy, rule):
    net, feedback, x, labels = toy
    got = fa.update(net, x, labels, rule, feedback)
    want, loss = reference_update(net, x, labels, None if rule == fa.BACKPROP else feedback)
    for name in ("w1", "b1", "w2", "b2"):
        np.testing.assert_allclose(getattr(got, name), want[name], rtol=0, atol=1e-6)
    assert got.loss == pytest.approx(loss, abs=1e-9)
    # the two rules differ: the hidden layer is told something else
    other = fa.FEEDBACK_ALIGNMENT if rule == fa.BACKPROP else fa.BACKPROP
    assert not np.allclose(got.w1, fa.update(net, x, labels, other, feedback).w1)
    np.testing.assert_array_equal(got.w2, fa.update(net, x, labels, other, feedback).w2)


def test_backpropagation_is_tensorflows_gradient(toy):
    import tensorflow as tf

    net, feedback, x, labels = toy
    weights = [tf.Variable(w) for w in (net.w1, net.b1, net.w2, net.b2)]
    with tf.GradientTape() as tape:
        h = tf.nn.relu(x @ weights[0] + weights[1])
        scores = h @ weights[2] + weights[3]
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=scores)
        )
    grads = tape.gradient(loss, weights)
    got = fa.update(net, x, labels, fa.BACKPROP, feedback)
    for mine, theirs in zip((got.w1, got.b1, got.w2, got.b2), grads, strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=0, atol=1e-6)
    assert got.loss == pytest.approx(float(loss), abs=1e-9)


def test_feedback_through_w2s_own_transpose_is_backpropagation(toy):
    net, _, x, labels = toy
    same = fa.update(net, x, labels, fa.FEEDBACK_ALIGNMENT, net.w2.T)
    true = fa.update(net, x, labels, fa.BACKPROP, None)
    np.testing.assert_array_equal(same.w1, true.w1)
    assert fa.angle_degrees(same.w1, true.w1) == pytest.approx(0.0, abs=1e-5)


def test_a_step_moves_every_weight_by_minus_the_rate_times_its_update(toy):
    net, feedback, x, labels = toy
    before = net.copy()
    step = fa.update(net, x, labels, fa.FEEDBACK_ALIGNMENT, feedback)
    fa.apply(net, step, 0.3)
    for name in ("w1", "b1", "w2", "b2"):
        np.testing.assert_allclose(
            getattr(net, name), getattr(before, name) - 0.3 * getattr(step, name), atol=1e-12
        )


def test_angles():
    assert fa.angle_degrees(np.array([1.0, 0]), np.array([0, 2.0])) == pytest.approx(90)
    assert fa.angle_degrees(np.array([1.0, 1]), np.array([-1.0, -1])) == pytest.approx(180)
    assert fa.angle_degrees(np.zeros(3), np.ones(3)) == 90.0


def test_both_rules_learn_and_feedback_alignment_turns_towards_the_gradient():
    x, y = synthetic_digits(1200, seed=0)
    settings = fa.Settings(hidden=48, steps=400, batch=32, learning_rate=0.1, checkpoints=4)
    seen = []
    curves = fa.side_by_side(x[:1000], y[:1000], x[1000:], y[1000:], settings, seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    bp, fb = curves[fa.BACKPROP], curves[fa.FEEDBACK_ALIGNMENT]
    assert bp.steps == fb.steps == [0, 100, 200, 300, 400]
    # the same start: the same accuracy before any step
    assert bp.test_accuracy[0] == fb.test_accuracy[0] < 0.3
    assert bp.test_accuracy[-1] > 0.8 and fb.test_accuracy[-1] > 0.8
    assert bp.train_loss[0] is None and bp.train_loss[-1] < bp.train_loss[1]
    assert fb.train_loss[-1] < fb.train_loss[1]
    assert bp.angle == [0.0] * 5
    # a random matrix starts near 90 degrees from the gradient; learning brings them together
    assert 80 < fb.angle[0] < 100
    assert fb.angle[-1] < 60 and fb.angle[-1] < fb.angle[0] - 20
    assert set(fb.to_dict()) == {"rule", "steps", "train_loss", "test_accuracy", "angle_degrees"}


@pytest.mark.parametrize(
    "change",
    [
        {"hidden": 0},
        {"hidden": fa.MAX_HIDDEN + 1},
        {"steps": 10**9},
        {"batch": 1.5},
        {"batch": True},
        {"learning_rate": 0},
        {"learning_rate": float("nan")},
        {"learning_rate": fa.MAX_LEARNING_RATE * 2},
        {"learning_rate": "0.1"},
        {"seed": -1},
    ],
)
def test_settings_a_browser_could_send_are_checked(change):
    with pytest.raises(ValueError):
        fa.check_settings(fa.Settings(**change))


def test_an_unknown_rule_is_refused(toy):
    net, feedback, x, labels = toy
    with pytest.raises(ValueError, match="unknown rule"):
        fa.update(net, x, labels, "hebbian", feedback)


# -- the run a page starts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "seed"), [(999, 0), (1000, 5), (1000, -1), (True, 0), (1000, True), ("1000", 0)]
)
def test_a_page_may_ask_only_for_the_runs_it_offers(steps, seed):
    with pytest.raises(ValueError):
        fa.lesson_settings(steps, seed)


def test_a_page_run_uses_a_slice_of_the_data_and_says_so_in_its_summary():
    data = tiny_mnist(600, 150)
    settings = fa.lesson_settings(fa.LESSON_STEPS[0], 1)
    assert settings.hidden == fa.LESSON_HIDDEN
    run = fa.lesson_run(data, settings)
    assert (run["train_images"], run["test_images"]) == (600, 150)
    assert run["data"] == "MNIST"  # no folder is named to students
    bp, fb = run["curves"]
    assert (bp["rule"], fb["rule"]) == (fa.BACKPROP, fa.FEEDBACK_ALIGNMENT)
    text = fa.lesson_summary(run)
    assert f"{bp['test_accuracy'][-1]:.1%}" in text and f"{fb['test_accuracy'][-1]:.1%}" in text
    assert f"to {fb['angle_degrees'][-1]:.1f}" in text
    downhill = "below 90 degrees, its updates point downhill" in text
    assert downhill == (fb["angle_degrees"][-1] < 90)
    stuck = dict(run, curves=[bp, dict(fb, angle_degrees=[91.0, 95.0])])
    assert "not below 90 degrees" in fa.lesson_summary(stuck)
