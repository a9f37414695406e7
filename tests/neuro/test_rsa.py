"""RSA against independent computations: numpy's corrcoef for the RDM, a rank-then-Pearson
Spearman, and what identical and scrambled representations must give."""

import numpy as np
import pytest

from mnist_viz.core.architecture import Architecture, build
from mnist_viz.neuro import rsa


def test_rdm_is_one_minus_the_correlation_of_each_pair():
    responses = np.random.default_rng(0).normal(size=(12, 3, 3, 4))
    expected = 1 - np.corrcoef(responses.reshape(12, -1))
    np.testing.assert_allclose(rsa.rdm(responses), expected, atol=1e-12)


def test_a_silent_stimulus_is_unlike_every_other():
    responses = np.random.default_rng(1).normal(size=(5, 8))
    responses[2] = 0.0
    d = rsa.rdm(responses)
    assert d[2, 2] == 0.0 and np.all(np.delete(d[2], 2) == 1.0)


def test_compare_is_the_spearman_correlation_of_the_upper_triangles():
    rng = np.random.default_rng(2)
    a, b = rsa.rdm(rng.normal(size=(10, 6))), rsa.rdm(rng.normal(size=(10, 6)))
    upper = np.triu_indices(10, k=1)

    def ranks(v):
        return np.argsort(np.argsort(v)).astype(float)

    expected = np.corrcoef(ranks(a[upper]), ranks(b[upper]))[0, 1]
    assert rsa.compare(a, b) == pytest.approx(expected)
    assert rsa.compare(a, a) == pytest.approx(1.0)
    # any monotonic change of the dissimilarities keeps a rank correlation of 1
    assert rsa.compare(a, a**3 + 2) == pytest.approx(1.0)


def test_stimuli_are_grouped_by_class():
    labels = np.random.default_rng(3).integers(0, 10, 500)
    idx = rsa.stimuli(labels, per_class=4)
    assert len(idx) == 40 and list(labels[idx]) == [c for c in range(10) for _ in range(4)]


def test_a_network_compared_with_itself_matches_layer_for_layer():
    model = build(Architecture("t", filters=(4, 6), dense=8))
    images = np.random.default_rng(4).uniform(0, 1, (30, 28, 28)).astype(np.float32)
    rdms = rsa.layer_rdms(model, images)
    assert list(rdms) == ["conv1", "pool1", "conv2", "pool2", "dense", "logits"]
    sim = rsa.similarity(rdms, rdms)
    assert sim.shape == (6, 6)
    np.testing.assert_allclose(np.diag(sim), 1.0)
    mlp = build(Architecture("mlp", filters=(), dense=8))
    assert list(rsa.layer_rdms(mlp, images)) == ["dense", "logits"]
