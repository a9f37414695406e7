"""Explanation maps drawn without exaggeration, on planted cases: a negative effect is drawn as
negative, a negligible map is announced, and two classes share one scale; every method's
all-classes map equals its one-class map."""

import keras
import numpy as np
import pytest

from mnist_viz.core.architecture import Architecture, build
from mnist_viz.core.model import LOGITS, PROBABILITIES
from mnist_viz.explain.explanations import (
    METHODS,
    NEGLIGIBLE_PROBABILITY,
    explain,
    explain_all,
    methods_for,
)
from mnist_viz.explain.reading import Unit, read, shared_limit
from mnist_viz.view import describe, render

SUPPORT = (slice(4, 12), slice(4, 12))  # ink here raises class 1's logit
OPPOSE = (slice(16, 24), slice(16, 24))  # ink here lowers it
METHOD = {m.name: m for m in METHODS}


def planted_model() -> keras.Model:
    """A linear model with planted weights: class 1 for ink in SUPPORT, against it in OPPOSE;
    class 0 the balance; class 9 far below the rest whatever the digit (bias -30, no weights)."""
    w = np.zeros((28, 28, 10), np.float32)
    w[SUPPORT[0], SUPPORT[1], 1] = 0.08
    w[OPPOSE[0], OPPOSE[1], 1] = -0.08
    bias = np.zeros(10, np.float32)
    bias[0], bias[2:] = 1.0, -6.0
    bias[9] = -30.0
    inputs = keras.Input((28, 28, 1))
    logits = keras.layers.Dense(10, name=LOGITS)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Activation("softmax", name=PROBABILITIES)(logits))
    model.get_layer(LOGITS).set_weights([w.reshape(784, 10), bias])
    return model


def planted_digit() -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[SUPPORT] = 1.0
    image[OPPOSE] = 1.0
    return image


@pytest.fixture(scope="module")
def planted():
    model = planted_model()
    return model, planted_digit(), explain_all(model, planted_digit())


def test_occlusion_draws_a_negative_effect_as_negative(planted):
    model, image, maps = planted
    reading = read(maps["occlusion"], 1, METHOD["occlusion"].unit(model), signed=True)
    # covering the supporting ink lowers P(1): positive drops; covering the opposing ink raises
    # it: negative drops, which a clipped drawing would have shown as nothing
    assert reading.values[8, 8] > 0.01 and reading.values[20, 20] < -0.01
    drawn = render.overlay(image, reading.values, reading.limit, reading.signed, scale=1)
    red, blue = drawn[8, 8].astype(int), drawn[20, 20].astype(int)
    assert red[0] > red[2] + 40  # red: covering lowers the probability
    assert blue[2] > blue[0] + 40  # blue: covering raises it
    assert not reading.negligible and reading.verdict() is None
    assert "-" in reading.range_text() and "+" in reading.range_text()
    assert "pp" in reading.range_text()


def test_a_class_at_zero_percent_is_announced_as_negligible_and_drawn_faint(planted):
    model, image, maps = planted
    unit = METHOD["occlusion"].unit(model)
    reading = read(maps["occlusion"], 9, unit, signed=True)
    assert reading.peak < NEGLIGIBLE_PROBABILITY
    assert reading.negligible
    assert "Negligible for 9" in reading.verdict() and "1.0 pp" in reading.verdict()
    # on the shared scale its largest value is a tiny share of full colour (the old drawing
    # stretched it to its own maximum: full colour)
    drawn = render.overlay(image, reading.values, reading.limit, reading.signed, scale=1)
    plain = render.grey_image(image)
    assert np.abs(drawn.astype(int) - plain.astype(int)).max() <= 2
    assert reading.verdict() in describe.attribution("Occlusion", reading)


def test_two_classes_share_one_scale_and_equal_values_get_equal_colours(planted):
    model, image, maps = planted
    for method in methods_for(model):
        unit = method.unit(model)
        first = read(maps[method.name], 0, unit, method.signed)
        second = read(maps[method.name], 1, unit, method.signed)
        assert first.limit == second.limit == shared_limit(maps[method.name], unit)
        assert first.limit >= np.abs(maps[method.name]).max()
    # equal values in two classes' maps get equal colours: one scale, not one per map
    unit = METHOD["occlusion"].unit(model)
    maps10 = np.zeros((10, 28, 28), np.float32)
    maps10[2, 3, 3] = maps10[5, 3, 3] = 0.004
    maps10[5, 20, 20] = 0.3  # class 5's map also has a large value elsewhere
    two, five = read(maps10, 2, unit, True), read(maps10, 5, unit, True)
    drawn_two = render.overlay(image, two.values, two.limit, True, scale=1)
    drawn_five = render.overlay(image, five.values, five.limit, True, scale=1)
    assert np.array_equal(drawn_two[3, 3], drawn_five[3, 3])
    value = np.full((28, 28), 0.004, np.float32)
    # the same value looks weaker on a larger scale: the colour is absolute, not per map
    assert (
        np.abs(render.overlay(image * 0, value, 0.1, True, scale=1).astype(int)).sum()
        < np.abs(render.overlay(image * 0, value, 0.01, True, scale=1).astype(int)).sum()
    )


@pytest.mark.parametrize("name", ["saliency", "smoothgrad"])
def test_gradient_maps_are_the_planted_weights_and_a_class_without_weights_is_negligible(
    planted, name
):
    model, _, maps = planted
    unit = METHOD[name].unit(model)
    assert unit.symbol == "logit/ink"
    weights = planted_model().get_layer(LOGITS).get_weights()[0].reshape(28, 28, 10)
    # an independent reference: a linear score's gradient is its weights, whatever the input
    np.testing.assert_allclose(maps[name][1], np.abs(weights[..., 1]), atol=1e-6)
    supporting = read(maps[name], 1, unit, METHOD[name].signed)
    assert not supporting.negligible and supporting.high == pytest.approx(0.08, rel=1e-5)
    nothing = read(maps[name], 9, unit, METHOD[name].signed)
    assert nothing.negligible and nothing.high == 0.0
    assert "nowhere does it reach 0.010 logit/ink" in nothing.verdict()


def test_grad_cam_of_a_class_without_weights_is_negligible():
    model = build(Architecture("t", filters=(4, 6), dense=8))
    logits = model.get_layer(LOGITS)
    kernel, bias = logits.get_weights()
    kernel[:, 9] = 0.0  # class 9 reads nothing: every place's share of its score is zero
    logits.set_weights([kernel, bias])
    image = planted_digit()
    maps = explain_all(model, image)
    unit = METHOD["gradcam"].unit(model)
    assert read(maps["gradcam"], 9, unit, False).negligible
    assert read(maps["gradcam"], 9, unit, False).limit == shared_limit(maps["gradcam"], unit)


def test_every_method_gives_all_ten_classes_as_it_gives_one():
    model = build(Architecture("t", filters=(4, 6), dense=8))
    image = np.random.default_rng(3).uniform(0, 1, (28, 28)).astype(np.float32)
    every = explain_all(model, image)
    for c in (0, 4, 9):
        one = explain(model, image, c)
        for name, values in one.items():
            np.testing.assert_allclose(every[name][c], values, rtol=1e-4, atol=1e-6)


def test_a_scale_never_stretches_noise_to_full_colour():
    unit = Unit("thing", "u", negligible=0.01)
    maps = np.zeros((10, 28, 28), np.float32)
    maps[3, 5, 5] = 1e-5  # every class negligible
    reading = read(maps, 3, unit, signed=False)
    assert reading.limit == 0.01 and reading.negligible
    drawn = render.overlay(np.zeros((28, 28)), reading.values, reading.limit, False, scale=1)
    assert drawn.max() <= 1


def test_units_write_signed_values_and_no_negative_zero():
    pp = Unit("the class's probability", "pp", factor=100, places=1, negligible=0.01)
    assert pp.text(0.096, signed=True) == "+9.6 pp"
    assert pp.text(-0.096, signed=True) == "-9.6 pp"
    assert pp.text(-0.0001, signed=True) == "0.0 pp"
    reading = read(np.stack([np.full((28, 28), -0.05)] * 10), 2, pp, signed=True)
    assert reading.scale_ends() == ("-5.0", "+5.0")
    assert reading.scale_text() == "colour scale -5.0 to +5.0 pp, the same for all ten classes"
    assert reading.range_text() == "from -5.0 pp to -5.0 pp"


def test_the_text_alternative_carries_the_numbers(planted):
    model, _, maps = planted
    reading = read(maps["occlusion"], 1, METHOD["occlusion"].unit(model), signed=True)
    alt = describe.attribution("Occlusion", reading)
    assert reading.range_text() in alt and reading.scale_text() in alt
    assert "Red, strongest at" in alt and "blue, strongest at" in alt
    legend = describe.attribution_scale("Occlusion", reading)
    assert reading.scale_text() in legend and "blue below zero" in legend


def test_captions_say_exactly_what_is_drawn():
    model = build(Architecture("t", filters=(4, 6), dense=8))
    assert "mean of |gradient|" in METHOD["smoothgrad"].describe(model)
    assert "|d score / d pixel|" in METHOD["saliency"].describe(model)
    assert "ReLU" in METHOD["gradcam"].describe(model)
    occlusion = METHOD["occlusion"].describe(model)
    assert "Red" in occlusion and "blue" in occlusion
