"""JSMA, the Jacobian-based saliency map attack (Papernot et al. 2016, "The limitations of deep
learning in adversarial settings"): a targeted attack that changes few pixels (an L0 budget)
instead of every pixel a little (FGSM and PGD's L-infinity epsilon).

At each step it takes the Jacobian of the class scores with respect to the pixels, and for each
pair of pixels (p, q) still free to change, how much brightening both raises the target's score
(alpha = dZ_t/dx_p + dZ_t/dx_q) and how much it raises all the other classes' scores together
(beta, the same sum over every class but the target). Of the pairs with alpha > 0 and beta < 0,
the one with the largest alpha * |beta| is set to white (1.0: theta = +1, the paper's increasing
variant) and leaves the search. It stops when the network says the target, when the budget of
pixels is spent, or when no pair qualifies.

The scores are the logits when the model has a "logits" layer (JSMA-Z in Carlini and Wagner's
naming; the gradient of a saturated softmax vanishes), else the model's output. Ties go to the
lowest pixel index, then the lowest partner: the order is reproducible, and testable against an
independent computation (``tests/adversarial/test_jsma.py``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from mnist_viz.core.data import IMAGE_SIZE, NUM_CLASSES
from mnist_viz.core.model import class_scorer, to_model_input

__all__ = ["MAX_PIXELS", "JsmaPath", "best_pair", "jsma"]

PIXELS = IMAGE_SIZE * IMAGE_SIZE
MAX_PIXEL_SHARE = 0.10  # the lab's slider goes up to 10% of the image
MAX_PIXELS = int(MAX_PIXEL_SHARE * PIXELS)  # 78
CHANGED_VALUE = 1.0  # theta = +1: a chosen pixel becomes white

_JACOBIANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _jacobian_fn(model: keras.Model):
    """(x of shape (1, 28, 28, 1)) -> (scores (10,), Jacobian (10, 784)), traced once per
    model: one forward and backward pass of ten copies of the image, row k the gradient of
    score k."""
    fn = _JACOBIANS.get(model)
    if fn is not None:
        return fn
    scorer, _ = class_scorer(model)
    ref = weakref.ref(scorer)
    pick = tf.eye(NUM_CLASSES)

    def jacobian(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        copies = tf.repeat(x, NUM_CLASSES, axis=0)
        with tf.GradientTape() as tape:
            tape.watch(copies)
            scores = ref()(copies, training=False)
            picked = tf.reduce_sum(scores * pick)
        rows = tape.gradient(picked, copies)
        return scores[0], tf.reshape(rows, (NUM_CLASSES, PIXELS))

    signature = [tf.TensorSpec((1, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32)]
    fn = tf.function(jacobian, input_signature=signature, autograph=False)
    fn._scorer = scorer  # keep the sub-model alive as long as the function
    _JACOBIANS[model] = fn
    return fn


def best_pair(jacobian: np.ndarray, target: int, free: np.ndarray) -> tuple[int, int] | None:
    """The pair of free pixels (p < q, flat indices) that JSMA changes next, from the (10, 784)
    Jacobian of the scores: the largest alpha * |beta| with alpha > 0 and beta < 0; None when no
    pair qualifies (fewer than two free pixels, or none that helps the target)."""
    candidates = np.flatnonzero(free)
    if len(candidates) < 2:
        return None
    j = np.asarray(jacobian, np.float64)
    alpha = j[target, candidates]
    beta = j.sum(axis=0)[candidates] - alpha
    a = alpha[:, None] + alpha[None, :]
    b = beta[:, None] + beta[None, :]
    scores = np.where((a > 0) & (b < 0), a * -b, -np.inf)
    np.fill_diagonal(scores, -np.inf)  # a pair is two different pixels
    best = int(np.argmax(scores))  # the first maximum: lowest p, then lowest q (symmetric)
    i, k = divmod(best, len(candidates))
    if not np.isfinite(scores[i, k]):
        return None
    return int(candidates[min(i, k)]), int(candidates[max(i, k)])


@dataclass(frozen=True)
class JsmaPath:
    """The pixels JSMA changed on one digit, in order (two per step), and when it first worked."""

    clean: np.ndarray  # (28, 28) in [0, 1]
    target: int
    order: tuple[int, ...]  # flat pixel indices (row * 28 + column), in the order changed
    pixels_to_flip: int | None  # pixels changed when the network first said the target

    @property
    def fooled(self) -> bool:
        return self.pixels_to_flip is not None

    def image(self, pixels: int) -> np.ndarray:
        """The digit with the first ``pixels`` of ``order`` changed, (28, 28)."""
        x = self.clean.reshape(-1).copy()
        x[list(self.order[: max(0, int(pixels))])] = CHANGED_VALUE
        return x.reshape(self.clean.shape)

    def changed_mask(self, pixels: int) -> np.ndarray:
        """Which pixels the first ``pixels`` steps changed, (28, 28) bool."""
        mask = np.zeros(PIXELS, bool)
        mask[list(self.order[: max(0, int(pixels))])] = True
        return mask.reshape(self.clean.shape)


def jsma(
    model: keras.Model,
    image: np.ndarray,
    target: int,
    max_pixels: int = MAX_PIXELS,
    stop_at_target: bool = True,
) -> JsmaPath:
    """Make ``model`` say ``target`` for ``image`` (uint8, or floats in [0, 1]) by setting at
    most ``max_pixels`` pixels to white, two at a time. With ``stop_at_target=False`` it goes on
    to the whole budget (the lab's slider shows every step); ``pixels_to_flip`` is the same."""
    if not 0 <= int(target) < NUM_CLASSES:
        raise ValueError(f"target must be a class 0-9, got {target}")
    x = to_model_input(image)[:1].copy()
    clean = x[0, ..., 0].copy()
    flat = x.reshape(-1)  # a view: changing it changes x
    free = flat < CHANGED_VALUE  # a white pixel cannot be brightened
    jacobian_of = _jacobian_fn(model)
    order: list[int] = []
    first = None
    while True:
        scores, jacobian = jacobian_of(tf.constant(x))
        if first is None and int(np.argmax(scores.numpy())) == target:
            first = len(order)
            if stop_at_target:
                break
        if len(order) + 2 > max_pixels:
            break
        pair = best_pair(jacobian.numpy(), target, free)
        if pair is None:
            break
        for p in pair:
            flat[p] = CHANGED_VALUE
            free[p] = False
            order.append(p)
    return JsmaPath(clean, int(target), tuple(order), first)
