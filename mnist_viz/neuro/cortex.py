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

    @property
    def gabor_r2(self) -> np.ndarray:
        """Each first-layer kernel's Gabor fit quality (R²)."""
        return np.array([f.r2 for f in self.gabor_fits])

    @property
    def dog_r2(self) -> np.ndarray:
        """Each first-layer kernel's difference-of-Gaussians fit quality (R²)."""
        return np.array([d.r2 for d in self.dog_fits])

    @property
    def median_gabor_r2(self) -> float:
        return float(np.median(self.gabor_r2))

    @property
    def median_dog_r2(self) -> float:
        return float(np.median(self.dog_r2))

    @property
    def well_fitted(self) -> np.ndarray:
        """Which kernels a Gabor fits well (R² at least ``GOOD_FIT``)."""
        return self.gabor_r2 >= GOOD_FIT

    @property
    def n_well_fitted(self) -> int:
        return int(self.well_fitted.sum())

    @property
    def orientations_covered(self) -> int:
        """How many of the 6 orientation bins hold a well-fitted kernel."""
        return int(np.count_nonzero(self.orientation_counts))

    @property
    def best_fitted_kernel(self) -> int:
        return int(np.argmax(self.gabor_r2))

    @property
    def orientation_counts(self) -> np.ndarray:
        """How many well-fitted kernels prefer each of 6 orientation bins (0, 30, ... 150°)."""
        orientations = np.array([f.orientation for f in self.gabor_fits])
        return gabor.orientation_histogram(orientations[self.well_fitted])

    @property
    def centre_surround_wins(self) -> int:
        """Kernels a difference of Gaussians fits better than a Gabor."""
        return int(np.sum(self.dog_r2 > self.gabor_r2))

    def kernels_beside_fits(self, index: int | None = None) -> np.ndarray:
        """Kernel, its Gabor fit, next kernel, its fit, ... (one kernel's pair with ``index``)."""
        chosen = range(len(self.kernels)) if index is None else [index]
        return np.array([m for i in chosen for m in (self.kernels[i], self.gabor_fits[i].fitted)])

    def median_selectivity(self, stimulus: str) -> dict[str, float]:
        """Each tuned layer's median orientation selectivity to ``stimulus``."""
        return {
            layer: float(np.median(self.tunings[(layer, stimulus)].selectivity))
            for layer in self.tuned_layers
        }


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
