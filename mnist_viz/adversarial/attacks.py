"""Adversarial examples: FGSM (Goodfellow et al. 2014), BIM/PGD (Kurakin et al. 2016; Madry et
al. 2018), the smallest epsilon that flips a prediction, and robustness curves.

Images are float in [0, 1], shaped (N, 28, 28) or (N, 28, 28, 1); results keep the input's shape.
The loss is the cross-entropy of the model's output, computed from the logits layer when the model
has one: the same function as on the softmax output, but its gradient does not vanish when the
network is 100% sure (a softmax rounded to 1.0 has a zero gradient, and FGSM would do nothing).

Cost structure: the FGSM direction sign(grad) does not depend on epsilon, so ``fgsm_direction``
is computed once per (model, image, target) and ``perturb`` reuses it for every slider position.
Gradients go through a ``tf.function`` with a fixed input signature (about 1 ms for one image).

Attacks are objects in one registry (``ATTACK_METHODS``, by name; ``get_attack``), as the
explanations are: the lab, the robustness curves and adversarial training ask the attack, never
branch on its name. ``ATTACKS`` is their names, in the order the pages show them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from mnist_viz.core.data import IMAGE_SIZE
from mnist_viz.core.model import class_scorer, predict_proba, to_model_input

FGSM, PGD = "FGSM", "PGD"
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
    attack = get_attack(method)
    x = to_model_input(images)  # uint8 test images are scaled to [0, 1] like training data
    y = np.asarray(labels, np.int32)
    correct = np.zeros(len(epsilons), np.int64)
    batches = range(0, len(x), BATCH)
    for done, i in enumerate(batches, start=1):
        xb, yb = x[i : i + BATCH], y[i : i + BATCH]
        prepared = attack.prepare(model, xb, yb)
        for j, epsilon in enumerate(epsilons):
            adv = attack.run(model, xb, yb, epsilon, prepared=prepared, steps=steps)
            correct[j] += int(np.sum(predict_proba(model, adv).argmax(1) == yb))
        if progress is not None:
            progress(done / len(batches))
    return correct / max(1, len(x))


@dataclass(frozen=True)
class Attack:
    """One L-infinity attack: how it makes adversarial images, and what that costs.

    ``prepare`` computes what does not depend on epsilon (FGSM: the signed gradient), once per
    batch; ``run`` makes the adversarial images at one epsilon, or one epsilon per image."""

    name: str
    title: str
    describe: str

    def prepare(self, model: keras.Model, x: np.ndarray, labels=None, target=None):
        """What every epsilon shares for these images (None: nothing)."""
        return None

    def run(self, model, x, labels, epsilon, target=None, prepared=None, steps=None) -> np.ndarray:
        raise NotImplementedError

    def minimal_epsilon(
        self, model, image, label=None, target=None, max_epsilon=0.5, prepared=None
    ) -> float | None:
        """The smallest epsilon that fools the model on ``image`` (None: not by ``max_epsilon``)."""
        raise NotImplementedError

    def curve_steps(self, pgd_steps: int) -> int:
        """Gradient steps per image in a robustness curve or a training batch."""
        raise NotImplementedError

    def training_step_size(self, epsilon, steps: int):
        """The size of each signed-gradient step when training against this attack."""
        raise NotImplementedError


class Fgsm(Attack):
    """One signed-gradient step of size epsilon: its direction is shared by every epsilon."""

    def prepare(self, model, x, labels=None, target=None):
        return fgsm_direction(model, x, labels, target)

    def run(self, model, x, labels, epsilon, target=None, prepared=None, steps=None):
        x = np.asarray(x, np.float32)
        direction = prepared if prepared is not None else fgsm_direction(model, x, labels, target)
        epsilon = np.asarray(epsilon, np.float32)
        if epsilon.ndim:  # one epsilon per image (copies of one digit share its direction)
            epsilon = epsilon.reshape(-1, *[1] * (x.ndim - 1))
        return np.clip(x + epsilon * np.asarray(direction, np.float32), 0.0, 1.0)

    def minimal_epsilon(
        self, model, image, label=None, target=None, max_epsilon=0.5, prepared=None
    ):
        return minimal_epsilon_fgsm(model, image, label, target, max_epsilon, direction=prepared)

    def curve_steps(self, pgd_steps: int) -> int:
        return 1

    def training_step_size(self, epsilon, steps: int):
        return 1.25 * epsilon  # from a random start in the ball (Wong et al. 2020)


class Pgd(Attack):
    """``steps`` signed-gradient steps, each projected back into the epsilon ball."""

    def run(self, model, x, labels, epsilon, target=None, prepared=None, steps=None):
        if not np.ndim(epsilon) and epsilon <= 0:
            return np.asarray(x, np.float32)
        return pgd(model, x, labels, epsilon, steps=steps or DEFAULT_PGD_STEPS, target=target)

    def minimal_epsilon(
        self, model, image, label=None, target=None, max_epsilon=0.5, prepared=None
    ):
        return minimal_epsilon_pgd(model, image, label, target, max_epsilon)

    def curve_steps(self, pgd_steps: int) -> int:
        return pgd_steps

    def training_step_size(self, epsilon, steps: int):
        return 2.5 * epsilon / steps  # as in Madry et al.


ATTACK_METHODS: dict[str, Attack] = {
    attack.name: attack
    for attack in (
        Fgsm(FGSM, "FGSM", "one step along the sign of the gradient"),
        Pgd(PGD, "PGD", "many small steps, each kept inside the epsilon ball"),
    )
}
ATTACKS = tuple(ATTACK_METHODS)


def get_attack(name: str) -> Attack:
    """The registered attack called ``name``; a ValueError for any other name."""
    try:
        return ATTACK_METHODS[name]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; known: {', '.join(ATTACKS)}") from None
