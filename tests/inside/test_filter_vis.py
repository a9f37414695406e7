"""Activation maximisation finds what a hand-made filter wants; top images are the strongest."""

import keras
import numpy as np
import pytest

from mnist_viz.core.model import CONV1, build_model
from mnist_viz.inside.filter_vis import (
    TopImages,
    _centre,
    centre_box,
    filter_reports,
    maximise,
    top_images,
)


def one_filter_model(kernel: np.ndarray) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(1, 3, activation="relu", name=CONV1)
    model = keras.Model(inputs, keras.layers.Flatten()(conv(inputs)))
    conv.set_weights([kernel.reshape(3, 3, 1, 1).astype(np.float32), np.zeros(1, np.float32)])
    return model


def test_a_linear_filter_is_maximised_by_ink_where_its_weights_are_positive():
    # maximising sum(k * patch) with pixels in [0, 1] has one answer: 1 where k > 0, 0 where k < 0
    kernel = np.array([[1.0, -1.0, 0.5], [-0.5, 2.0, -2.0], [0.3, -0.3, 1.0]])
    model = one_filter_model(kernel)
    image = maximise(model, CONV1, steps=150)[0]
    top, left, bottom, right = centre_box(model, CONV1)
    patch = image[top : bottom + 1, left : right + 1]
    np.testing.assert_allclose(patch, (kernel > 0).astype(float), atol=0.05)
    outside = np.ones_like(image, bool)
    outside[top : bottom + 1, left : right + 1] = False
    assert image[outside].max() < 0.1  # pixels the unit cannot see decay towards black


def test_every_filter_of_the_real_layers_gets_an_image_that_drives_it_harder():
    keras.utils.set_random_seed(0)  # the same untrained weights every run
    model = build_model()
    images = maximise(model, "conv2", steps=20)
    assert images.shape == (64, 28, 28) and images.min() >= 0 and images.max() <= 1
    # each channel's centre unit, before its ReLU, on the start (faint noise) and on its image
    conv = model.get_layer("conv2")
    below = keras.Model(model.input, conv.input)
    row, col = _centre(model, "conv2")
    start = np.random.default_rng(0).uniform(0.0, 0.1, (64, 28, 28, 1)).astype(np.float32)

    def centre_units(x: np.ndarray) -> np.ndarray:
        pre = conv.convolution_op(below(x), conv.kernel) + conv.bias
        return np.asarray(pre)[np.arange(64), row, col, np.arange(64)]

    before, after = centre_units(start), centre_units(images[..., None])
    assert (after > before).all(), np.flatnonzero(after <= before)


def test_top_images_are_the_strongest_and_their_boxes_hold_the_peak():
    kernel = np.zeros((3, 3))
    kernel[1, 1] = 1.0  # responds to the brightness of one pixel
    model = one_filter_model(kernel)
    rng = np.random.default_rng(0)
    images = (rng.uniform(0, 0.5, (40, 28, 28)) * 255).astype(np.uint8)
    images[7, 10, 20] = 255  # the brightest pixel of all, in image 7
    images[3, 5, 5] = 250
    result = top_images(model, CONV1, images, k=2)
    assert result.indices[0].tolist() == [7, 3]
    assert result.activations[0, 0] == pytest.approx(1.0)
    top, left, bottom, right = result.boxes[0, 0]
    assert top <= 10 <= bottom and left <= 20 <= right and bottom - top == 2


def test_filter_reports_cover_every_convolution_and_none_for_an_mlp():
    from mnist_viz.core.architecture import Architecture, build
    from mnist_viz.neuro.cortex import cortex_report

    images = np.random.default_rng(0).uniform(0, 1, (20, 28, 28)).astype(np.float32)
    three = build(Architecture("t", filters=(2, 3, 2), dense=4))
    reports = filter_reports(three, images)
    assert list(reports) == ["conv1", "conv2", "conv3"]
    assert [len(r.preferred) for r in reports.values()] == [2, 3, 2]
    mlp = build(Architecture("mlp", filters=(), dense=4))
    assert filter_reports(mlp, images) == {}
    with pytest.raises(ValueError, match="no convolutions"):
        cortex_report(mlp, images)


def test_silent_channels_are_those_no_image_drives_above_zero():
    activations = np.array([[0.0, 0.0], [0.5, 0.1], [-0.2, -0.3]])  # strongest first
    tops = TopImages(np.zeros((3, 2), int), activations, np.zeros((3, 2, 4), int))
    assert tops.silent_channels == 2
