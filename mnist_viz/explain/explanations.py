"""One interface for every attribution method: which input pixels speak for a class.

Each method (as in captum) takes the same arguments, ``(model, image, class_index)``, and returns
a (28, 28) map of influence on the input grid (>= 0, except occlusion's, which is negative where
covering a pixel makes the class more likely); each says for which models it applies and
describes itself from the model it explains (Grad-CAM names the layer it reads and its size).
Pages list ``METHODS`` and call ``explain``; nothing else needs to know the methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.architecture import last_conv
from mnist_viz.explain.gradcam import gradcam
from mnist_viz.explain.occlusion import PATCH, occlusion_map
from mnist_viz.explain.saliency import SMOOTHGRAD_SAMPLES, gradient_saliency, smoothgrad


@dataclass(frozen=True)
class Method:
    """An attribution method: ``compute(model, image, class_index) -> (28, 28)``."""

    name: str
    title: str
    compute: Callable[[keras.Model, np.ndarray, int], np.ndarray]
    describe: Callable[[keras.Model], str]
    applies: Callable[[keras.Model], bool] = lambda model: True


def _gradcam_text(model: keras.Model) -> str:
    layer = last_conv(model)
    h, w = (int(d) for d in layer.output.shape[1:3])
    return (
        f"Which places in {layer.name}'s maps vote for the class (Selvaraju et al. 2017): coarse "
        f"({h} x {w}), but about whole strokes."
    )


METHODS: tuple[Method, ...] = (
    Method(
        "saliency",
        "Gradient saliency",
        gradient_saliency,
        lambda model: (
            "How much a tiny change of each pixel would change the class's score "
            "(Simonyan et al. 2013). Sharp but speckled."
        ),
    ),
    Method(
        "smoothgrad",
        "SmoothGrad",
        smoothgrad,
        lambda model: (
            f"The same gradient averaged over {SMOOTHGRAD_SAMPLES} noisy copies of the "
            "digit (Smilkov et al. 2017): the speckle averages out."
        ),
    ),
    Method(
        "gradcam",
        "Grad-CAM",
        lambda model, image, class_index: gradcam(model, image, class_index)[1],
        _gradcam_text,
        applies=lambda model: last_conv(model) is not None,
    ),
    Method(
        "occlusion",
        "Occlusion",
        occlusion_map,
        lambda model: (
            f"How much the class's probability drops when a {PATCH} x {PATCH} black "
            "patch covers each place (Zeiler and Fergus 2014). No gradients: it just tries."
        ),
    ),
)


def methods_for(model: keras.Model) -> list[Method]:
    """The methods that apply to ``model`` (Grad-CAM needs a convolution)."""
    return [m for m in METHODS if m.applies(model)]


def explain(model: keras.Model, image: np.ndarray, class_index: int) -> dict[str, np.ndarray]:
    """Every applicable method's (28, 28) map for ``class_index``, by method name."""
    return {m.name: m.compute(model, image, class_index) for m in methods_for(model)}
