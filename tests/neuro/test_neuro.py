"""Gabor and DoG fits recover known parameters; tuning curves of hand-made filters peak where they
must; orientation selectivity is right on textbook cases."""

import keras
import numpy as np
import pytest

from mnist_viz.core.model import CONV1
from mnist_viz.neuro import gabor, tuning


def test_gabor_fit_recovers_a_synthetic_gabor():
    kernel = gabor.gabor(11, orientation=30, frequency=0.15, phase=0.5, sigma=2.5, amplitude=2.0)
    fit = gabor.fit_gabor(kernel)
    assert fit.r2 > 0.999
    assert fit.orientation == pytest.approx(30, abs=1)
    assert fit.frequency == pytest.approx(0.15, abs=0.005)
    assert fit.sigma == pytest.approx(2.5, abs=0.05)
    assert fit.phase == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("orientation", [0, 45, 90, 135])
def test_gabor_fit_finds_the_orientation_of_a_3x3_edge(orientation):
    kernel = gabor.gabor(3, orientation, frequency=0.25, phase=np.pi / 2, sigma=1.2)
    fit = gabor.fit_gabor(kernel)
    assert fit.r2 > 0.99
    difference = abs((fit.orientation - orientation + 90) % 180 - 90)
    assert difference < 5


def test_vertical_stripes_mean_orientation_90():
    kernel = gabor.gabor(9, orientation=90, frequency=0.2, phase=0, sigma=3)
    # vertical stripes: once the Gaussian envelope (sigma 3) is divided out, every column is
    # constant from top to bottom, while a row varies from column to column
    envelope = np.exp(-((np.arange(9) - 4) ** 2) / (2 * 3**2))
    stripes = kernel / envelope[:, None]
    assert np.allclose(stripes, stripes[4][None, :])
    assert np.ptp(kernel[4]) > 0.5


def test_dog_fit_recovers_a_centre_surround_kernel():
    kernel = gabor.dog(9, sigma_centre=1.0, sigma_surround=2.5, centre=1.0, surround=0.4)
    fit = gabor.fit_dog(kernel)
    assert fit.r2 > 0.999
    assert fit.sigma_centre == pytest.approx(1.0, abs=0.05)
    assert fit.sigma_surround == pytest.approx(2.5, abs=0.1)
    assert fit.centre > 0  # on-centre


def test_orientation_histogram_bins_wrap_around():
    assert gabor.orientation_histogram(np.array([0, 179, 31, 90, 92]), bins=6).tolist() == [
        2,
        1,
        0,
        2,
        0,
        0,
    ]


def edge_model(kernels: list[np.ndarray]) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(len(kernels), 3, activation="relu", name=CONV1)
    model = keras.Model(inputs, conv(inputs))
    weights = np.stack(kernels, axis=-1)[:, :, None, :].astype(np.float32)
    conv.set_weights([weights, np.zeros(len(kernels), np.float32)])
    return model


def test_tuning_of_hand_made_edge_filters_peaks_at_their_orientation():
    vertical = np.array(
        [[-1, 0, 1]] * 3, float
    )  # responds to left-dark/right-bright: vertical edges
    horizontal = vertical.T
    # dark upper left, bright lower right: the boundary runs from lower left to upper right, "/",
    # which is 45 degrees counter-clockwise from horizontal on screen
    diagonal = np.array([[-1, -1, 0], [-1, 0, 1], [0, 1, 1]], float)
    model = edge_model([vertical, horizontal, diagonal])
    for stimulus in ("grating", "bar"):
        result = tuning.measure(model, CONV1, stimulus)
        peaks = np.asarray(result.orientations)[result.responses.argmax(axis=0)]
        # a 3x3 diagonal is coarse: a bar's peak may land one 15-degree step away
        np.testing.assert_allclose(peaks, [90, 0, 45], atol=0 if stimulus == "grating" else 15)
        # 3x3 edge filters are broadly tuned (measured OSI 0.26-0.40), but clearly not flat
        assert np.all(result.selectivity > 0.2)
        np.testing.assert_allclose(result.preferred, [90, 0, 45], atol=8)


def test_osi_extremes():
    orientations = [0, 45, 90, 135]
    flat = np.ones((4, 1))
    single = np.array([[0.0], [0.0], [1.0], [0.0]])
    osi, preferred = tuning.orientation_selectivity(np.hstack([flat, single]), orientations)
    assert osi[0] == pytest.approx(0.0, abs=1e-9) and osi[1] == pytest.approx(1.0)
    assert preferred[1] == pytest.approx(90)


def test_stimuli_are_oriented_as_named():
    vertical_bar = tuning.bar(90)
    rows, cols = np.nonzero(vertical_bar > 0.5)
    assert np.ptp(rows) > 3 * np.ptp(cols)
    stripes = tuning.grating(0, 0.1)  # horizontal stripes: constant along each row
    assert np.allclose(stripes, stripes[:, :1])
