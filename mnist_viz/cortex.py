"""The measurements behind "The network and the visual cortex", computed once per model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz import gabor, tuning
from mnist_viz.model import CONV1, CONV2, POOL1, POOL2
from mnist_viz.receptive_field import Geometry, effective_field, layer_geometry

FIELD_LAYERS = (CONV1, POOL1, CONV2, POOL2)
FIELD_IMAGES = 200  # test images the effective receptive fields are averaged over
GOOD_FIT = 0.7  # Gabor fits explaining at least this share of a kernel's variance count as good


@dataclass(frozen=True)
class CortexReport:
    kernels: np.ndarray  # (32, 3, 3) conv1's kernels
    gabor_fits: list[gabor.GaborFit]
    dog_fits: list[gabor.DogFit]
    tunings: dict[tuple[str, str], tuning.Tuning]  # (layer, stimulus) -> responses
    geometry: dict[str, Geometry]
    effective_fields: dict[str, np.ndarray]  # layer -> (28, 28)


def cortex_report(
    model: keras.Model, test_images: np.ndarray, progress: Callable[[float], None] | None = None
) -> CortexReport:
    """Gabor and DoG fits of conv1, tuning of conv1 and conv2 to gratings and bars, and receptive
    fields."""
    report = progress or (lambda f: None)
    kernels = np.moveaxis(model.get_layer(CONV1).get_weights()[0][:, :, 0, :], -1, 0)
    gabor_fits, dog_fits = [], []
    for i, k in enumerate(kernels):
        gabor_fits.append(gabor.fit_gabor(k))
        dog_fits.append(gabor.fit_dog(k))
        report(0.6 * (i + 1) / len(kernels))
    tunings = {}
    for j, (layer, stimulus) in enumerate(
        [(CONV1, "grating"), (CONV1, "bar"), (CONV2, "grating"), (CONV2, "bar")]
    ):
        tunings[(layer, stimulus)] = tuning.measure(model, layer, stimulus)
        report(0.6 + 0.3 * (j + 1) / 4)
    images = test_images[:FIELD_IMAGES]
    fields = {layer: effective_field(model, layer, images) for layer in FIELD_LAYERS}
    report(1.0)
    return CortexReport(kernels, gabor_fits, dog_fits, tunings, layer_geometry(model), fields)
