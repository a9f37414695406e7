"""One interface for every attribution method: which input pixels speak for a class.

Each method (as in captum) takes the same arguments, ``(model, image, class_index)``, and returns
a (28, 28) map of influence on the input grid (>= 0, except occlusion's, which is negative where
covering a pixel makes the class more likely); ``compute_all(model, image)`` gives all ten
classes' maps at once (one batch), so that they can share one colour scale (``reading``). Each
method says for which models it applies, what unit its numbers are in and whether they are
signed, and describes itself from the model it explains (Grad-CAM names the layer it reads and
its size). Pages list ``METHODS`` and call ``explain_all`` and ``reading.read``; nothing else
needs to know the methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.architecture import last_conv
from mnist_viz.core.model import class_scorer
from mnist_viz.explain.gradcam import gradcam, gradcam_all
from mnist_viz.explain.occlusion import PATCH, STRIDE, occlusion_map, occlusion_maps
from mnist_viz.explain.reading import Unit
from mnist_viz.explain.saliency import (
    SMOOTHGRAD_NOISE,
    SMOOTHGRAD_SAMPLES,
    gradient_saliency,
    gradient_saliency_all,
    smoothgrad,
    smoothgrad_all,
)

# Below these a map's largest effect is announced as negligible. Occlusion: no patch moves the
# class's probability by 1 percentage point. Gradients: under 0.01 of the score per unit of ink
# at the most sensitive pixel, so that even a whole stroke (about 100 pixels) would move the
# score by under 1 logit, a factor of e in the odds. Grad-CAM: no place's gradient-weighted
# activation reaches 0.001 (in logit units; conv2's 121 places together stay under about 0.12; the
# values are a first-order estimate, not an exact split of the logit, which passes through a
# ReLU layer after conv2). Measured on 100 test
# digits with the default network, the largest values for the least likely class had medians of
# 2.6 pp (occlusion, covering can make a class more likely), 0.44 and 0.18 logit per unit of ink
# (saliency, SmoothGrad) and 0.020 logit (Grad-CAM): these levels mark only what is truly nil.
NEGLIGIBLE_PROBABILITY = 0.01
NEGLIGIBLE_GRADIENT = 0.01
NEGLIGIBLE_WEIGHTED = 0.001


def _score(model: keras.Model) -> str:
    """What the gradients are taken of: the logit (the score before the softmax), or the
    probability for a model without a logits layer."""
    return "logit" if class_scorer(model)[1] else "probability"


def _gradient_unit(model: keras.Model) -> Unit:
    score = _score(model)
    return Unit(f"{score} per unit of ink", f"{score}/ink", negligible=NEGLIGIBLE_GRADIENT)


@dataclass(frozen=True)
class Method:
    """An attribution method: ``compute(model, image, class_index) -> (28, 28)``."""

    name: str
    title: str
    compute: Callable[[keras.Model, np.ndarray, int], np.ndarray]
    compute_all: Callable[[keras.Model, np.ndarray], np.ndarray]  # (10, 28, 28)
    describe: Callable[[keras.Model], str]
    unit: Callable[[keras.Model], Unit]
    signed: bool = False
    applies: Callable[[keras.Model], bool] = lambda model: True


def _gradcam_text(model: keras.Model) -> str:
    layer = last_conv(model)
    h, w = (int(d) for d in layer.output.shape[1:3])
    return (
        f"Which places in {layer.name}'s maps vote for the class (Selvaraju et al. 2017): the "
        f"{layer.name} maps, each weighted by the mean gradient of the class's {_score(model)} "
        f"over it, summed (in {_score(model)} units: a first-order estimate of each place's "
        "part in the score, not an exact split); only positive values are kept (the method's "
        f"ReLU). Coarse ({h} x {w}), but about whole strokes."
    )


METHODS: tuple[Method, ...] = (
    Method(
        "saliency",
        "Gradient saliency",
        gradient_saliency,
        gradient_saliency_all,
        lambda model: (
            f"How much a tiny change of each pixel would change the class's {_score(model)}: "
            "the size of the gradient, |d score / d pixel| (Simonyan et al. 2013). Sharp but "
            "speckled."
        ),
        _gradient_unit,
    ),
    Method(
        "smoothgrad",
        "SmoothGrad",
        smoothgrad,
        smoothgrad_all,
        lambda model: (
            f"The mean of |gradient| over {SMOOTHGRAD_SAMPLES} copies of the digit with noise "
            f"added (standard deviation {SMOOTHGRAD_NOISE} of the pixel range; Smilkov et al. "
            "2017): the speckle averages out."
        ),
        _gradient_unit,
    ),
    Method(
        "gradcam",
        "Grad-CAM",
        lambda model, image, class_index: gradcam(model, image, class_index)[1],
        gradcam_all,
        _gradcam_text,
        lambda model: Unit(
            f"{_score(model)} units (gradient-weighted activation)",
            _score(model),
            places=4,
            negligible=NEGLIGIBLE_WEIGHTED,
        ),
        applies=lambda model: last_conv(model) is not None,
    ),
    Method(
        "occlusion",
        "Occlusion",
        occlusion_map,
        occlusion_maps,
        lambda model: (
            f"How much the class's probability drops when a {PATCH} x {PATCH} black patch "
            f"covers each place (moved {STRIDE} pixels at a time; a pixel gets the mean over the "
            "patches that cover it; Zeiler and Fergus 2014). Red: covering it lowers the "
            "probability; blue: covering it raises it. No gradients: it just tries."
        ),
        lambda model: Unit(
            "the class's probability",
            "pp",
            factor=100.0,
            places=1,
            negligible=NEGLIGIBLE_PROBABILITY,
        ),
        signed=True,
    ),
)


def methods_for(model: keras.Model) -> list[Method]:
    """The methods that apply to ``model`` (Grad-CAM needs a convolution)."""
    return [m for m in METHODS if m.applies(model)]


def explain(model: keras.Model, image: np.ndarray, class_index: int) -> dict[str, np.ndarray]:
    """Every applicable method's (28, 28) map for ``class_index``, by method name."""
    return {m.name: m.compute(model, image, class_index) for m in methods_for(model)}


def explain_all(model: keras.Model, image: np.ndarray) -> dict[str, np.ndarray]:
    """Every applicable method's maps for all ten classes (10, 28, 28), by method name."""
    return {m.name: m.compute_all(model, image) for m in methods_for(model)}
