"""Adversarial examples: FGSM (Goodfellow et al. 2014), BIM/PGD (Kurakin et al. 2016; Madry et
al. 2018), the smallest epsilon that flips a prediction, and robustness curves.

Images are float in [0, 1], shaped (N, 28, 28) or (N, 28, 28, 1); results keep the input's shape.
The loss is the cross-entropy of the model's output, computed from the logits layer when the model
has one: the same function as on the softmax output, but its gradient does not vanish when the
network is 100% sure (a softmax rounded to 1.0 has a zero gradient, and FGSM would do nothing).

Cost structure: the FGSM direction sign(grad) does not depend on epsilon, so ``fgsm_direction``
is computed once per (model, image, target) and ``perturb`` reuses it for every slider position.
Gradients go through a ``tf.function`` with a fixed input signature (about 1 ms for one image).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from mnist_viz.core.data import IMAGE_SIZE
from mnist_viz.core.model import class_scorer, predict_proba, to_model_input

FGSM, PGD = "FGSM", "PGD"
ATTACKS = (FGSM, PGD)
DEFAULT_PGD_STEPS = 20
SEARCH_RESOLUTION = 0.001  # the smallest flipping epsilon is found to within this
BATCH = 500

_GRADIENT_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SIGNATURE = [
    tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32),
    tf.TensorSpec((None,), tf.int32),
]


def _as_batch(images: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """float32 (N, 28, 28, 1) and the caller's shape, to give results back in that shape."""
    x = np.asarray(images, np.float32)
    shape = x.shape
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 1):
        raise ValueError(f"expected images (N, 28, 28) or (N, 28, 28, 1), got {shape}")
    return x, shape


def loss_gradient_fn(model: keras.Model) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """grad_x of the summed cross-entropy of ``model`` at (x, labels), traced once per model.

    The sum makes each image's gradient its own loss's gradient (images do not interact).
    """
    fn = _GRADIENT_FNS.get(model)
    if fn is not None:
        return fn
    scorer, from_logits = class_scorer(model)
    ref = weakref.ref(scorer)

    def gradient(x: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = ref()(x, training=False)
            if from_logits:
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, out)
            else:
                losses = keras.losses.sparse_categorical_crossentropy(labels, out)
            loss = tf.reduce_sum(losses)
        return tape.gradient(loss, x)

    fn = tf.function(gradient, input_signature=_SIGNATURE, autograph=False)
    fn._scorer = scorer  # keep the sub-model alive as long as the function
    _GRADIENT_FNS[model] = fn
    return fn


def _labels_for(model: keras.Model, x: np.ndarray, labels, target) -> tuple[np.ndarray, float]:
    """The labels whose loss is followed, and the sign: +1 climbs the true (or predicted) class's
    loss (untargeted), -1 descends the target class's loss (targeted)."""
    if target is not None:
        targets = np.broadcast_to(np.asarray(target, np.int32), (len(x),))
        return np.ascontiguousarray(targets), -1.0
    if labels is None:  # a drawing has no ground truth: attack the model's own answer
        return predict_proba(model, x).argmax(axis=1).astype(np.int32), 1.0
    return np.broadcast_to(np.asarray(labels, np.int32), (len(x),)).copy(), 1.0


def _direction(gradient_fn, x: np.ndarray, labels: np.ndarray, sign: float) -> np.ndarray:
    x = np.asarray(x, np.float32)
    out = [
        np.sign(gradient_fn(tf.constant(x[i : i + BATCH]), tf.constant(labels[i : i + BATCH])))
        for i in range(0, len(x), BATCH)
    ]
    return (sign * np.concatenate(out)).astype(np.float32)


def fgsm_direction(
    model: keras.Model, images: np.ndarray, labels=None, target: int | None = None
) -> np.ndarray:
    """sign(grad_x loss): the FGSM step for epsilon 1, in the shape of ``images``.

    ``labels=None`` attacks the model's own prediction; ``target`` makes the step descend the
    target class's loss instead (a targeted attack).
    """
    x, shape = _as_batch(images)
    followed, sign = _labels_for(model, x, labels, target)
    return _direction(loss_gradient_fn(model), x, followed, sign).reshape(shape)


def perturb(images: np.ndarray, direction: np.ndarray, epsilon: float) -> np.ndarray:
    """clip(x + epsilon * direction, 0, 1): an FGSM image from a precomputed direction."""
    x = np.asarray(images, np.float32)
    return np.clip(x + np.float32(epsilon) * direction, 0.0, 1.0)


def fgsm(
    model: keras.Model, images: np.ndarray, labels=None, epsilon: float = 0.1, target=None
) -> np.ndarray:
    """The fast gradient sign method: ``clip(x + epsilon * sign(grad_x loss), 0, 1)``."""
    return perturb(images, fgsm_direction(model, images, labels, target), epsilon)


def pgd(
    model: keras.Model,
    images: np.ndarray,
    labels=None,
    epsilon: float | np.ndarray = 0.1,
    steps: int = DEFAULT_PGD_STEPS,
    step_size: float | None = None,
    random_start: bool = False,
    target: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Projected gradient descent in the L-infinity ball of radius ``epsilon`` (BIM when
    ``random_start`` is False): ``steps`` signed-gradient steps of ``step_size`` (default
    2.5 epsilon / steps, as in Madry et al.), each projected back into the ball and [0, 1].

    ``epsilon`` may also be one radius per image (N,): a whole sweep of radii in one batch.
    """
    x0, shape = _as_batch(images)
    followed, sign = _labels_for(model, x0, labels, target)
    gradient_fn = loss_gradient_fn(model)
    epsilon = np.asarray(epsilon, np.float32)
    if epsilon.ndim:  # one radius per image
        epsilon = epsilon.reshape(-1, 1, 1, 1)
    alpha = (2.5 * epsilon / steps if step_size is None else np.float32(step_size)).astype(
        np.float32
    )
    low, high = np.clip(x0 - epsilon, 0, 1), np.clip(x0 + epsilon, 0, 1)
    x = x0.copy()
    if random_start and np.any(epsilon > 0):
        rng = np.random.default_rng(seed)
        noise = rng.uniform(-1.0, 1.0, x.shape).astype(np.float32) * epsilon
        x = np.clip(x + noise, low, high)
    for _ in range(steps):
        x = np.clip(x + alpha * _direction(gradient_fn, x, followed, sign), low, high)
    return x.reshape(shape)


def _fooled(predicted: np.ndarray, label: int, target: int | None) -> np.ndarray:
    return predicted == target if target is not None else predicted != label


def minimal_epsilon_fgsm(
    model: keras.Model,
    image: np.ndarray,
    label: int | None = None,
    target: int | None = None,
    max_epsilon: float = 0.5,
    direction: np.ndarray | None = None,
) -> float | None:
    """The smallest epsilon (to 0.001) at which FGSM flips the prediction away from ``label``
    (the model's own answer when None), or reaches ``target``; None if nothing up to
    ``max_epsilon`` does. Every candidate epsilon is tried in one batch, so the answer is the
    smallest on the grid even where success is not monotonic in epsilon."""
    x, _ = _as_batch(image)
    if label is None:
        label = int(predict_proba(model, x).argmax())
    if direction is None:
        direction = fgsm_direction(model, x, [label] if target is None else None, target)
    epsilons = np.arange(0.0, max_epsilon + SEARCH_RESOLUTION / 2, SEARCH_RESOLUTION)
    candidates = np.clip(x + epsilons[:, None, None, None] * direction.reshape(x.shape), 0, 1)
    fooled = np.flatnonzero(_fooled(predict_proba(model, candidates).argmax(1), label, target))
    return float(np.round(epsilons[fooled[0]], 3)) if len(fooled) else None


def minimal_epsilon_pgd(
    model: keras.Model,
    image: np.ndarray,
    label: int | None = None,
    target: int | None = None,
    max_epsilon: float = 0.5,
    steps: int = DEFAULT_PGD_STEPS,
    tolerance: float = 0.005,
) -> float | None:
    """The smallest epsilon (to ``tolerance``) at which PGD fools the model, by bisection
    (assumes a larger ball fools it at least as well, which PGD nearly always satisfies)."""
    x, _ = _as_batch(image)
    if label is None:
        label = int(predict_proba(model, x).argmax())

    def fools(epsilon: float) -> bool:
        labels = [label] if target is None else None
        adv = pgd(model, x, labels, epsilon, steps=steps, target=target)
        return bool(_fooled(predict_proba(model, adv).argmax(1), label, target)[0])

    if not fools(max_epsilon):
        return None
    low, high = 0.0, max_epsilon
    while high - low > tolerance:
        middle = (low + high) / 2
        low, high = (low, middle) if fools(middle) else (middle, high)
    return float(np.round(high, 3))


def robustness_curve(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    epsilons: Sequence[float],
    method: str = FGSM,
    steps: int = 10,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Accuracy on (images, labels) under an untargeted attack at each epsilon.

    FGSM computes each batch's direction once and only runs forward passes per epsilon.
    """
    x = to_model_input(images)  # uint8 test images are scaled to [0, 1] like training data
    y = np.asarray(labels, np.int32)
    correct = np.zeros(len(epsilons), np.int64)
    gradient_fn = loss_gradient_fn(model)
    batches = range(0, len(x), BATCH)
    for done, i in enumerate(batches, start=1):
        xb, yb = x[i : i + BATCH], y[i : i + BATCH]
        direction = _direction(gradient_fn, xb, yb, 1.0) if method == FGSM else None
        for j, epsilon in enumerate(epsilons):
            if method == FGSM:
                adv = perturb(xb, direction, epsilon)
            else:
                adv = pgd(model, xb, yb, epsilon, steps=steps) if epsilon > 0 else xb
            correct[j] += int(np.sum(predict_proba(model, adv).argmax(1) == yb))
        if progress is not None:
            progress(done / len(batches))
    return correct / max(1, len(x))
