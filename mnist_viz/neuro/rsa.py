"""Representational similarity analysis (Kriegeskorte, Mur and Bandettini 2008): compare what two
networks' layers represent without matching their units.

For a fixed set of stimuli (here test digits, grouped by class), each layer gives a
representational dissimilarity matrix (RDM): 1 - the Pearson correlation between the layer's
responses to every pair of stimuli. Two layers, of one network or of two, are then compared by the
Spearman correlation of their RDMs' upper triangles, as neuroscientists compare a network's layers
with recordings from the ventral stream (and as Neuromatch Academy's NeuroAI course compares a
standard and an adversarially trained network).
"""

from __future__ import annotations

import keras
import numpy as np
from scipy import stats

from mnist_viz.core.activations import build_activation_model
from mnist_viz.core.architecture import hidden_dense_layers, spatial_layers
from mnist_viz.core.model import LOGITS, PREDICT_BATCH, to_model_input

STIMULI_PER_CLASS = 10


def stimuli(labels: np.ndarray, per_class: int = STIMULI_PER_CLASS) -> np.ndarray:
    """Indices of the first ``per_class`` images of each class, grouped 0..9 (so that an RDM shows
    the classes as blocks along its diagonal)."""
    return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])


def rdm(responses: np.ndarray) -> np.ndarray:
    """(n, n) 1 - Pearson correlation between the responses (n, ...) to each pair of stimuli; a
    stimulus that silences the layer entirely correlates with nothing (dissimilarity 1)."""
    x = responses.reshape(len(responses), -1).astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(x, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    z = x / safe[:, None]
    corr = z @ z.T
    corr[norms == 0, :] = 0.0
    corr[:, norms == 0] = 0.0
    np.fill_diagonal(corr, 1.0)
    return 1.0 - corr


def compare(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of two RDMs' upper triangles (the diagonal left out)."""
    upper = np.triu_indices(len(a), k=1)
    return float(stats.spearmanr(a[upper], b[upper]).statistic)


def compared_layers(model: keras.Model) -> list[str]:
    """The layers worth comparing: every convolution and pooling, hidden dense layer, logits."""
    names = [x.name for x in spatial_layers(model)] + [x.name for x in hidden_dense_layers(model)]
    return [*names, LOGITS]


def layer_rdms(model: keras.Model, images: np.ndarray) -> dict[str, np.ndarray]:
    """The RDM of every compared layer for ``images`` (n, 28, 28), input to output."""
    activations = build_activation_model(model)
    outputs = activations.predict(to_model_input(images), batch_size=PREDICT_BATCH, verbose=0)
    by_name = dict(zip(activations.output_names, outputs, strict=True))
    return {name: rdm(by_name[name]) for name in compared_layers(model)}


def similarity(rdms_a: dict[str, np.ndarray], rdms_b: dict[str, np.ndarray]) -> np.ndarray:
    """(layers of a, layers of b): how alike each pair of layers represents the stimuli."""
    return np.array([[compare(a, b) for b in rdms_b.values()] for a in rdms_a.values()])
