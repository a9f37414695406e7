"""The cortex page's summaries of a report, checked against counts done by hand on made-up fits
(the page shows these numbers; it computes none of them)."""

from types import SimpleNamespace

import numpy as np
import pytest

from mnist_viz.neuro.cortex import GOOD_FIT, CortexReport
from mnist_viz.neuro.tuning import Tuning


def _report() -> CortexReport:
    kernels = np.arange(4 * 9, dtype=np.float32).reshape(4, 3, 3)
    # R² 0.9, 0.5, 0.8, 0.75 at orientations 2°, 40°, 95°, 178° (178 wraps to the 0° bin)
    gabors = [
        SimpleNamespace(r2=r2, orientation=o, fitted=-k)
        for r2, o, k in zip([0.9, 0.5, 0.8, 0.75], [2, 40, 95, 178], kernels, strict=True)
    ]
    dogs = [SimpleNamespace(r2=r2) for r2 in [0.2, 0.6, 0.1, 0.9]]
    responses = np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])  # unit 0 tuned, 1 flat
    tunings = {
        ("conv1", "grating"): Tuning("conv1", "grating", (0, 45, 90, 135), responses),
        ("conv1", "bar"): Tuning("conv1", "bar", (0, 45, 90, 135), responses[:, ::-1]),
    }
    return CortexReport("conv1", kernels, gabors, dogs, tunings, {}, {})


def test_fit_summaries_match_a_count_by_hand():
    report = _report()
    assert GOOD_FIT == 0.7  # the hand count below assumes it
    assert report.well_fitted.tolist() == [True, False, True, True]
    assert report.best_fitted_kernel == 0
    assert report.n_well_fitted == 3
    assert report.orientations_covered == 2
    assert report.median_gabor_r2 == pytest.approx(0.775)
    assert report.median_dog_r2 == pytest.approx(0.4)
    # well fitted at 2°, 95°, 178°: bins centred on 0° (2 and 178) and 90°
    assert report.orientation_counts.tolist() == [2, 0, 0, 1, 0, 0]
    assert report.centre_surround_wins == 2  # kernels 1 (0.6 > 0.5) and 3 (0.9 > 0.75)


def test_kernels_sit_beside_their_fits():
    report = _report()
    pairs = report.kernels_beside_fits()
    assert pairs.shape == (8, 3, 3)
    assert np.array_equal(pairs[2], report.kernels[1]) and np.array_equal(
        pairs[3], -report.kernels[1]
    )
    one = report.kernels_beside_fits(2)
    assert np.array_equal(one, np.stack([report.kernels[2], -report.kernels[2]]))


def test_selectivity_summaries():
    report = _report()
    grating = report.tunings[("conv1", "grating")]
    # unit 0 answers one orientation only (OSI 1), unit 1 all alike (OSI 0)
    assert grating.selectivity == pytest.approx([1.0, 0.0], abs=1e-9)
    assert grating.most_selective_unit == 0
    assert report.tunings[("conv1", "bar")].most_selective_unit == 1
    labels, counts = grating.selectivity_histogram()
    assert labels == ["0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0"]
    assert counts.tolist() == [1, 0, 0, 0, 1]
    assert report.median_selectivity("grating") == {"conv1": pytest.approx(0.5)}
