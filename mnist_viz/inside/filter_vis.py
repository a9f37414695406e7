"""What each filter wants to see: activation maximisation and the test images that excite it most.

Activation maximisation (Erhan et al. 2009; Simonyan et al. 2013): start from a black image with a
little noise and climb the gradient of one unit (the filter's centre unit) with respect to the
input, keeping pixels in [0, 1] (MNIST's range), with a small decay towards black and, for conv2,
a light blur now and then (Yosinski et al. 2015) so the result is readable rather than noise.
All filters of a layer are optimised together, one image each, in one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from scipy import ndimage as ndi

from mnist_viz.core.architecture import conv_layers
from mnist_viz.core.model import to_model_input
from mnist_viz.inside.receptive_field import field_box, layer_geometry

STEPS = 200
STEP_SIZE = 0.05
DECAY = 0.002
TOP_IMAGES = 9
BATCH = 1000


def _centre(model: keras.Model, layer: str) -> tuple[int, int]:
    h, w = model.get_layer(layer).output.shape[1:3]
    return h // 2, w // 2


def maximise(
    model: keras.Model,
    layer: str,
    steps: int = STEPS,
    step_size: float = STEP_SIZE,
    decay: float = DECAY,
    blur_sigma: float = 0.0,
    blur_every: int = 10,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """(channels, 28, 28) in [0, 1]: for each channel, an input that drives its centre unit high.

    ``layer`` is a Conv2D layer; its pre-activation (before the ReLU) is climbed, so a unit that
    starts below zero still has a gradient to follow.
    """
    conv = model.get_layer(layer)
    below = keras.Model(model.input, conv.input)  # what the layer reads
    kernel, bias = conv.kernel, conv.bias
    channels = int(kernel.shape[-1])
    row, col = _centre(model, layer)
    rng = np.random.default_rng(seed)
    x = tf.Variable(rng.uniform(0.0, 0.1, (channels, 28, 28, 1)).astype(np.float32))
    picks = tf.range(channels)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            pre = tf.nn.conv2d(below(x, training=False), kernel, conv.strides, "VALID") + bias
            out = pre[:, row, col, :]  # (images, channels): image i climbs channel i
            objective = tf.reduce_sum(tf.gather(out, picks, axis=1, batch_dims=1))
        grad = tape.gradient(objective, x)
        # normalise per image so every filter climbs at the same pace
        scale = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=[1, 2, 3], keepdims=True)) + 1e-8
        x.assign(tf.clip_by_value(x + step_size * grad / scale - decay * x, 0.0, 1.0))

    for i in range(steps):
        step()
        if blur_sigma > 0 and (i + 1) % blur_every == 0 and i + 1 < steps:
            x.assign(
                ndi.gaussian_filter(x.numpy(), (0, blur_sigma, blur_sigma, 0)).astype(np.float32)
            )
        if progress is not None and (i + 1) % 20 == 0:
            progress((i + 1) / steps)
    return x.numpy()[..., 0]


def centre_box(model: keras.Model, layer: str) -> tuple[int, int, int, int]:
    """The receptive field of the layer's centre unit, (top, left, bottom, right) inclusive."""
    return field_box(layer_geometry(model)[layer], *_centre(model, layer))


@dataclass(frozen=True)
class TopImages:
    """For every channel of a layer, the test images that excite it most and where."""

    indices: np.ndarray  # (channels, k) test-image indices, strongest first
    activations: np.ndarray  # (channels, k) the channel's maximum over positions in that image
    boxes: (
        np.ndarray
    )  # (channels, k, 4) receptive field of the winning unit: top, left, bottom, right

    @property
    def silent_channels(self) -> int:
        """Channels that no test image drives above zero (dead filters)."""
        return int(np.sum(self.activations[:, 0] <= 0))


def top_images(
    model: keras.Model, layer: str, images: np.ndarray, k: int = TOP_IMAGES
) -> TopImages:
    """Scan ``images`` in batches; keep, per channel, each image's best unit, then the top ``k``."""
    probe = keras.Model(model.input, model.get_layer(layer).output)
    geometry = layer_geometry(model)[layer]
    x = to_model_input(images)
    best, where = [], []
    for i in range(0, len(x), BATCH):
        out = probe(tf.constant(x[i : i + BATCH]), training=False).numpy()  # (n, h, w, c)
        n, h, w, c = out.shape
        flat = out.reshape(n, h * w, c)
        best.append(flat.max(axis=1))
        where.append(flat.argmax(axis=1))
    best, where = np.concatenate(best), np.concatenate(where)  # (N, c)
    w = int(model.get_layer(layer).output.shape[2])
    order = np.argsort(-best, axis=0, kind="stable")[:k].T  # (c, k)
    channels = np.arange(order.shape[0])[:, None]
    positions = where[order, channels]
    boxes = np.array(
        [[field_box(geometry, p // w, p % w) for p in row] for row in positions], dtype=np.int64
    )
    return TopImages(order, best[order, channels], boxes)


# The first convolution's optimum is exact (it sees pixels); deeper ones read better smoothed.
FIRST_LAYER_BLUR, DEEPER_LAYER_BLUR = 0.0, 0.5


@dataclass(frozen=True)
class FilterReport:
    """Everything the filter page shows for one layer."""

    layer: str
    preferred: np.ndarray  # (channels, 28, 28) activation-maximisation images
    crop: tuple[int, int, int, int]  # the centre unit's field plus a margin: what is worth showing
    top: TopImages


def filter_reports(
    model: keras.Model, test_images: np.ndarray, progress: Callable[[float], None] | None = None
) -> dict[str, FilterReport]:
    """Activation maximisation and top test images for every filter of every convolution (none
    for a network without convolutions)."""
    layers = [layer.name for layer in conv_layers(model)]
    reports = {}
    for i, layer in enumerate(layers):

        def step(f: float, i: int = i) -> None:
            if progress is not None:
                progress((i + 0.8 * f) / len(layers))

        blur = FIRST_LAYER_BLUR if i == 0 else DEEPER_LAYER_BLUR
        images = maximise(model, layer, blur_sigma=blur, progress=step)
        top, left, bottom, right = centre_box(model, layer)
        crop = (max(0, top - 2), max(0, left - 2), min(27, bottom + 2), min(27, right + 2))
        reports[layer] = FilterReport(layer, images, crop, top_images(model, layer, test_images))
        if progress is not None:
            progress((i + 1) / len(layers))
    return reports
