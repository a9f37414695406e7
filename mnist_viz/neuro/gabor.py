"""Gabor and difference-of-Gaussians fits to convolution kernels.

A Gabor function (a sinusoid under a Gaussian envelope) describes the receptive fields of V1 simple
cells well (Jones and Palmer 1987); a difference of Gaussians (centre minus surround) describes
retinal ganglion and LGN cells (Rodieck 1965; Enroth-Cugell and Robson 1966).

Angles are in degrees, counter-clockwise as seen on screen. A kernel's *orientation* is the
orientation of its stripes (the edge or bar it prefers): 0 = horizontal, 90 = vertical.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares


@functools.cache
def centred_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates x to the right and y upwards, 0 at the centre of a (size, size) image
    (read-only: kept once per size, since a fit asks for it at every step)."""
    c = (size - 1) / 2
    rows, cols = np.mgrid[0:size, 0:size]
    x, y = cols - c, c - rows
    x.flags.writeable = y.flags.writeable = False
    return x, y


def across_stripes(x: np.ndarray, y: np.ndarray, orientation: float) -> np.ndarray:
    """Each point's position perpendicular to stripes at ``orientation`` degrees: the direction a
    grating's wave runs in."""
    across = np.deg2rad(orientation + 90.0)
    return x * np.cos(across) + y * np.sin(across)


def gabor(
    size: int,
    orientation: float,
    frequency: float,
    phase: float,
    sigma: float,
    amplitude: float = 1.0,
    offset: float = 0.0,
) -> np.ndarray:
    """A (size, size) Gabor: stripes at ``orientation`` degrees, ``frequency`` cycles per pixel
    across them, ``phase`` in radians, a round Gaussian envelope of ``sigma`` pixels."""
    x, y = centred_grid(size)
    u = across_stripes(x, y, orientation)
    envelope = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    return amplitude * envelope * np.cos(2 * np.pi * frequency * u + phase) + offset


def dog(
    size: int,
    sigma_centre: float,
    sigma_surround: float,
    centre: float,
    surround: float,
    offset: float = 0.0,
) -> np.ndarray:
    """A (size, size) difference of Gaussians: ``centre`` * narrow - ``surround`` * wide."""
    x, y = centred_grid(size)
    r2 = x**2 + y**2
    return (
        centre * np.exp(-r2 / (2 * sigma_centre**2))
        - surround * np.exp(-r2 / (2 * sigma_surround**2))
        + offset
    )


def _r2(kernel: np.ndarray, fitted: np.ndarray) -> float:
    total = float(np.sum((kernel - kernel.mean()) ** 2))
    return 1.0 - float(np.sum((kernel - fitted) ** 2)) / total if total > 0 else 0.0


@dataclass(frozen=True)
class GaborFit:
    orientation: float  # degrees in [0, 180)
    frequency: float  # cycles per pixel
    phase: float  # radians
    sigma: float
    amplitude: float
    offset: float
    r2: float  # share of the kernel's variance the fit explains
    fitted: np.ndarray


def fit_gabor(kernel: np.ndarray) -> GaborFit:
    """Least-squares Gabor fit from several starting points (orientations x phases x
    frequencies); the best fit wins. Frequencies are limited to the Nyquist limit, 0.5."""
    kernel = np.asarray(kernel, np.float64)
    size = kernel.shape[0]
    scale = float(np.abs(kernel).max()) or 1.0

    def residual(p):
        return (gabor(size, *p) - kernel).ravel()

    lower = [-360.0, 0.0, -4 * np.pi, 0.3, -10 * scale, -scale]
    upper = [360.0, 0.5, 4 * np.pi, 2.0 * size, 10 * scale, scale]
    best = None
    for theta, freq in _spectral_guesses(kernel):
        for phase in (0.0, np.pi / 2):  # the amplitude's sign covers pi and -pi/2
            start = [theta, freq, phase, size / 3, scale, 0.0]
            result = least_squares(residual, start, bounds=(lower, upper))
            if best is None or result.cost < best.cost:
                best = result
    theta, freq, phase, sigma, amplitude, offset = best.x
    if amplitude < 0:  # the same function with the sign moved into the phase
        amplitude, phase = -amplitude, phase + np.pi
    phase = (phase + np.pi) % (2 * np.pi) - np.pi
    fitted = gabor(size, theta, freq, phase, sigma, amplitude, offset)
    return GaborFit(
        float(theta % 180),
        float(freq),
        float(phase),
        float(sigma),
        float(amplitude),
        float(offset),
        _r2(kernel, fitted),
        fitted,
    )


def _spectral_guesses(kernel: np.ndarray, pad: int = 32) -> list[tuple[float, float]]:
    """Starting (orientation, frequency) pairs: the strongest frequency in the zero-padded
    kernel's spectrum, plus horizontal and vertical stripes as fall-backs."""
    spectrum = np.abs(np.fft.fft2(kernel - kernel.mean(), (pad, pad)))
    spectrum[0, 0] = 0
    fy, fx = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    fy = fy - pad if fy > pad // 2 else fy
    fx = fx - pad if fx > pad // 2 else fx
    # the array's row axis points down, our y axis up: flip the sign of the vertical frequency
    freq = float(np.hypot(fx, fy) / pad)
    wave = np.rad2deg(np.arctan2(-fy, fx))
    guess = (float((wave - 90) % 180), float(np.clip(freq, 0.05, 0.5)))
    return [guess, (0.0, 0.25), (90.0, 0.25)]


@dataclass(frozen=True)
class DogFit:
    sigma_centre: float
    sigma_surround: float
    centre: float  # > 0: on-centre (bright centre excites); < 0: off-centre
    surround: float
    offset: float
    r2: float
    fitted: np.ndarray


def fit_dog(kernel: np.ndarray) -> DogFit:
    """Least-squares centre-surround fit (on- and off-centre starts)."""
    kernel = np.asarray(kernel, np.float64)
    size = kernel.shape[0]
    scale = float(np.abs(kernel).max()) or 1.0

    def residual(p):
        return (dog(size, *p) - kernel).ravel()

    lower = [0.2, 0.3, -10 * scale, -10 * scale, -scale]
    upper = [size, 3.0 * size, 10 * scale, 10 * scale, scale]
    best = None
    for sign in (1.0, -1.0):
        for sc, ss in ((0.5, 1.5), (1.0, 3.0), (size / 4, size / 2)):
            start = [sc, ss, sign * scale, sign * scale / 2, 0.0]
            result = least_squares(residual, start, bounds=(lower, upper))
            if best is None or result.cost < best.cost:
                best = result
    fitted = dog(size, *best.x)
    sc, ss, c, s, o = best.x
    return DogFit(float(sc), float(ss), float(c), float(s), float(o), _r2(kernel, fitted), fitted)


def orientation_histogram(orientations: np.ndarray, bins: int = 6) -> np.ndarray:
    """Counts of orientations in ``bins`` equal bins over [0, 180), centred on 0, 30, 60, ..."""
    width = 180 / bins
    idx = np.floor(((np.asarray(orientations) + width / 2) % 180) / width).astype(int)
    return np.bincount(idx, minlength=bins)
