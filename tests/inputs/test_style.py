"""The style check: Mahalanobis distances in the last hidden layer, against an independent
computation (scipy), bars set by MNIST's own test digits, and the feedback's conditions."""

import keras
import numpy as np
import pytest
from conftest import tiny_mnist
from scipy.spatial.distance import mahalanobis

from mnist_viz.core.model import build_model
from mnist_viz.core.training import TrainConfig, train_model
from mnist_viz.inputs import style


@pytest.fixture(scope="module")
def trained():
    data = tiny_mnist(800, 400)
    model = train_model(data, TrainConfig(epochs=2, batch_size=64, augment=False)).model
    reference = style.fit_reference(
        model, data.x_train, data.y_train, data.x_test, data.y_test, per_class=60
    )
    return data, model, reference


def test_the_features_are_the_input_of_the_last_dense_layer():
    assert style.feature_model(build_model()).output.shape[1:] == (128,)
    mlp = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
    mlp.add(keras.layers.Dense(32, activation="relu"))
    mlp.add(keras.layers.Dense(10))
    assert style.feature_model(mlp).output.shape[1:] == (32,)
    with pytest.raises(ValueError):
        style.feature_model(keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()]))


def test_distances_match_scipy(trained):
    data, model, reference = trained
    feats = style.features(style.feature_model(model), data.x_test[:5])
    ours = reference.distances(feats)
    for i in range(5):
        for c in (0, 3, 9):
            expected = mahalanobis(feats[i], reference.means[c], reference.precision)
            assert ours[i, c] == pytest.approx(expected, rel=1e-6)


def test_the_bar_is_exceeded_by_about_one_percent_of_each_class(trained):
    data, model, reference = trained
    feats = style.features(style.feature_model(model), data.x_test)
    own = reference.distances(feats)[np.arange(len(data.y_test)), data.y_test]
    beyond = own > reference.thresholds[data.y_test]
    assert 0 < beyond.sum() <= 0.02 * len(beyond) + 10  # a few per class at the 99th percentile
    # the class means are the means of the reference digits' features, class by class
    for c in range(10):
        chosen = reference.reference_features[reference.labels == c]
        np.testing.assert_allclose(reference.means[c], chosen.mean(axis=0))


def test_a_typical_digit_is_not_flagged_and_an_odd_one_is(trained):
    data, model, reference = trained
    extractor = style.feature_model(model)
    probabilities = np.zeros(10)
    typical = data.x_test[0]
    probabilities[data.y_test[0]] = 0.6  # even when unsure, a typical shape gets no feedback
    probabilities[(data.y_test[0] + 1) % 10] = 0.4
    check = style.check_style(reference, extractor, typical, probabilities)
    assert not check.unusual and not check.worth_saying

    odd = np.zeros((28, 28), np.uint8)
    odd[2:26, 12:16] = 255  # a vertical bar: no synthetic class has one
    odd[12:16, 2:26] = 255
    check = style.check_style(reference, extractor, odd, probabilities)
    assert check.unusual and check.worth_saying
    assert check.predicted == data.y_test[0] and check.runner_up == (data.y_test[0] + 1) % 10
    text = check.message()
    assert f"This {check.predicted} is unlike" in text and "60%" in text
    # the same odd shape, read with confidence, is not worth a warning
    sure = np.eye(10)[check.predicted] * 0.98 + 0.002
    assert not style.check_style(reference, extractor, odd, sure).worth_saying


def test_neighbours_are_the_nearest_reference_digits_of_each_class(trained):
    data, model, reference = trained
    extractor = style.feature_model(model)
    image = data.x_test[1]
    probabilities = np.eye(10)[data.y_test[1]] * 0.7 + 0.03
    check = style.check_style(reference, extractor, image, probabilities, k=3)
    feats = style.features(extractor, image[None])[0]
    for c, shown in check.neighbours.items():
        members = np.flatnonzero(reference.labels == c)
        gaps = np.linalg.norm(reference.reference_features[members] - feats, axis=1)
        expected = reference.images[members[np.argsort(gaps)[:3]]]
        np.testing.assert_array_equal(shown, expected)
        assert len(shown) == 3
