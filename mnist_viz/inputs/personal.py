"""Teach it my handwriting: fine-tune a private copy of the model on a learner's own digits.

Two copies are taught the same examples the same way, so the learner sees what changes:

* **naive**: trained on the learner's digits alone. It learns them, and in doing so overwrites
  what it knew, so its accuracy on MNIST falls: catastrophic forgetting (McCloskey & Cohen 1989,
  "Catastrophic interference in connectionist networks: the sequential learning problem";
  Ratcliff 1990, "Connectionist models of recognition memory").
* **with replay**: every batch mixes the learner's digits with MNIST digits it already knew
  (rehearsal: Robins 1995, "Catastrophic forgetting, rehearsal and pseudorehearsal"; Rolnick et
  al. 2019, "Experience replay for continual learning"). It learns the new digits and keeps MNIST.
  The brain is thought to do something similar: the hippocampus replays recent experience to the
  cortex, interleaved with old, during sleep (McClelland, McNaughton & O'Reilly 1995,
  "Why there are complementary learning systems in the hippocampus and neocortex"). Kirkpatrick
  et al. 2017 ("Overcoming catastrophic forgetting in neural networks") protect the old weights
  instead (elastic weight consolidation); the app shows replay, the simpler remedy.

The shared model is never changed: both copies are clones with their own weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.model import predict_proba, to_model_input

MIN_EXAMPLES = 3  # fewer than this teaches nothing a learner can see
MAX_EXAMPLES = 30
SHIFTS = 2  # each example is also seen moved by up to 2 px each way: 25 versions of it
STEPS = 40  # gradient steps per copy: about a second each on two CPU cores
BATCH = 32
REPLAY_SHARE = 0.5  # with replay, half of every batch is MNIST digits
LEARNING_RATE = 1e-3
CHECK_DIGITS = 2000  # MNIST test digits the copies are checked on before and after


@dataclass(frozen=True)
class CopyScores:
    """How one model does on the learner's examples and on MNIST's test digits."""

    examples: float  # accuracy on the learner's own examples
    mnist: float  # accuracy on CHECK_DIGITS MNIST test digits
    predictions: tuple[int, ...]  # its answer for each of the learner's examples


@dataclass
class TeachResult:
    """Before and after, for the shared model and the two taught copies."""

    n_examples: int
    n_checked: int  # MNIST test digits scored
    before: CopyScores
    naive: CopyScores
    replay: CopyScores
    model: keras.Model  # the copy taught with replay: the learner's private model


def shifted_versions(images: np.ndarray, labels: np.ndarray, shift: int = SHIFTS):
    """Every image moved by each whole-pixel offset in [-shift, shift]^2 (the empty side is
    filled with black), with its label: more examples from few, as a writer's digits vary."""
    images = np.asarray(images, np.float32)
    out, out_labels = [], []
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            moved = np.zeros_like(images)
            ys = slice(max(dy, 0), images.shape[1] + min(dy, 0))
            xs = slice(max(dx, 0), images.shape[2] + min(dx, 0))
            src_y = slice(max(-dy, 0), images.shape[1] + min(-dy, 0))
            src_x = slice(max(-dx, 0), images.shape[2] + min(-dx, 0))
            moved[:, ys, xs] = images[:, src_y, src_x]
            out.append(moved)
            out_labels.append(labels)
    return np.concatenate(out), np.concatenate(out_labels)


def private_copy(model: keras.Model) -> keras.Model:
    """A clone of ``model`` with its own copy of the weights, compiled for fine-tuning."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(),
    )
    return copy


def replay_batches(
    own_x: np.ndarray,
    own_y: np.ndarray,
    replay_x: np.ndarray | None,
    replay_y: np.ndarray | None,
    rng: np.random.Generator,
    steps: int = STEPS,
    batch: int = BATCH,
):
    """``steps`` batches of the learner's versions, mixed half and half with MNIST when
    replaying (the batches ``fine_tune_copy`` trains on)."""
    n_own = batch if replay_x is None else batch - int(batch * REPLAY_SHARE)
    for _ in range(steps):
        pick = rng.integers(0, len(own_x), n_own)
        x, y = own_x[pick], own_y[pick]
        if replay_x is not None:
            old = rng.integers(0, len(replay_x), batch - n_own)
            x = np.concatenate([x, to_model_input(replay_x[old])[..., 0]])
            y = np.concatenate([y, replay_y[old]])
        yield to_model_input(x), y.astype(np.int64)


def fine_tune_copy(
    model: keras.Model,
    own_x: np.ndarray,
    own_y: np.ndarray,
    replay_x: np.ndarray | None,
    replay_y: np.ndarray | None,
    rng: np.random.Generator,
    steps: int = STEPS,
    batch: int = BATCH,
    progress: Callable[[float], None] | None = None,
) -> keras.Model:
    """A private copy of ``model`` trained for ``steps`` batches of the learner's versions
    ``own_x``/``own_y`` ((N, 28, 28) in [0, 1]), half of each batch replayed from
    ``replay_x``/``replay_y`` unless they are None. The one fine-tuning routine: "Teach it my
    handwriting" and the class model (``mnist_viz.classroom.class_model``) both use it."""
    copy = private_copy(model)
    for step, (x, y) in enumerate(
        replay_batches(own_x, own_y, replay_x, replay_y, rng, steps=steps, batch=batch)
    ):
        copy.train_on_batch(x, y)
        if progress is not None and step % 30 == 0:
            progress(step / steps)
    return copy


def _scores(model, images, labels, check_x, check_y) -> CopyScores:
    predictions = predict_proba(model, images).argmax(axis=1)
    on_mnist = predict_proba(model, check_x).argmax(axis=1)
    return CopyScores(
        float(np.mean(predictions == labels)),
        float(np.mean(on_mnist == check_y)),
        tuple(int(p) for p in predictions),
    )


def teach(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    mnist_x: np.ndarray,
    mnist_y: np.ndarray,
    check_x: np.ndarray,
    check_y: np.ndarray,
    progress: Callable[[float], None] | None = None,
    seed: int = 0,
) -> TeachResult:
    """Fine-tune two private copies of ``model`` on the learner's ``images`` (N, 28, 28) in
    [0, 1] and ``labels``: one on them alone, one replaying ``mnist_x``/``mnist_y`` (MNIST
    training digits); score all three on the examples and on ``check_x``/``check_y``."""
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels, np.int64)
    if len(images) < MIN_EXAMPLES:
        raise ValueError(f"at least {MIN_EXAMPLES} examples are needed, got {len(images)}")
    rng = np.random.default_rng(seed)
    own_x, own_y = shifted_versions(images, labels)
    before = _scores(model, images, labels, check_x, check_y)
    report = progress or (lambda _: None)
    report(0.1)
    copies = {}
    for i, replay in enumerate((False, True)):
        copies[replay] = fine_tune_copy(
            model, own_x, own_y, mnist_x if replay else None, mnist_y if replay else None, rng
        )
        report(0.1 + 0.4 * (i + 1))
    naive = _scores(copies[False], images, labels, check_x, check_y)
    replayed = _scores(copies[True], images, labels, check_x, check_y)
    report(1.0)
    return TeachResult(len(images), len(check_y), before, naive, replayed, copies[True])
