"""A class model: a private copy of the served network fine-tuned on the class's labelled
drawings, replaying MNIST's digits in every batch so that it keeps what it knew (as "Teach it my
handwriting" does for one student, ``mnist_viz.inputs.personal``).

A fifth of the class's drawings (chosen at random, fixed by the seed) are held out: the before
and after figures are measured on those and on MNIST test digits, never on what it learned from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import keras
import numpy as np

from mnist_viz.core.model import evaluate
from mnist_viz.core.training import TrainingResult
from mnist_viz.inputs.personal import REPLAY_SHARE, fine_tune_copy, shifted_versions

CLASS_MODEL = "mnist_cnn_class"  # its name in the model cache
MIN_DRAWINGS = 20  # labelled drawings before a class model is worth training
HELD_OUT = 0.2
STEPS = 300
BATCH = 64
CHECK_DIGITS = 2000  # MNIST test digits for before and after (a fixed random sample)


@dataclass(frozen=True)
class ClassModelConfig:
    """How a class model was made (kept in the cache's JSON)."""

    base_model_sha256: str
    arch: dict  # the base network's architecture (``Architecture.to_dict()``)
    drawings: int
    held_out: int
    steps: int = STEPS
    replay_share: float = REPLAY_SHARE
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ClassModelResult:
    """Before and after, on the held-out class drawings and on MNIST test digits."""

    model: keras.Model
    config: ClassModelConfig
    before_class: float
    after_class: float
    before_mnist: float
    after_mnist: float
    seconds: float

    def training_result(self, mnist_per_class: list[float]) -> TrainingResult:
        """For the model cache (``ModelCache.save``)."""
        return TrainingResult(
            model=self.model,
            history={
                "loss": [],
                "accuracy": [],
                "test_loss": [],
                "test_accuracy": [self.after_mnist],
                "seconds": [self.seconds],
            },
            test_accuracy=self.after_mnist,
            per_class_accuracy=mnist_per_class,
            seconds=self.seconds,
            config=self.config,
        )


def split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices to learn from and indices held out (a fifth, at least one)."""
    order = np.random.default_rng(seed).permutation(n)
    held = max(1, round(HELD_OUT * n))
    return np.sort(order[held:]), np.sort(order[:held])


def mnist_check_digits(
    x_test: np.ndarray, y_test: np.ndarray, n: int = CHECK_DIGITS
) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST test digits a class model is judged on: a fixed random sample of ``n``."""
    pick = np.random.default_rng(0).permutation(len(y_test))[:n]
    return x_test[pick], y_test[pick]


def fine_tune(
    model: keras.Model,
    model_sha256: str,
    arch: dict,
    images: np.ndarray,
    labels: np.ndarray,
    mnist_x: np.ndarray,
    mnist_y: np.ndarray,
    check_x: np.ndarray,
    check_y: np.ndarray,
    progress: Callable[[float], None] | None = None,
    seed: int = 0,
) -> ClassModelResult:
    """Fine-tune a copy of ``model`` on the class's ``images`` (uint8) and ``labels``."""
    if len(labels) < MIN_DRAWINGS:
        raise ValueError(f"a class model needs at least {MIN_DRAWINGS} labelled drawings")
    start = time.perf_counter()
    learn, held = split(len(labels), seed)
    rng = np.random.default_rng(seed)
    own_x, own_y = shifted_versions(images[learn] / 255.0, labels[learn], shift=1)
    report = progress or (lambda _: None)
    copy = fine_tune_copy(model, own_x, own_y, mnist_x, mnist_y, rng, STEPS, BATCH, report)
    report(1.0)
    result = ClassModelResult(
        model=copy,
        config=ClassModelConfig(model_sha256, arch, len(labels), len(held), seed=seed),
        before_class=evaluate(model, images[held], labels[held]).accuracy,
        after_class=evaluate(copy, images[held], labels[held]).accuracy,
        before_mnist=evaluate(model, check_x, check_y).accuracy,
        after_mnist=evaluate(copy, check_x, check_y).accuracy,
        seconds=time.perf_counter() - start,
    )
    return result
