"""Class counts, mean images, samples and confusions, against direct computations."""

import numpy as np

from mnist_viz import dataset_stats


def test_class_counts_and_mean_images(tiny_data):
    counts = dataset_stats.class_counts(tiny_data.y_train)
    assert counts.sum() == len(tiny_data.y_train)
    means = dataset_stats.mean_images(tiny_data.x_train, tiny_data.y_train)
    for c in range(10):
        members = [x for x, y in zip(tiny_data.x_train, tiny_data.y_train, strict=True) if y == c]
        assert counts[c] == len(members)
        np.testing.assert_allclose(means[c], np.mean(members, axis=0) / 255.0, atol=1e-6)


def test_missing_class_gives_zeros():
    images = np.full((2, 28, 28), 255, np.uint8)
    means = dataset_stats.mean_images(images, np.array([1, 1]))
    assert means[1].max() == 1.0 and means[0].max() == 0.0


def test_sample_per_class_draws_only_that_class(tiny_data):
    picks = dataset_stats.sample_per_class(tiny_data.y_train, 5)
    assert picks.shape == (10, 5)
    for c in range(10):
        chosen = picks[c][picks[c] >= 0]
        assert np.all(tiny_data.y_train[chosen] == c) and len(set(chosen)) == len(chosen)


def test_confused_indices():
    labels = np.array([4, 4, 9, 4, 1])
    predictions = np.array([9, 4, 9, 9, 7])
    assert dataset_stats.confused_indices(labels, predictions, 4, 9).tolist() == [0, 3]
    assert dataset_stats.confused_indices(labels, predictions, 1, 1).tolist() == []
