"""Summaries of the digits: class counts, mean images, samples, and misclassified examples."""

from __future__ import annotations

import numpy as np

from mnist_viz.core.data import NUM_CLASSES


def class_counts(labels: np.ndarray, times: int = 1) -> np.ndarray:
    """Number of images of each class 0-9 (each counted ``times``: renderings per digit)."""
    return np.bincount(np.asarray(labels, np.int64), minlength=NUM_CLASSES) * times


def mean_images(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(10, 28, 28) float32 in [0, 1]: the average image of each class (zeros for a missing one)."""
    labels = np.asarray(labels)
    out = np.zeros((NUM_CLASSES, *images.shape[1:]), np.float32)
    for c in range(NUM_CLASSES):
        members = images[labels == c]
        if len(members):
            # Sum in float64 so 6,000 images of 0-255 lose nothing; scale like the model's input.
            out[c] = members.astype(np.float64).mean(axis=0) / 255.0
    return out


def sample_per_class(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """(10, per_class) indices: a random sample of each class, -1 where a class has too few."""
    rng = np.random.default_rng(seed)
    out = np.full((NUM_CLASSES, per_class), -1, np.int64)
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(np.asarray(labels) == c)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        out[c, : len(chosen)] = np.sort(chosen)
    return out


def confused_indices(
    labels: np.ndarray, predictions: np.ndarray, true: int, predicted: int
) -> np.ndarray:
    """Indices of the images of class ``true`` that the model called ``predicted``."""
    return np.flatnonzero((np.asarray(labels) == true) & (np.asarray(predictions) == predicted))


def slant_degrees(images: np.ndarray) -> np.ndarray:
    """Each image's slant from its second moments, in degrees: positive leans right (the top
    to the right of the foot), as a sheared upright stroke does; the measure deskewing uses."""
    x = np.asarray(images, np.float64)
    rows = np.arange(x.shape[1], dtype=np.float64)[:, None]
    cols = np.arange(x.shape[2], dtype=np.float64)[None, :]
    mass = x.sum(axis=(1, 2))
    mass = np.where(mass > 0, mass, 1.0)
    cy = (x * rows).sum(axis=(1, 2)) / mass
    cx = (x * cols).sum(axis=(1, 2)) / mass
    dy = rows[None] - cy[:, None, None]
    dx = cols[None] - cx[:, None, None]
    mu11 = (x * dx * dy).sum(axis=(1, 2))
    mu02 = (x * dy * dy).sum(axis=(1, 2))
    # y grows downward: a right-leaning stroke's x falls as y grows, so mu11 < 0
    return np.degrees(np.arctan(-mu11 / np.where(mu02 > 0, mu02, 1.0)))


def ink_share(images: np.ndarray) -> np.ndarray:
    """Each image's ink: the mean brightness of its 28 x 28 pixels, as a share of full white."""
    x = np.asarray(images, np.float64)
    scale = 255.0 if np.asarray(images).dtype == np.uint8 else 1.0
    return x.mean(axis=(1, 2)) / scale


def compare_sources(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> list[dict]:
    """Per digit, how two sets of (images, labels) differ: count, mean slant (degrees) and mean
    ink of each (``first_*``, ``second_*``)."""
    rows = []
    for digit in range(NUM_CLASSES):
        row: dict = {"digit": digit}
        for name, (images, labels) in (("first", first), ("second", second)):
            members = np.asarray(images)[np.asarray(labels) == digit]
            row[f"{name}_count"] = len(members)
            row[f"{name}_slant"] = float(slant_degrees(members).mean()) if len(members) else 0.0
            row[f"{name}_ink"] = float(ink_share(members).mean()) if len(members) else 0.0
        rows.append(row)
    return rows


def difference_summary(rows: list[dict], first: str, second: str) -> str:
    """``compare_sources``' rows in one sentence: mean slant and ink of both sets, and the digit
    whose slant differs most."""

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in rows]))

    most = max(rows, key=lambda r: abs(r["second_slant"] - r["first_slant"]))
    lean = "more" if most["second_slant"] > most["first_slant"] else "less"
    return (
        f"On average {second} digits lean {mean('second_slant'):.1f}° and {first} digits "
        f"{mean('first_slant'):.1f}° to the right; they cover {mean('second_ink'):.1%} and "
        f"{mean('first_ink'):.1%} of the frame with ink. The {most['digit']}s differ most in "
        f"slant: {second} {most['digit']}s lean {lean} ({most['second_slant']:.1f}° against "
        f"{most['first_slant']:.1f}°)."
    )
