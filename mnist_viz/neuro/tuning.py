"""In-silico electrophysiology, as Hubel and Wiesel (1959, 1962) did with cats: show the network
gratings and bars at many orientations, record every channel, and draw tuning curves.

A channel's response to a stimulus is its mean activation over the whole map (the average firing
of a population of cells with the same receptive-field type at every position). For gratings it is
averaged over phases (a drifting grating) and the best spatial frequency is kept.
Orientation selectivity: OSI = |sum r(t) exp(2it)| / sum r(t) (1 minus the circular variance;
Ringach, Shapley and Hawken 2002): 0 for a unit that responds equally to all orientations, 1 for a
unit that responds to a single one. The preferred orientation is half the angle of that sum.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from mnist_viz.neuro.gabor import across_stripes, centred_grid

ORIENTATIONS = tuple(range(0, 180, 15))  # degrees: stripe orientation, 0 horizontal, 90 vertical
FREQUENCIES = (0.08, 0.12, 0.17, 0.25)  # cycles per pixel (MNIST strokes are 2-4 px wide)
PHASES = tuple(np.linspace(0, 2 * np.pi, 8, endpoint=False))
SIZE = 28


def grating(
    orientation: float, frequency: float, phase: float = 0.0, size: int = SIZE
) -> np.ndarray:
    """Sinusoidal stripes at ``orientation`` degrees, in [0, 1] (0.5 +/- 0.5)."""
    u = across_stripes(*centred_grid(size), orientation)
    return (0.5 + 0.5 * np.cos(2 * np.pi * frequency * u + phase)).astype(np.float32)


def bar(
    orientation: float, width: float = 3.0, length: float = 20.0, size: int = SIZE
) -> np.ndarray:
    """A white bar on black through the centre, ``width`` by ``length`` pixels (anti-aliased)."""
    x, y = centred_grid(size)
    a = across_stripes(x, y, orientation - 90.0)  # along the bar
    b = across_stripes(x, y, orientation)  # across it
    inside_w = np.clip(width / 2 + 0.5 - np.abs(b), 0, 1)
    inside_l = np.clip(length / 2 + 0.5 - np.abs(a), 0, 1)
    return (inside_w * inside_l).astype(np.float32)


@dataclass(frozen=True)
class Tuning:
    """Responses of every channel of a layer to oriented stimuli."""

    layer: str
    stimulus: str  # "grating" or "bar"
    orientations: tuple[float, ...]
    responses: np.ndarray  # (orientations, channels)

    @property
    def selectivity(self) -> np.ndarray:
        return orientation_selectivity(self.responses, self.orientations)[0]

    @property
    def preferred(self) -> np.ndarray:
        return orientation_selectivity(self.responses, self.orientations)[1]

    @property
    def most_selective_unit(self) -> int:
        return int(np.argmax(self.selectivity))

    def selectivity_histogram(self, bins: int = 5) -> tuple[list[str], np.ndarray]:
        """The units' orientation selectivity counted in ``bins`` equal bins over [0, 1], with
        each bin's label ("0.0-0.2", ...)."""
        edges = np.linspace(0, 1, bins + 1)
        labels = [f"{a:.1f}-{b:.1f}" for a, b in itertools.pairwise(edges)]
        return labels, np.histogram(self.selectivity, edges)[0]


def orientation_selectivity(responses: np.ndarray, orientations) -> tuple[np.ndarray, np.ndarray]:
    """(OSI, preferred orientation in degrees) per channel from (orientations, channels) responses."""
    r = np.maximum(np.asarray(responses, np.float64), 0.0)
    angles = np.deg2rad(np.asarray(orientations, np.float64))[:, None]
    vector = (r * np.exp(2j * angles)).sum(axis=0)
    total = r.sum(axis=0)
    osi = np.divide(np.abs(vector), total, out=np.zeros_like(total), where=total > 0)
    preferred = np.round(np.rad2deg(np.angle(vector)) / 2, 6) % 180  # round: -1e-14 is 0, not 180
    return osi, preferred


def _mean_response(probe: keras.Model, images: np.ndarray) -> np.ndarray:
    out = probe(tf.constant(images[..., None]), training=False).numpy()
    return out.mean(axis=(1, 2))  # (n, channels)


def measure(
    model: keras.Model,
    layer: str,
    stimulus: str = "grating",
    orientations=ORIENTATIONS,
    progress: Callable[[float], None] | None = None,
) -> Tuning:
    """Record every channel of ``layer`` for each orientation."""
    probe = keras.Model(model.input, model.get_layer(layer).output)
    rows = []
    for i, theta in enumerate(orientations):
        if stimulus == "grating":
            per_freq = []
            for f in FREQUENCIES:
                images = np.stack([grating(theta, f, p) for p in PHASES])
                per_freq.append(_mean_response(probe, images).mean(axis=0))
            rows.append(np.max(per_freq, axis=0))
        elif stimulus == "bar":
            rows.append(_mean_response(probe, bar(theta)[None])[0])
        else:
            raise ValueError(f"unknown stimulus {stimulus!r}")
        if progress is not None:
            progress((i + 1) / len(orientations))
    return Tuning(layer, stimulus, tuple(float(o) for o in orientations), np.array(rows))
