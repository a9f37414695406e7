"""Receptive fields: which input pixels a unit of each layer can see.

Theoretical: the standard recurrence over the layers (Araujo, Norris and Sim 2019, "Computing
receptive fields of convolutional neural networks"): size r_l = r_(l-1) + (k_l - 1) * j_(l-1), jump
j_l = j_(l-1) * s_l, and the centre of unit 0, start_l = start_(l-1) + ((k_l - 1) / 2) * j_(l-1).
Effective: the gradient of one unit with respect to the input (Luo et al. 2016, "Understanding the
effective receptive field"): usually concentrated in the middle of the theoretical field.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from mnist_viz.core.data import IMAGE_SIZE
from mnist_viz.core.model import to_model_input


@dataclass(frozen=True)
class Geometry:
    """Where a layer's units look in the input, in input pixels."""

    size: int  # side of the square receptive field
    jump: int  # distance between neighbouring units' fields
    start: float  # centre of unit (0, 0)'s field


def layer_geometry(model: keras.Model) -> dict[str, Geometry]:
    """The theoretical receptive field of every spatial layer (Conv2D and pooling, valid padding)."""
    out = {}
    size, jump, start = 1, 1, 0.0
    for layer in model.layers:
        kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
        if kernel is None:
            if isinstance(layer, keras.layers.InputLayer):
                out[layer.name] = Geometry(size, jump, start)
            continue
        k = int(kernel[0])
        s = int(layer.strides[0])
        size = size + (k - 1) * jump
        start = start + (k - 1) / 2 * jump
        jump = jump * s
        out[layer.name] = Geometry(size, jump, start)
    return out


def field_box(geometry: Geometry, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), inclusive, of unit (row, col)'s receptive field in the input."""
    half = (geometry.size - 1) / 2
    top = geometry.start + row * geometry.jump - half
    left = geometry.start + col * geometry.jump - half
    return (
        round(top),
        round(left),
        round(top + geometry.size - 1),
        round(left + geometry.size - 1),
    )


def effective_field(
    model: keras.Model, layer: str, images: np.ndarray, channel: int | None = None
) -> np.ndarray:
    """(28, 28) mean |d unit / d input| of the layer's centre unit (summed over channels, or one
    ``channel``), averaged over ``images``."""
    probe = keras.Model(model.input, model.get_layer(layer).output)
    x = tf.constant(to_model_input(images))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = probe(x, training=False)
        h, w = out.shape[1] // 2, out.shape[2] // 2
        unit = out[:, h, w, :] if channel is None else out[:, h, w, channel]
        total = tf.reduce_sum(unit)
    grads = tape.gradient(total, x).numpy()[..., 0]
    return np.abs(grads).mean(axis=0)


def coverage(geometry: Geometry, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), inclusive and within the 28 x 28 input, of every pixel some
    unit of a ``height`` x ``width`` layer can see: what a layer reading all of it can see."""
    top, left, _, _ = field_box(geometry, 0, 0)
    _, _, bottom, right = field_box(geometry, height - 1, width - 1)
    last = IMAGE_SIZE - 1
    return max(0, top), max(0, left), min(last, bottom), min(last, right)
