"""Occlusion sensitivity (Zeiler and Fergus 2014): cover part of the digit with a black patch and
measure how much the predicted class's probability drops; all patch positions go in one batch."""

from __future__ import annotations

import keras
import numpy as np

from mnist_viz.core.model import predict_proba, to_model_input

PATCH = 6
STRIDE = 2


def occlusion_map(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | None = None,
    patch: int = PATCH,
    stride: int = STRIDE,
    fill: float = 0.0,
) -> np.ndarray:
    """(28, 28): for each pixel, the mean drop in the class's probability over all patches that
    cover it (negative where covering it makes the class more likely)."""
    maps = occlusion_maps(model, image, patch, stride, fill)
    if class_index is None:
        class_index = int(predict_proba(model, image)[0].argmax())
    return maps[int(class_index)]


def occlusion_maps(
    model: keras.Model,
    image: np.ndarray,
    patch: int = PATCH,
    stride: int = STRIDE,
    fill: float = 0.0,
) -> np.ndarray:
    """(10, 28, 28): ``occlusion_map`` for every class; one batch of patches serves all ten."""
    x = to_model_input(image)[0, ..., 0]
    base = predict_proba(model, x)[0]
    size = x.shape[0]
    starts = range(0, size - patch + 1, stride)
    positions = [(r, col) for r in starts for col in starts]
    batch = np.repeat(x[None], len(positions), axis=0)
    for i, (r, col) in enumerate(positions):
        batch[i, r : r + patch, col : col + patch] = fill
    drops = base[None] - predict_proba(model, batch)  # (positions, 10)
    total = np.zeros((drops.shape[1], *x.shape), dtype=np.float64)
    count = np.zeros(x.shape, dtype=np.float64)
    for drop, (r, col) in zip(drops, positions, strict=True):
        total[:, r : r + patch, col : col + patch] += drop[:, None, None]
        count[r : r + patch, col : col + patch] += 1
    return (total / np.maximum(count, 1)).astype(np.float32)
