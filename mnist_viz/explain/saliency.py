"""Gradient saliency and SmoothGrad: which pixels would change the class score most.

Saliency (Simonyan, Vedaldi and Zisserman 2013) is |d score / d pixel| for the class's logit.
SmoothGrad (Smilkov et al. 2017) averages it over copies of the image with Gaussian noise added,
which removes much of the speckle a single gradient shows.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from mnist_viz.core.data import IMAGE_SIZE, NUM_CLASSES
from mnist_viz.core.model import class_scorer, predict_proba, to_model_input

_SCORE_GRADIENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
SMOOTHGRAD_SAMPLES = 50
SMOOTHGRAD_NOISE = 0.15  # standard deviation of the noise, as a share of the pixel range [0, 1]


def score_gradient_fn(model: keras.Model):
    """d logit[class] / d input for a batch, traced once per model (logits: no softmax saturation)."""
    fn = _SCORE_GRADIENTS.get(model)
    if fn is not None:
        return fn
    scorer, _ = class_scorer(model)
    ref = weakref.ref(scorer)

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32),
            tf.TensorSpec((None,), tf.int32),
        ],
        autograph=False,
    )
    def gradient(x, classes):
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = tf.gather(ref()(x, training=False), classes, axis=1, batch_dims=1)
            total = tf.reduce_sum(scores)
        return tape.gradient(total, x)

    gradient._scorer = scorer
    _SCORE_GRADIENTS[model] = gradient
    return gradient


def _class_of(model: keras.Model, x: np.ndarray, class_index: int | None) -> int:
    return int(predict_proba(model, x).argmax()) if class_index is None else int(class_index)


def gradient_saliency(
    model: keras.Model, image: np.ndarray, class_index: int | None = None
) -> np.ndarray:
    """(28, 28) |d logit[class] / d pixel| for the predicted class (or ``class_index``)."""
    x = to_model_input(image)[:1]
    c = _class_of(model, x, class_index)
    grad = score_gradient_fn(model)(tf.constant(x), tf.constant([c], tf.int32)).numpy()
    return np.abs(grad[0, ..., 0])


def gradient_saliency_all(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """(10, 28, 28): ``gradient_saliency`` for every class, in one batch."""
    x = np.repeat(to_model_input(image)[:1], NUM_CLASSES, axis=0)
    classes = tf.range(NUM_CLASSES, dtype=tf.int32)
    return np.abs(score_gradient_fn(model)(tf.constant(x), classes).numpy()[..., 0])


def smoothgrad(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | None = None,
    samples: int = SMOOTHGRAD_SAMPLES,
    noise: float = SMOOTHGRAD_NOISE,
    seed: int = 0,
) -> np.ndarray:
    """(28, 28) the mean of |gradient| over ``samples`` noisy copies of the image (one batch)."""
    x = to_model_input(image)[:1]
    c = _class_of(model, x, class_index)
    rng = np.random.default_rng(seed)
    noisy = (x + rng.normal(0, noise, (samples, *x.shape[1:]))).astype(np.float32)
    grad = score_gradient_fn(model)(
        tf.constant(noisy), tf.constant([c] * samples, tf.int32)
    ).numpy()
    return np.abs(grad[..., 0]).mean(axis=0)


def smoothgrad_all(
    model: keras.Model,
    image: np.ndarray,
    samples: int = SMOOTHGRAD_SAMPLES,
    noise: float = SMOOTHGRAD_NOISE,
    seed: int = 0,
) -> np.ndarray:
    """(10, 28, 28): ``smoothgrad`` for every class over the same noisy copies (one batch of
    ``samples`` x 10 gradients)."""
    x = to_model_input(image)[:1]
    rng = np.random.default_rng(seed)
    noisy = (x + rng.normal(0, noise, (samples, *x.shape[1:]))).astype(np.float32)
    batch = np.tile(noisy, (NUM_CLASSES, 1, 1, 1))  # class-major: all copies for 0, then 1...
    classes = np.repeat(np.arange(NUM_CLASSES, dtype=np.int32), samples)
    grad = score_gradient_fn(model)(tf.constant(batch), tf.constant(classes)).numpy()
    return np.abs(grad[..., 0]).reshape(NUM_CLASSES, samples, *x.shape[1:3]).mean(axis=1)
