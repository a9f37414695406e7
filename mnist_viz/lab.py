"""What the adversarial lab shows for one digit: the attacked image, the change, both predictions,
and how the change travels through the layers."""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.attacks import FGSM, fgsm_direction, perturb, pgd, robustness_curve
from mnist_viz.model import predict_proba, to_model_input

GREY_LEVELS = 255  # MNIST stores 0-255; an epsilon of 1/255 is one grey level


@dataclass(frozen=True)
class AttackOutcome:
    """One attack on one digit, everything in the model's [0, 1] scale."""

    clean: np.ndarray  # (28, 28)
    adversarial: np.ndarray  # (28, 28)
    clean_probabilities: np.ndarray  # (10,)
    adversarial_probabilities: np.ndarray  # (10,)

    @property
    def perturbation(self) -> np.ndarray:
        return self.adversarial - self.clean

    @property
    def linf(self) -> float:
        """The largest change of any pixel (at most epsilon; less where clipping to [0, 1] bit)."""
        return float(np.abs(self.perturbation).max())

    @property
    def l2(self) -> float:
        """The Euclidean length of the change over all 784 pixels."""
        return float(np.sqrt(np.sum(self.perturbation.astype(np.float64) ** 2)))

    @property
    def changed_pixels(self) -> int:
        return int(np.count_nonzero(self.perturbation))

    @property
    def clean_class(self) -> int:
        return int(self.clean_probabilities.argmax())

    @property
    def adversarial_class(self) -> int:
        return int(self.adversarial_probabilities.argmax())

    def fooled(self, target: int | None = None) -> bool:
        """Whether the attack reached ``target`` (or, untargeted, changed the answer)."""
        if target is not None:
            return self.adversarial_class == target
        return self.adversarial_class != self.clean_class


def attack_digit(
    model: keras.Model,
    image: np.ndarray,
    epsilon: float,
    method: str = FGSM,
    target: int | None = None,
    direction: np.ndarray | None = None,
    pgd_steps: int = 20,
) -> AttackOutcome:
    """Attack the model's own prediction for ``image`` (uint8 or [0, 1]) at ``epsilon``.

    For FGSM pass the precomputed ``direction`` (see ``attacks.fgsm_direction``), which makes each
    epsilon one addition and a forward pass.
    """
    clean = to_model_input(image)[0, ..., 0]
    if method == FGSM:
        if direction is None:
            direction = fgsm_direction(model, clean, None, target)
        adversarial = perturb(clean, np.asarray(direction).reshape(clean.shape), epsilon)
    else:
        adversarial = pgd(model, clean, None, epsilon, steps=pgd_steps, target=target)
    probabilities = predict_proba(model, np.stack([clean, adversarial]))
    return AttackOutcome(clean, adversarial, probabilities[0], probabilities[1])


ROBUSTNESS_EPSILONS = tuple(round(0.05 * i, 2) for i in range(11))  # 0.00, 0.05, ..., 0.50
PGD_CURVE_IMAGES = 1000  # PGD costs steps x FGSM: its curve uses the first 1,000 test images
PGD_CURVE_STEPS = 10


@dataclass(frozen=True)
class RobustnessCurve:
    """Test accuracy under one attack at each epsilon."""

    method: str
    epsilons: tuple[float, ...]
    accuracies: tuple[float, ...]
    images: int
    steps: int  # gradient steps per attack (1 for FGSM)
    seconds: float

    def at(self, epsilon: float) -> float:
        """The accuracy at one of the measured epsilons."""
        return self.accuracies[self.epsilons.index(round(epsilon, 2))]


def measure_robustness(model, data, method: str = FGSM, progress=None) -> RobustnessCurve:
    """FGSM on the whole test set, or PGD-10 on its first 1,000 images, at ROBUSTNESS_EPSILONS."""
    n = len(data.x_test) if method == FGSM else min(PGD_CURVE_IMAGES, len(data.x_test))
    steps = 1 if method == FGSM else PGD_CURVE_STEPS
    start = time.perf_counter()
    accuracies = robustness_curve(
        model, data.x_test[:n], data.y_test[:n], ROBUSTNESS_EPSILONS, method, steps, progress
    )
    return RobustnessCurve(
        method,
        ROBUSTNESS_EPSILONS,
        tuple(float(a) for a in accuracies),
        n,
        steps,
        time.perf_counter() - start,
    )


def layer_changes(
    clean: dict[str, np.ndarray], adversarial: dict[str, np.ndarray]
) -> dict[str, float]:
    """For each layer, how much the attack changed its output: ||a' - a|| / ||a|| (L2).

    Shows the small input change growing (or fading) on its way through the network.
    """
    out = {}
    for name, a in clean.items():
        a = a.astype(np.float64)
        norm = np.linalg.norm(a)
        out[name] = float(np.linalg.norm(adversarial[name] - a) / norm) if norm > 0 else 0.0
    return out
