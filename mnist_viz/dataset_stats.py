"""Summaries of the digits: class counts, mean images, samples, and misclassified examples."""

from __future__ import annotations

import numpy as np

from mnist_viz.data import NUM_CLASSES


def class_counts(labels: np.ndarray) -> np.ndarray:
    """Number of images of each class 0-9."""
    return np.bincount(np.asarray(labels, np.int64), minlength=NUM_CLASSES)


def mean_images(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(10, 28, 28) float32 in [0, 1]: the average image of each class (zeros for a missing one)."""
    labels = np.asarray(labels)
    out = np.zeros((NUM_CLASSES, *images.shape[1:]), np.float32)
    for c in range(NUM_CLASSES):
        members = images[labels == c]
        if len(members):
            # Sum in float64 so 6,000 images of 0-255 lose nothing; scale like the model's input.
            out[c] = members.astype(np.float64).mean(axis=0) / 255.0
    return out


def sample_per_class(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """(10, per_class) indices: a random sample of each class, -1 where a class has too few."""
    rng = np.random.default_rng(seed)
    out = np.full((NUM_CLASSES, per_class), -1, np.int64)
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(np.asarray(labels) == c)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        out[c, : len(chosen)] = np.sort(chosen)
    return out


def confused_indices(
    labels: np.ndarray, predictions: np.ndarray, true: int, predicted: int
) -> np.ndarray:
    """Indices of the images of class ``true`` that the model called ``predicted``."""
    return np.flatnonzero((np.asarray(labels) == true) & (np.asarray(predictions) == predicted))
