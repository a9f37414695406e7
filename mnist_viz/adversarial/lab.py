"""What the adversarial lab shows for one digit: the attacked image, the change, both predictions,
and how the change travels through the layers.

The slider's axis depends on the attack: epsilon for FGSM and PGD (how far any pixel may move),
the number of pixels changed for JSMA (``mnist_viz.adversarial.jsma``), which changes few pixels
a lot instead of every pixel a little."""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.adversarial.attacks import ATTACKS, FGSM, PGD, get_attack, robustness_curve
from mnist_viz.adversarial.jsma import MAX_PIXELS, jsma
from mnist_viz.core.model import class_scorer, predict_proba, to_model_input
from mnist_viz.view import describe, render

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
    def relative_l2(self) -> float:
        """The change's length as a share of the clean image's (a blank image, which the app never
        attacks, is divided by 1e-9 instead of 0)."""
        size = float(np.sqrt(np.sum(self.clean.astype(np.float64) ** 2)))
        return self.l2 / max(size, 1e-9)

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
    prepared: np.ndarray | None = None,
    pgd_steps: int = 20,
) -> AttackOutcome:
    """Attack the model's own prediction for ``image`` (uint8 or [0, 1]) at ``epsilon``.

    Pass what the attack ``prepared`` for this digit (FGSM: its direction, see
    ``Attack.prepare``), which makes each epsilon one addition and a forward pass.
    """
    clean = to_model_input(image)[0, ..., 0]
    if prepared is not None:
        prepared = np.asarray(prepared, np.float32).reshape(clean.shape)
    adversarial = get_attack(method).run(
        model, clean, None, epsilon, target=target, prepared=prepared, steps=pgd_steps
    )
    probabilities = predict_proba(model, np.stack([clean, adversarial]))
    return AttackOutcome(clean, adversarial, probabilities[0], probabilities[1])


SLIDER_STEP = 0.01
SLIDER_EPSILONS = tuple(round(SLIDER_STEP * i, 2) for i in range(51))  # 0.00, 0.01, ..., 0.50
JSMA = "JSMA"
LAB_ATTACKS = (*ATTACKS, JSMA)  # what the lab offers: the epsilon attacks, then JSMA
EPSILON, PIXELS = "epsilon", "pixels"  # a sweep's axis
PIXEL_STEPS = tuple(range(0, MAX_PIXELS + 1, 2))  # JSMA changes two pixels per step: 0, 2, ..., 78
DEFAULT_SETTING = {EPSILON: 0.1, PIXELS: 20}


def axis_of(method: str) -> str:
    """The slider's axis for ``method``: PIXELS for JSMA, EPSILON for the others."""
    return PIXELS if method == JSMA else EPSILON


def flip_methods(method: str) -> tuple[str, ...]:
    """The attacks whose smallest flipping setting is marked on ``method``'s slider (those on the
    same axis; JSMA's comes with its sweep)."""
    return () if axis_of(method) == PIXELS else ATTACKS


def sweep_index(values, sent) -> int:
    """The index of the slider setting nearest to ``sent`` (a value from the browser: anything
    that is not a number gives the first setting)."""
    try:
        wanted = float(sent)
    except (TypeError, ValueError, OverflowError):
        return 0
    if wanted != wanted:  # NaN
        return 0
    return min(range(len(values)), key=lambda i: abs(values[i] - wanted))


def claimed_epsilon(method: str, setting: float, outcome: AttackOutcome) -> float:
    """The epsilon a class challenge is told for the attack shown: the slider's, or for JSMA the
    largest change of any pixel it made (the server measures the image itself either way)."""
    return outcome.linf if axis_of(method) == PIXELS else setting


def setting_text(method: str, value: float) -> str:
    """The slider's setting in words: "epsilon 0.10", or "20 pixels changed"."""
    if axis_of(method) == PIXELS:
        return f"{int(value)} pixel{'s' if int(value) != 1 else ''} changed"
    return f"epsilon {value:.2f}"


@dataclass(frozen=True)
class Sweep:
    """One attack on one digit at every epsilon of the slider, for the browser to show without
    asking the server again: the adversarial images and what the network says of each."""

    method: str
    target: int | None
    epsilons: tuple[float, ...]
    clean: np.ndarray  # (28, 28) in [0, 1]
    clean_probabilities: np.ndarray  # (10,)
    adversarial: np.ndarray  # (n, 28, 28) in [0, 1]
    probabilities: np.ndarray  # (n, 10)
    axis: str = EPSILON  # what ``epsilons`` are: epsilons, or numbers of pixels changed (JSMA)
    goal: int | None = None  # JSMA: the digit it pushes towards (the target, or the runner-up)

    @property
    def classes(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def outcome(self, index: int) -> AttackOutcome:
        """The attack at ``epsilons[index]``, as ``attack_digit`` would give it."""
        return AttackOutcome(
            self.clean, self.adversarial[index], self.clean_probabilities, self.probabilities[index]
        )


def attack_sweep(
    model: keras.Model,
    image: np.ndarray,
    method: str = FGSM,
    target: int | None = None,
    epsilons: tuple[float, ...] = SLIDER_EPSILONS,
    prepared: np.ndarray | None = None,
    pgd_steps: int = 20,
) -> Sweep:
    """``attack_digit`` at every epsilon in one batch, one copy of the digit per epsilon: FGSM
    reuses one direction, PGD runs all the radii side by side. JSMA: ``jsma_sweep``."""
    if axis_of(method) == PIXELS:
        return jsma_sweep(model, image, target)
    attack = get_attack(method)
    clean = to_model_input(image)[0, ..., 0]
    eps = np.asarray(epsilons, np.float32)
    if prepared is None:
        prepared = attack.prepare(model, clean, None, target)
    if prepared is not None:
        prepared = np.asarray(prepared, np.float32).reshape(clean.shape)
    batch = np.repeat(clean[None], len(eps), axis=0)
    label = int(predict_proba(model, clean).argmax())
    labels = None if target is not None else np.full(len(eps), label)
    adversarial = attack.run(
        model, batch, labels, eps, target=target, prepared=prepared, steps=pgd_steps
    )
    probabilities = predict_proba(model, np.concatenate([clean[None], adversarial]))
    return Sweep(
        method,
        target,
        tuple(float(e) for e in epsilons),
        clean,
        probabilities[0],
        adversarial.astype(np.float32),
        probabilities[1:],
    )


def prepare_for_sweep(model: keras.Model, image: np.ndarray, method: str, target: int | None):
    """What an epsilon attack shares across epsilons for this digit (``Attack.prepare``); None
    for JSMA, whose path is its own."""
    if axis_of(method) == PIXELS:
        return None
    x = to_model_input(image)[0, ..., 0]
    return get_attack(method).prepare(model, x, None, target)


def jsma_goal(scores: np.ndarray, target: int | None) -> int:
    """JSMA is targeted: the goal is ``target``, or for "any wrong answer" the runner-up class
    (the network's second choice: one attack, not nine), from its class ``scores`` (the logits:
    a saturated softmax rounds the runners-up to the same 0). Ties go to the lower class."""
    if target is not None:
        return int(target)
    scores = np.asarray(scores, np.float64).reshape(-1)
    answer = int(np.argmax(scores))
    ranked = np.argsort(-scores, kind="stable")
    return int(next(c for c in ranked if c != answer))


def jsma_sweep(model: keras.Model, image: np.ndarray, target: int | None = None) -> Sweep:
    """JSMA on one digit through the whole budget (``PIXEL_STEPS``): the image and the network's
    answer after every pair of pixels."""
    clean = to_model_input(image)[0, ..., 0]
    scorer, _ = class_scorer(model)
    goal = jsma_goal(scorer(clean[None, ..., None], training=False).numpy()[0], target)
    path = jsma(model, clean, goal, stop_at_target=False)
    # the slider ends where the path does: JSMA stops early when no pair of pixels helps
    steps = [k for k in PIXEL_STEPS if k <= len(path.order)]
    adversarial = np.stack([path.image(k) for k in steps]).astype(np.float32)
    probabilities = predict_proba(model, adversarial)  # its first image, 0 pixels: the clean one
    return Sweep(
        JSMA,
        target,
        tuple(float(k) for k in steps),
        clean,
        probabilities[0],
        adversarial,
        probabilities,
        axis=PIXELS,
        goal=goal,
    )


OUTLINE_SCALE = 4  # JSMA's image is sent 4x larger, to outline each changed pixel
OUTLINE_COLOUR = (230, 159, 0)  # orange: seen on white ink and on black


def outlined(image: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """``image`` enlarged OUTLINE_SCALE times, each pixel of ``changed`` (28, 28 bool) outlined."""
    rgb = render.grey_image(image, OUTLINE_SCALE)
    inside = np.zeros((OUTLINE_SCALE, OUTLINE_SCALE), bool)
    inside[1:-1, 1:-1] = True  # each changed pixel's square keeps its inside, its edge is drawn
    edge = np.kron(np.asarray(changed, bool), ~inside)
    rgb[edge] = OUTLINE_COLOUR
    return rgb


def sweep_view(sweep: Sweep, flips: dict[str, float | None]) -> dict:
    """Everything the slider component shows, as JSON: per epsilon, the adversarial image, the
    change (blue darker, red brighter, on a scale of +/- epsilon so it stays visible), the answer
    and its confidence, the ten probabilities and the size of the change."""
    steps = []
    pixels = sweep.axis == PIXELS
    for i, eps in enumerate(sweep.epsilons):
        outcome = sweep.outcome(i)
        # the change on a scale of +/- epsilon (JSMA: +/- 1, the most a pixel can move)
        limit = 1.0 if pixels else max(eps, 1 / GREY_LEVELS)
        change = render.colourise(outcome.perturbation, render.DIVERGING_CMAP, -limit, limit)
        p = sweep.probabilities[i]
        shown = outlined(outcome.adversarial, outcome.perturbation != 0) if pixels else None
        steps.append(
            {
                "img": render.data_url(outcome.adversarial if shown is None else shown),
                "chg": render.data_url(change),
                "cls": int(p.argmax()),
                "p": round(float(p.max()), 4),
                "probs": [round(float(v), 4) for v in p],
                "linf": round(outcome.linf, 4),
                "l2": round(outcome.l2, 3),
                "changed": outcome.changed_pixels,
                "fooled": outcome.fooled(sweep.target),
            }
        )
    q = sweep.clean_probabilities
    goal = {}
    if pixels:  # JSMA's own flip, on its own axis: the fewest pixels that fool it on the slider
        fooled = [e for e, step in zip(sweep.epsilons, steps, strict=True) if step["fooled"]]
        flips = {sweep.method: fooled[0] if fooled else None}
        goal = {"goal": sweep.goal}  # the digit JSMA pushes towards
    return {
        "method": sweep.method,
        "axis": sweep.axis,
        "target": sweep.target,
        "epsilons": list(sweep.epsilons),
        "clean": {
            "img": render.data_url(sweep.clean),
            "cls": int(q.argmax()),
            "p": round(float(q.max()), 4),
        },
        "clean_probs": [round(float(v), 4) for v in q],
        "steps": steps,
        "flips": {m: e for m, e in flips.items() if e is not None},
        "grey_levels": GREY_LEVELS,
    } | goal


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


def robustness_images(method: str, n_test: int) -> int:
    """How many of ``n_test`` test images a robustness curve of ``method`` attacks: all of them
    for FGSM, the first ``PGD_CURVE_IMAGES`` for the costlier PGD."""
    one_step = get_attack(method).curve_steps(PGD_CURVE_STEPS) == 1
    return n_test if one_step else min(PGD_CURVE_IMAGES, n_test)


def robustness_method_text(n_test: int) -> str:
    """What a robustness curve measures, in the numbers of this test set (the offline sample has
    1,000 test images, not MNIST's 10,000)."""
    return (
        f"FGSM on all {robustness_images(FGSM, n_test):,} test images, and PGD "
        f"({PGD_CURVE_STEPS} steps) on the first {robustness_images(PGD, n_test):,}"
    )


def measure_robustness(model, data, method: str = FGSM, progress=None) -> RobustnessCurve:
    """``method`` on ``robustness_images`` of the test set, at ROBUSTNESS_EPSILONS."""
    n = robustness_images(method, len(data.x_test))
    steps = get_attack(method).curve_steps(PGD_CURVE_STEPS)
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


@dataclass(frozen=True)
class MapChange:
    """One layer's feature maps for the original and the adversarial digit, and their
    difference, as PNGs with their text alternatives, all on one scale (the larger maps' peak)."""

    clean_png: bytes
    clean_alt: str
    adversarial_png: bytes
    adversarial_alt: str
    change_png: bytes
    change_alt: str
    change_numbers: str  # the change's size in words and numbers


def map_change(layer: str, clean: np.ndarray, adversarial: np.ndarray, scale: int) -> MapChange:
    """Draw ``layer``'s (height, width, channels) maps before and after the attack, and the
    change on the maps' own scale, so that a small change looks small beside them."""
    top = float(max(clean.max(), adversarial.max())) or 1.0
    columns = render.grid_columns(clean.shape[-1])
    change = render.colourise(
        (adversarial - clean).transpose(2, 0, 1), render.DIVERGING_CMAP, -top, top
    )
    return MapChange(
        render.png(render.channel_grid(clean / top, columns, scale)),
        describe.feature_maps(layer, clean, "the original digit"),
        render.png(render.channel_grid(adversarial / top, columns, scale)),
        describe.feature_maps(layer, adversarial, "the adversarial digit"),
        render.png(render.tile(change, columns, scale)),
        describe.map_change(layer, clean, adversarial, top),
        describe.change_numbers(clean, adversarial, top),
    )
