"""How typical a digit's shape is of MNIST, judged where the network judges it.

A drawing can be read wrongly, or only just rightly, because its shape is one MNIST's writers
rarely used (a crossed 7, a hooked 9, a flag on a 1). To say so honestly the app measures how far
the drawing is from the MNIST digits of the class the network chose, in the network's last hidden
layer (the input of its last Dense layer, found from the model): the Mahalanobis distance to that
class's mean, with one covariance shared by all classes, as Lee et al. (2018, "A simple unified
framework for detecting out-of-distribution samples and adversarial attacks") do. The bar is set
by MNIST itself: the distance that only 1% of the class's own test digits exceed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.data import NUM_CLASSES
from mnist_viz.core.model import to_model_input

TYPICAL_PERCENTILE = 99.0  # the bar: farther than 99% of MNIST's own test digits of the class
UNSURE_BELOW = 0.9  # the feedback is given only when the network is less sure than this
SHRINKAGE = 0.1  # covariance shrunk 10% towards its diagonal so that it can be inverted
REFERENCE_PER_CLASS = 500  # digits per class: training ones for the means, test ones for the bars
NEIGHBOURS = 6
_BATCH = 250  # small batches: the convolutions' activations of 1,000 digits take ~100 MB


def feature_model(model: keras.Model) -> keras.Model:
    """A sub-model from the input to the input of the model's last Dense layer (its last hidden
    representation; for the classic CNN, the 128 ReLU units of "dense")."""
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError("the model has no Dense layer")
    return keras.Model(model.inputs[0], dense[-1].input)


def features(extractor: keras.Model, images: np.ndarray) -> np.ndarray:
    """(N, D) float64 hidden features of ``images`` (uint8 or [0, 1] floats, (N, 28, 28))."""
    x = to_model_input(images)
    out = [
        np.asarray(extractor(x[i : i + _BATCH], training=False)).reshape(len(x[i : i + _BATCH]), -1)
        for i in range(0, len(x), _BATCH)
    ]
    return np.concatenate(out).astype(np.float64)


@dataclass(frozen=True)
class StyleReference:
    """MNIST's classes in the hidden layer: means, shared precision, per-class bars, and the
    reference digits (images and features) used to show the nearest MNIST examples."""

    means: np.ndarray  # (10, D)
    precision: np.ndarray  # (D, D) inverse of the shared, shrunk covariance
    thresholds: np.ndarray  # (10,) distance exceeded by 1% of the class's MNIST test digits
    images: np.ndarray  # (M, 28, 28) reference MNIST training digits
    labels: np.ndarray  # (M,)
    reference_features: np.ndarray  # (M, D)

    def distances(self, feats: np.ndarray) -> np.ndarray:
        """(N, 10) Mahalanobis distance of each feature vector to each class mean: with the
        precision factored as L L^T, the Euclidean distance after multiplying by L."""
        whiten = np.linalg.cholesky(self.precision)
        diff = (feats @ whiten)[:, None, :] - (self.means @ whiten)[None, :, :]
        return np.linalg.norm(diff, axis=-1)


def fit_reference(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    per_class: int = REFERENCE_PER_CLASS,
    progress: Callable[[float], None] | None = None,
    seed: int = 0,
) -> StyleReference:
    """Class means and shared covariance from up to ``per_class`` training digits per class; the
    bars from up to ``per_class`` test digits per class, each at its own (true) class."""
    rng = np.random.default_rng(seed)

    def some_of_each(labels: np.ndarray) -> np.ndarray:
        picked = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]
        return np.sort(np.concatenate(picked))

    chosen = some_of_each(np.asarray(y_train))
    extractor = feature_model(model)
    train_feats = features(extractor, x_train[chosen])
    labels = np.asarray(y_train)[chosen]
    if progress:
        progress(0.5)
    means = np.stack([train_feats[labels == c].mean(axis=0) for c in range(NUM_CLASSES)])
    centred = train_feats - means[labels]
    cov = centred.T @ centred / max(len(centred) - NUM_CLASSES, 1)
    # Shrinkage keeps the covariance invertible where a unit never fires (a dead ReLU).
    cov = (1 - SHRINKAGE) * cov + SHRINKAGE * np.diag(np.diag(cov))
    cov += 1e-6 * np.eye(len(cov)) * max(float(np.trace(cov)) / len(cov), 1e-12)
    precision = np.linalg.inv(cov)
    reference = StyleReference(
        means, precision, np.zeros(NUM_CLASSES), x_train[chosen], labels, train_feats
    )
    checked = some_of_each(np.asarray(y_test))
    test_labels = np.asarray(y_test)[checked]
    own = reference.distances(features(extractor, x_test[checked]))[
        np.arange(len(test_labels)), test_labels
    ]
    thresholds = np.array(
        [
            np.percentile(own[test_labels == c], TYPICAL_PERCENTILE)
            if np.any(test_labels == c)
            else np.inf
            for c in range(NUM_CLASSES)
        ]
    )
    if progress:
        progress(1.0)
    return StyleReference(means, precision, thresholds, x_train[chosen], labels, train_feats)


@dataclass(frozen=True)
class StyleCheck:
    """How one digit compares with MNIST's digits of the class the network chose."""

    predicted: int
    confidence: float
    distance: float  # to the predicted class's MNIST mean
    threshold: float  # the class's 99th percentile on MNIST's test set
    runner_up: int
    neighbours: dict[int, np.ndarray]  # class -> (k, 28, 28) nearest MNIST digits of that class

    @property
    def unusual(self) -> bool:
        return self.distance > self.threshold

    @property
    def worth_saying(self) -> bool:
        """An unusual shape and an unsure network: the case the learner should hear about."""
        return self.unusual and self.confidence < UNSURE_BELOW

    def message(self) -> str:
        """The feedback in words a learner understands."""
        p, q = self.predicted, self.runner_up
        return (
            f"**This {p} is unlike MNIST's {p}s, most of what the network learned from.** In the "
            f"network's last hidden layer your drawing lies farther from MNIST's {p}s than 99% "
            f"of MNIST's own test {p}s do ({self.distance:.0f} against at most "
            f"{self.threshold:.0f}), and the network is unsure ({self.confidence:.0%}). MNIST's "
            "digits were written around 1990 by American census staff and students; shapes they "
            "rarely wrote (a bar across a 7, a hook at the foot of a 9, a long flag on a 1, an "
            f"open 4) are rare in what it saw. Below: the MNIST {p}s and {q}s that look most like "
            "yours to the network."
        )


def check_style(
    reference: StyleReference,
    extractor: keras.Model,
    image: np.ndarray,
    probabilities: np.ndarray,
    k: int = NEIGHBOURS,
) -> StyleCheck:
    """Compare one digit (28, 28) with MNIST's digits of its predicted class and runner-up."""
    probabilities = np.asarray(probabilities).reshape(NUM_CLASSES)
    order = np.argsort(probabilities)[::-1]
    best, second = int(order[0]), int(order[1])
    feats = features(extractor, np.asarray(image)[None])
    distance = float(reference.distances(feats)[0, best])
    neighbours = {}
    for c in (best, second):
        members = np.flatnonzero(reference.labels == c)
        gaps = np.linalg.norm(reference.reference_features[members] - feats[0], axis=1)
        neighbours[c] = reference.images[members[np.argsort(gaps)[:k]]]
    return StyleCheck(
        best,
        float(probabilities[best]),
        distance,
        float(reference.thresholds[best]),
        second,
        neighbours,
    )


def unusual_share(model: keras.Model, reference: StyleReference, images: np.ndarray) -> float:
    """The share of ``images`` (N, 28, 28) whose shape is unusual for MNIST: farther from
    MNIST's digits of the class the network reads them as than 99% of MNIST's own test digits
    (so about 1% of MNIST's test digits by construction)."""
    if len(images) == 0:
        return 0.0
    from mnist_viz.core.model import predict_proba

    predicted = predict_proba(model, images).argmax(1)
    distances = reference.distances(features(feature_model(model), images))
    return float(
        np.mean(distances[np.arange(len(images)), predicted] > reference.thresholds[predicted])
    )
