"""A network as it learned: the weight snapshots kept during training (``training.Snapshot``),
turned back into working models so a learner can scrub through training."""

from __future__ import annotations

import keras
import numpy as np

from mnist_viz.core.model import predict_proba
from mnist_viz.core.training import Snapshot


def model_at(model: keras.Model, snapshot: Snapshot) -> keras.Model:
    """A copy of ``model`` with the weights it had at ``snapshot`` (``model`` is untouched)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(snapshot.weights)
    return copy


def label(snapshot: Snapshot) -> str:
    """Where in training a snapshot was taken, for a slider: "start", "1% (9 batches)", "end"."""
    if snapshot.step == 0:
        return "start (random weights)"
    if snapshot.step == snapshot.steps:
        return f"end ({snapshot.steps:,} batches)"
    share = 100 * snapshot.fraction
    return f"{share:.3g}% ({snapshot.step:,} batch{'es' if snapshot.step != 1 else ''})"


def accuracy_at(
    model: keras.Model, snapshot: Snapshot, images: np.ndarray, labels: np.ndarray
) -> float:
    """The share of ``images`` the network read right at ``snapshot``."""
    predictions = predict_proba(model_at(model, snapshot), images).argmax(axis=1)
    return float(np.mean(predictions == labels))
