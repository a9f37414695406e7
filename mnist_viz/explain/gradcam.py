"""Grad-CAM (Selvaraju et al. 2017) on the last convolution layer: where in the image the
features that vote for a class were found.

Each conv2 channel is weighted by the mean gradient of the class score over its map; the weighted
sum, through a ReLU, is a coarse 11 x 11 map, placed back on the 28 x 28 input at the centres of
the units' receptive fields.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf
from scipy import ndimage as ndi

from mnist_viz.core.architecture import last_conv
from mnist_viz.core.model import class_scorer, to_model_input
from mnist_viz.inside.receptive_field import layer_geometry


def gradcam(
    model: keras.Model, image: np.ndarray, class_index: int | None = None, layer: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(coarse map at the layer's resolution, the same map on the 28 x 28 input), both >= 0.
    ``layer``: by default the model's last convolution, found from the model (Selvaraju et al.
    use the last convolutional layer); ``ValueError`` for a model without one (an MLP)."""
    layer = layer or _last_conv_name(model)
    x = tf.constant(to_model_input(image)[:1])
    probe = _probe(model, layer)
    with tf.GradientTape() as tape:
        maps, scores = probe(x, training=False)
        # the predicted class by default: the highest score is the highest probability
        c = int(tf.argmax(scores[0])) if class_index is None else int(class_index)
        score = scores[0, c]
    coarse = _cam(maps[0].numpy(), tape.gradient(score, maps)[0].numpy())
    return coarse, to_input_grid(coarse, model, layer)


def gradcam_all(model: keras.Model, image: np.ndarray, layer: str | None = None) -> np.ndarray:
    """(10, 28, 28): ``gradcam``'s input-grid map for every class, from one forward pass."""
    layer = layer or _last_conv_name(model)
    x = tf.constant(to_model_input(image)[:1])
    probe = _probe(model, layer)
    with tf.GradientTape(persistent=True) as tape:
        maps, scores = probe(x, training=False)
        per_class = [scores[0, c] for c in range(int(scores.shape[-1]))]
    values = maps[0].numpy()
    out = [_cam(values, tape.gradient(score, maps)[0].numpy()) for score in per_class]
    del tape
    return np.stack([to_input_grid(c, model, layer) for c in out]).astype(np.float32)


def _cam(maps: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """ReLU(sum_k alpha_k A_k), alpha_k the channel's mean gradient; maps, grads (h, w, C)."""
    weights = grads.mean(axis=(0, 1))
    return np.maximum((maps * weights).sum(axis=-1), 0.0)


def _last_conv_name(model: keras.Model) -> str:
    last = last_conv(model)
    if last is None:
        raise ValueError("Grad-CAM needs a convolution layer, and this network has none")
    return last.name


_PROBES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _probe(model: keras.Model, layer: str) -> keras.Model:
    """A sub-model returning (the layer's maps, the class scores); built once per model and layer."""
    probes = _PROBES.setdefault(model, {})
    if layer not in probes:
        outputs = [model.get_layer(layer).output, class_scorer(model)[0].output]
        probes[layer] = keras.Model(model.input, outputs)
    return probes[layer]


def to_input_grid(coarse: np.ndarray, model: keras.Model, layer: str) -> np.ndarray:
    """Place a layer's (h, w) map on the 28 x 28 input: unit (i, j) sits at the centre of its
    receptive field, and values between centres are interpolated linearly."""
    geometry = layer_geometry(model)[layer]
    size = model.input.shape[1]
    # input coordinate of unit i's centre: start + i * jump (see receptive_field)
    rows = (np.arange(size) - geometry.start) / geometry.jump
    grid_r, grid_c = np.meshgrid(rows, rows, indexing="ij")
    return ndi.map_coordinates(coarse, [grid_r, grid_c], order=1, mode="nearest")
