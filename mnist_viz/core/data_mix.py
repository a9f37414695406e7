"""What a network learns from: MNIST alone, or MNIST plus real people's pen-drawn digits.

MNIST's writers were American census staff and students around 1990; learners draw differently
(flagged 1s, hooked 9s, open 4s, slashed zeros, the shaky lines of a mouse or a finger). The
default mix adds ``pen_copies`` renderings of each of the 7,494 UCI pen-drawn digits by 30
writers (``pendigits``), drawn as the app's canvas draws strokes and read through the app's own
preprocessing, to MNIST's 60,000 training images.

Every training recipe (the standard one, the presets, the adversarial twins) takes its images
from ``training_set``, so they all learn from the same mix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from mnist_viz.core.data import MnistData
from mnist_viz.core.pendigits import PenDigits, load_pen_digits, render_for_training

MIX_MNIST = "mnist"
MIX_MNIST_PEN = "mnist+pen"
DATA_MIXES = (MIX_MNIST_PEN, MIX_MNIST)
MIX_LABELS = {
    MIX_MNIST_PEN: "MNIST and 7,494 real pen-drawn digits (the default)",
    MIX_MNIST: "MNIST alone",
}
DEFAULT_MIX = MIX_MNIST_PEN
DEFAULT_PEN_COPIES = 2  # renderings of each pen digit, each with its own size, pen and sampling
# Share of the pen 0s' renderings drawn with a slash through them: one of the 30 writers slashes
# their zeros, and so do many programmers and Nordic writers; MNIST's writers never did.
PEN_SLASHED_ZEROS = 0.2


@dataclass(frozen=True)
class Source:
    """One part of a training set, for the app and the cache's JSON."""

    name: str  # "MNIST" or "pen"
    description: str  # a sentence: where it came from and how much
    images: int  # training images it contributes

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class TrainingSet:
    """Training images (uint8, N x 28 x 28), their labels, and the sources they came from."""

    images: np.ndarray
    labels: np.ndarray
    sources: list[Source]


def check_mix(mix: str) -> str:
    """``mix`` if it is one of ``DATA_MIXES``; ``ValueError`` naming them otherwise."""
    if mix not in DATA_MIXES:
        raise ValueError(f"unknown data mix {mix!r}; choose {' or '.join(DATA_MIXES)}")
    return mix


def pen_source(pen: PenDigits, copies: int) -> Source:
    """How the pen digits enter training, in words."""
    return Source(
        "pen",
        f"{pen.describe()}, {copies} renderings each as drawn on the canvas",
        len(pen) * copies,
    )


def training_set(
    data: MnistData,
    mix: str = DEFAULT_MIX,
    *,
    augment: bool = True,
    seed: int = 0,
    pen_copies: int = DEFAULT_PEN_COPIES,
    pen_held_out: Iterable[int] = (),
    pen: PenDigits | None = None,
) -> TrainingSet:
    """The training images for ``mix``: MNIST's (with the handwriting augmentation's shapes and
    tablet recordings when ``augment``), then, for ``mnist+pen``, the pen digits of every writer
    not in ``pen_held_out`` (``pen``: already loaded, else the shipped copy)."""
    check_mix(mix)
    images = data.x_train
    if augment:
        from mnist_viz.core.augment import Augmentation, add_shapes, tablet_recordings

        varied = Augmentation()
        # shapes MNIST rarely has (crossed 7s, hooked 9s, flagged 1s, slashed 0s), then synthetic
        # tablet recordings (none by default since recipe 4: the real pen digits replace them)
        images = add_shapes(images, data.y_train, varied.shapes, seed, varied.slashed_zeros)
        images = tablet_recordings(images, varied.tablet, seed)
    sources = [Source("MNIST", data.describe(), len(images))]
    labels = data.y_train
    if mix == MIX_MNIST_PEN:
        pen = (pen or load_pen_digits()).without_writers(pen_held_out)
        pen_images, pen_labels = render_for_training(
            pen, pen_copies, seed, slashed_zeros=PEN_SLASHED_ZEROS if augment else 0.0
        )
        images = np.concatenate([images, pen_images])
        labels = np.concatenate([labels, pen_labels])
        sources.append(pen_source(pen, pen_copies))
    return TrainingSet(images, np.asarray(labels, np.uint8), sources)


def describe_sources(sources: list[dict]) -> str:
    """What a cached model learned from, in a few words for the sidebar: e.g. "MNIST (60,000
    images) and real pen-drawn digits (14,988 images)". Models cached before sources were kept
    give an empty string."""
    names = {"MNIST": "MNIST", "pen": "real pen-drawn digits"}
    parts = [f"{names.get(s['name'], s['name'])} ({s['images']:,} images)" for s in sources]
    return " and ".join(parts)
