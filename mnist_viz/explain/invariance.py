"""Invariance probes: shift, rotate, scale and thicken or thin a digit step by step, and follow
the network's answer along each axis, to see where its tolerance ends.

Convolution and pooling give some tolerance to small shifts; nothing in the architecture gives
rotation or scale invariance: whatever there is was learned from MNIST's own variation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from scipy import ndimage as ndi

from mnist_viz.core.model import predict_proba, to_model_input

SHIFTS = tuple(range(-8, 9))  # pixels, horizontally
ANGLES = tuple(range(-90, 91, 10))  # degrees, counter-clockwise
SCALES = tuple(round(0.4 + 0.1 * i, 1) for i in range(13))  # 0.4 ... 1.6
THICKNESS = (-2, -1, 0, 1, 2)  # erosion (negative) or dilation steps of one pixel


def shift(image: np.ndarray, dx: float, dy: float = 0.0) -> np.ndarray:
    """Move the digit ``dx`` pixels right and ``dy`` down (bilinear, black comes in)."""
    return ndi.shift(image, (dy, dx), order=1, mode="constant", cval=0.0)


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise about the image centre."""
    return np.clip(ndi.rotate(image, degrees, reshape=False, order=1, mode="constant"), 0, 1)


def scale(image: np.ndarray, factor: float) -> np.ndarray:
    """Zoom about the image centre: > 1 enlarges (and may crop), < 1 shrinks."""
    size = image.shape[0]
    centre = (size - 1) / 2
    matrix = np.eye(2) / factor
    offset = centre - matrix @ np.array([centre, centre])
    return np.clip(
        ndi.affine_transform(image, matrix, offset=offset, order=1, mode="constant"), 0, 1
    )


def thickness(image: np.ndarray, steps: int) -> np.ndarray:
    """Thicker strokes (grey dilation, ``steps`` > 0) or thinner (erosion, ``steps`` < 0)."""
    out = image
    cross = ndi.generate_binary_structure(2, 1)
    for _ in range(abs(steps)):
        out = (
            ndi.grey_dilation(out, footprint=cross)
            if steps > 0
            else ndi.grey_erosion(out, footprint=cross)
        )
    return out


@dataclass(frozen=True)
class Probe:
    """The network's answer along one transformation axis."""

    name: str
    unit: str
    values: tuple[float, ...]
    images: np.ndarray  # (n, 28, 28) the transformed digits
    predicted: np.ndarray  # (n,) the class at each value
    confidence: np.ndarray  # (n,) its probability
    original_probability: np.ndarray  # (n,) the probability of the original answer

    def tolerated(self, neutral: float) -> tuple[float, float]:
        """The range of values around ``neutral`` over which the answer stays the original one."""
        values = np.asarray(self.values)
        i = int(np.argmin(np.abs(values - neutral)))
        same = self.predicted == self.predicted[i]
        low = i
        while low > 0 and same[low - 1]:
            low -= 1
        high = i
        while high < len(values) - 1 and same[high + 1]:
            high += 1
        return float(values[low]), float(values[high])


def probe(
    model: keras.Model,
    image: np.ndarray,
    name: str,
    unit: str,
    values: tuple[float, ...],
    transform: Callable[[np.ndarray, float], np.ndarray],
) -> Probe:
    """Apply ``transform(image, v)`` for every value, predict all of them in one batch."""
    x = to_model_input(image)[0, ..., 0]
    images = np.stack([transform(x, v) for v in values]).astype(np.float32)
    p = predict_proba(model, images)
    original = int(predict_proba(model, x).argmax())
    return Probe(name, unit, tuple(values), images, p.argmax(1), p.max(1), p[:, original])


def all_probes(model: keras.Model, image: np.ndarray) -> list[Probe]:
    """Shift, rotation, scale and stroke thickness, each over its standard range."""
    return [
        probe(model, image, "shift", "pixels", SHIFTS, shift),
        probe(model, image, "rotation", "degrees", ANGLES, rotate),
        probe(model, image, "scale", "x", SCALES, scale),
        probe(
            model, image, "stroke thickness", "pixels", THICKNESS, lambda x, s: thickness(x, int(s))
        ),
    ]


def shift_accuracy(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, shifts: tuple[int, ...] = SHIFTS
) -> np.ndarray:
    """(len(shifts),) the share of ``images`` still read right when shifted horizontally by each
    of ``shifts`` pixels: how far a network's shift tolerance reaches across a population."""
    x = to_model_input(images)[..., 0]
    out = []
    for dx in shifts:
        moved = np.stack([shift(im, dx) for im in x]).astype(np.float32)
        out.append(float(np.mean(predict_proba(model, moved).argmax(axis=1) == labels)))
    return np.array(out)
