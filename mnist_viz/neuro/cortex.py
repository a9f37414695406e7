"""The measurements behind "The network and the visual cortex", computed once per model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.architecture import conv_layers, spatial_layers
from mnist_viz.inside.receptive_field import Geometry, effective_field, layer_geometry
from mnist_viz.neuro import gabor, tuning

FIELD_IMAGES = 200  # test images the effective receptive fields are averaged over
GOOD_FIT = 0.7  # Gabor fits explaining at least this share of a kernel's variance count as good


@dataclass(frozen=True)
class CortexReport:
    first_layer: str  # the first convolution, whose kernels see pixels as V1 cells see light
    kernels: np.ndarray  # (filters, k, k) its kernels
    gabor_fits: list[gabor.GaborFit]
    dog_fits: list[gabor.DogFit]
    tunings: dict[tuple[str, str], tuning.Tuning]  # (layer, stimulus) -> responses
    geometry: dict[str, Geometry]
    effective_fields: dict[str, np.ndarray]  # layer -> (28, 28)

    @property
    def tuned_layers(self) -> list[str]:
        """The convolutions whose tuning was measured, input to output."""
        return list(dict.fromkeys(layer for layer, _ in self.tunings))

    @property
    def field_layers(self) -> list[str]:
        """The layers whose receptive fields were measured, input to output."""
        return list(self.effective_fields)


def cortex_report(
    model: keras.Model, test_images: np.ndarray, progress: Callable[[float], None] | None = None
) -> CortexReport:
    """Gabor and DoG fits of the first convolution's kernels, tuning of every convolution to
    gratings and bars, and every convolution's and pooling's receptive fields. ``ValueError``
    for a network without convolutions: there is nothing to compare with V1."""
    report = progress or (lambda f: None)
    convs = [layer.name for layer in conv_layers(model)]
    if not convs:
        raise ValueError(f"model {model.name!r} has no convolutions")
    kernels = np.moveaxis(model.get_layer(convs[0]).get_weights()[0][:, :, 0, :], -1, 0)
    gabor_fits, dog_fits = [], []
    for i, k in enumerate(kernels):
        gabor_fits.append(gabor.fit_gabor(k))
        dog_fits.append(gabor.fit_dog(k))
        report(0.6 * (i + 1) / len(kernels))
    tunings = {}
    recordings = [(layer, stimulus) for layer in convs for stimulus in ("grating", "bar")]
    for j, (layer, stimulus) in enumerate(recordings):
        tunings[(layer, stimulus)] = tuning.measure(model, layer, stimulus)
        report(0.6 + 0.3 * (j + 1) / len(recordings))
    images = test_images[:FIELD_IMAGES]
    fields = {
        layer.name: effective_field(model, layer.name, images) for layer in spatial_layers(model)
    }
    report(1.0)
    geometry = layer_geometry(model)
    return CortexReport(convs[0], kernels, gabor_fits, dog_fits, tunings, geometry, fields)
