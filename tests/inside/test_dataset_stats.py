"""Class counts, mean images, samples and confusions, against direct computations."""

import numpy as np
import pytest

from mnist_viz.inside import dataset_stats


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


def sheared_bar(shear: float) -> np.ndarray:
    """A vertical bar sheared so its top moves ``shear`` px right per px of height."""
    image = np.zeros((28, 28), np.float32)
    for row in range(4, 24):
        col = 14 + shear * (14 - row)
        image[row, round(col) - 1 : round(col) + 2] = 1.0
    return image


@pytest.mark.parametrize("shear", [-0.3, 0.0, 0.25, 0.5])
def test_slant_is_the_lean_of_the_strokes(shear):
    """A bar whose top leans right by s px per px leans atan(s); upright is 0."""
    slant = dataset_stats.slant_degrees(sheared_bar(shear)[None])[0]
    assert slant == pytest.approx(np.degrees(np.arctan(shear)), abs=2.5)


def test_ink_share_and_per_digit_comparison():
    a = np.zeros((4, 28, 28), np.uint8)
    a[:, :14] = 255  # half the frame inked
    b = np.stack([sheared_bar(0.5)] * 4)
    assert dataset_stats.ink_share(a).tolist() == [0.5] * 4
    np.testing.assert_allclose(dataset_stats.ink_share(b), b.mean(axis=(1, 2)))
    rows = dataset_stats.compare_sources((a, np.array([0, 0, 1, 1])), (b, np.array([0, 1, 1, 1])))
    assert rows[0]["first_count"] == 2 and rows[0]["second_count"] == 1
    assert rows[1]["first_ink"] == 0.5 and rows[2]["first_count"] == 0
    assert rows[1]["second_slant"] == pytest.approx(26.6, abs=2.5)
    text = dataset_stats.difference_summary(rows, "A", "B")
    assert text.startswith("On average B digits lean 5.2° and A digits 0.0° to the right")
    assert "differ most in slant" in text


def test_class_counts_can_count_renderings():
    assert (
        dataset_stats.class_counts(np.array([0, 0, 3]), times=2).tolist() == [4, 0, 0, 2] + [0] * 6
    )
