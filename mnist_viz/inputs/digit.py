"""The user's current digit (drawn, uploaded or picked from the test set) and what to say about
the network's prediction for it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from mnist_viz.core.data import NUM_CLASSES
from mnist_viz.core.preprocess import PreprocessStages, preprocess
from mnist_viz.view.render import to_bytes

DRAWING, UPLOAD, TEST_SET, PUSHED = "drawing", "upload", "test set", "pushed"
LOW_CONFIDENCE = 0.70  # below this the runner-up is a real alternative; the learner is told
# Share of the 28x28 pixels that are ink (> 0.5) in MNIST training digits: 0.1% quantile 3.6%,
# 99.9% quantile 29% (measured). A blob or a scribble lands far outside this range.
INK_RANGE = (0.03, 0.32)


@dataclass(frozen=True)
class Digit:
    """A 28x28 digit in MNIST's format and where it came from."""

    image: np.ndarray  # (28, 28) uint8, white ink on black, exactly as MNIST stores digits
    source: str  # DRAWING, UPLOAD or TEST_SET
    description: str  # for people: "your drawing", "photo.jpg", "test image #123"
    label: int | None = None  # the true class, when known (test-set digits)
    stages: PreprocessStages | None = None  # preprocessing stages, for drawings and uploads

    @property
    def key(self) -> str:
        """A short fingerprint of the pixels, to cache per-digit results (e.g. attack gradients)."""
        return hashlib.sha1(np.ascontiguousarray(self.image).tobytes()).hexdigest()[:16]


def from_image(image, source: str, description: str) -> Digit:
    """Preprocess a drawing or uploaded file the MNIST way. Raises ``ImageError`` /
    ``BlankImageError`` (subclass) when it cannot be read or holds no ink."""
    stages = preprocess(image)
    return Digit(to_bytes(stages.centred), source, description, stages=stages)


def from_test_set(images: np.ndarray, labels: np.ndarray, index: int) -> Digit:
    """Test image ``index`` with its true label."""
    return Digit(
        np.asarray(images[index], np.uint8),
        TEST_SET,
        f"test image #{index}",
        label=int(labels[index]),
    )


def from_push(image: np.ndarray, label: int | None, text: str) -> Digit:
    """A digit the teacher pushed to everyone (already in MNIST's format), with its label when
    the teacher gave one."""
    what = f"pushed by the teacher: {text}" if text else "pushed by the teacher"
    return Digit(np.asarray(image, np.uint8), PUSHED, what, label=label)


def random_test_digit(
    images: np.ndarray, labels: np.ndarray, digit: int | None = None
) -> tuple[int, Digit]:
    """A random test digit (of class ``digit`` unless it is None) and its index."""
    index = random_index(labels, digit, np.random.default_rng())
    return index, from_test_set(images, labels, index)


def random_index(labels: np.ndarray, digit: int | None, rng: np.random.Generator) -> int:
    """A random index into ``labels``, restricted to class ``digit`` unless it is None."""
    candidates = np.flatnonzero(labels == digit) if digit is not None else np.arange(len(labels))
    if len(candidates) == 0:
        raise ValueError(f"there is no test image of a {digit}")
    return int(rng.choice(candidates))


@dataclass(frozen=True)
class Verdict:
    """The prediction for one digit, with the caveats a learner should see beside it."""

    digit: int
    confidence: float
    runner_up: int
    runner_up_probability: float
    notes: tuple[str, ...]

    @property
    def is_confident(self) -> bool:
        return not self.notes


def ink_fraction(image: np.ndarray) -> float:
    """Share of pixels brighter than half intensity in a 28x28 image."""
    return float(np.mean(to_bytes(image) > 127))


def judge(probabilities: np.ndarray, image: np.ndarray) -> Verdict:
    """The predicted class, its probability, the runner-up, and warnings about doubtful inputs."""
    probabilities = np.asarray(probabilities, np.float64).reshape(NUM_CLASSES)
    # a value that is not a number (a broken model) is never the answer: it sorts last
    order = np.argsort(np.nan_to_num(probabilities, nan=-np.inf))[::-1]
    best, second = int(order[0]), int(order[1])
    notes = []
    if probabilities[best] < LOW_CONFIDENCE:
        notes.append(
            f"Low confidence: the network is torn between {best} ({probabilities[best]:.0%}) "
            f"and {second} ({probabilities[second]:.0%})."
        )
    ink = ink_fraction(image)
    if not INK_RANGE[0] <= ink <= INK_RANGE[1]:
        notes.append(
            f"This does not look like a handwritten digit: {ink:.0%} of its pixels are ink, "
            f"while MNIST digits have {INK_RANGE[0]:.0%}-{INK_RANGE[1]:.0%}. The network must "
            "still answer with one of 0-9, so the prediction means little here."
        )
    return Verdict(
        best, float(probabilities[best]), second, float(probabilities[second]), tuple(notes)
    )
