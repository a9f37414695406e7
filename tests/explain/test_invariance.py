"""The probes' transformations do what they say, checked on measurable quantities."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from mnist_viz.core.model import build_model
from mnist_viz.explain import invariance


@pytest.fixture
def bar() -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[6:22, 12:16] = 1.0  # a vertical bar, centred
    return image


def test_shift_moves_the_centre_of_mass(bar):
    before = np.array(ndi.center_of_mass(bar))
    after = np.array(ndi.center_of_mass(invariance.shift(bar, 3)))
    np.testing.assert_allclose(after - before, [0, 3], atol=1e-6)


def test_rotation_by_90_degrees_turns_a_vertical_bar_horizontal(bar):
    turned = invariance.rotate(bar, 90)
    rows, cols = np.nonzero(turned > 0.5)
    assert np.ptp(cols) > np.ptp(rows) * 2
    np.testing.assert_allclose(invariance.rotate(bar, 0), bar, atol=1e-6)


def test_scale_changes_the_size_about_the_centre(bar):
    np.testing.assert_allclose(invariance.scale(bar, 1.0), bar, atol=1e-6)
    rows = np.nonzero(invariance.scale(bar, 0.5).max(axis=1) > 0.5)[0]
    assert 7 <= np.ptp(rows) + 1 <= 9  # 16 px tall -> 8 px
    centre = np.array(ndi.center_of_mass(invariance.scale(bar, 0.5)))
    np.testing.assert_allclose(centre, ndi.center_of_mass(bar), atol=0.6)


def test_thickness_adds_or_removes_a_pixel_each_side(bar):
    assert (invariance.thickness(bar, 1) > 0.5).sum(axis=1)[13] == 6
    assert (invariance.thickness(bar, -1) > 0.5).sum(axis=1)[13] == 2


def test_probe_follows_the_answer_along_an_axis(bar):
    model = build_model()
    probes = invariance.all_probes(model, bar)
    assert [p.name for p in probes] == ["shift", "rotation", "scale", "stroke thickness"]
    for p in probes:
        assert len(p.values) == len(p.predicted) == len(p.confidence) == len(p.images)
    # the range holds the neutral value, ends where the answer changes, and is consistent
    # with the predictions it summarises
    for p, neutral in zip(probes, (0, 0, 1, 0), strict=True):
        low, high = p.tolerated(neutral)
        inside = [v for v in p.values if low <= v <= high]
        centre = p.predicted[int(np.argmin(np.abs(np.asarray(p.values) - neutral)))]
        assert all(p.predicted[p.values.index(v)] == centre for v in inside)


def test_tolerated_range_stops_at_the_first_change_either_side():
    values = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
    probe = invariance.Probe(
        "shift",
        "px",
        values,
        np.zeros((7, 28, 28)),
        predicted=np.array([5, 3, 3, 3, 3, 7, 3]),  # a 3 that turns 7 at +2, back at +3
        confidence=np.ones(7),
        original_probability=np.ones(7),
    )
    assert probe.tolerated(0) == (-2.0, 1.0)
    assert probe.tolerated(0.4) == (-2.0, 1.0)  # the nearest sampled value is the centre
    assert probe.tolerated(3) == (3.0, 3.0)
    assert probe.tolerated(-3) == (-3.0, -3.0)


def test_shift_accuracy_counts_the_digits_read_right_at_each_shift():
    from mnist_viz.core.architecture import Architecture, build
    from mnist_viz.core.model import predict_proba

    model = build(Architecture("t", filters=(4,), dense=8))
    images = np.random.default_rng(0).uniform(0, 1, (12, 28, 28)).astype(np.float32)
    labels = predict_proba(model, images).argmax(axis=1)  # its own answers: all right unshifted
    got = invariance.shift_accuracy(model, images, labels, shifts=(-6, 0, 6))
    # by hand: shift each digit, ask the model one digit at a time
    by_hand = [
        np.mean(
            [
                predict_proba(model, invariance.shift(im, dx)).argmax() == y
                for im, y in zip(images, labels, strict=True)
            ]
        )
        for dx in (-6, 0, 6)
    ]
    np.testing.assert_allclose(got, by_hand)
    assert got[1] == 1.0
