"""Backpropagation against feedback alignment, on a two-layer network learning MNIST.

Backpropagation sends the output error back through the transpose of the forward weights: each
hidden unit must know the weights it sends forward with ("weight transport"), which neurons have
no known way of doing. Feedback alignment (Lillicrap, Cownden, Tweed and Akerman 2016, "Random
synaptic feedback weights support error backpropagation for deep learning", Nature
Communications 7:13276) sends it back through a fixed random matrix B instead. It still learns:
the forward weights come to align with B, so the update it makes turns towards the true gradient
(the angle between them falls below 90 degrees and keeps falling early in training).

The network: 784 pixels -> ``hidden`` ReLU units -> 10 class scores -> softmax, cross-entropy,
plain minibatch SGD, in numpy (float64), so that both rules differ in one line: the matrix the
error goes back through. Both start from the same weights and see the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mnist_viz.core.data import MnistData

BACKPROP = "backpropagation"
FEEDBACK_ALIGNMENT = "feedback alignment"
RULES = (BACKPROP, FEEDBACK_ALIGNMENT)

# What a learner may ask for: checked before it becomes a job (``check_settings``).
MAX_HIDDEN = 1024
MAX_STEPS = 20_000
MAX_BATCH = 512
MAX_LEARNING_RATE = 2.0


@dataclass(frozen=True)
class Settings:
    """One side-by-side run: both rules with these numbers."""

    hidden: int = 256
    steps: int = 3000
    batch: int = 64
    learning_rate: float = 0.05
    seed: int = 0
    checkpoints: int = 30  # test accuracy and the angle are measured this many times


def check_settings(settings: Settings) -> Settings:
    """``settings`` if every number is one the app will run; ValueError saying which is not."""

    def whole(name: str, value: object, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}, not {value!r}")

    whole("hidden units", settings.hidden, 1, MAX_HIDDEN)
    whole("steps", settings.steps, 1, MAX_STEPS)
    whole("batch size", settings.batch, 1, MAX_BATCH)
    whole("checkpoints", settings.checkpoints, 1, 1000)
    whole("seed", settings.seed, 0, 2**31 - 1)
    lr = settings.learning_rate
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr):
        raise ValueError(f"the learning rate must be a number, not {lr!r}")
    if not 0 < lr <= MAX_LEARNING_RATE:
        raise ValueError(f"the learning rate must be above 0 and at most {MAX_LEARNING_RATE}")
    return settings


@dataclass
class Net:
    """The two-layer network's weights (float64): inputs -> hidden (ReLU) -> class scores."""

    w1: np.ndarray  # (inputs, hidden)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden, classes)
    b2: np.ndarray  # (classes,)

    def copy(self) -> Net:
        return Net(self.w1.copy(), self.b1.copy(), self.w2.copy(), self.b2.copy())


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int, shape) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))  # Keras' default initialiser, as the app's nets
    return rng.uniform(-limit, limit, shape)


def initial(inputs: int, hidden: int, classes: int, seed: int) -> tuple[Net, np.ndarray]:
    """The starting network and the fixed random feedback matrix B (classes, hidden), drawn at
    the scale of the forward weights it stands in for."""
    rng = np.random.default_rng(seed)
    net = Net(
        _glorot(rng, inputs, hidden, (inputs, hidden)),
        np.zeros(hidden),
        _glorot(rng, hidden, classes, (hidden, classes)),
        np.zeros(classes),
    )
    return net, _glorot(rng, hidden, classes, (classes, hidden))


@dataclass(frozen=True)
class Update:
    """What one batch asks of each weight (the step is minus the learning rate times these), the
    batch's mean loss and the hidden units' error signals."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    loss: float
    hidden_error: np.ndarray  # (batch, hidden): what each hidden unit was told


def _forward(net: Net, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z1 = x @ net.w1 + net.b1
    h = np.maximum(z1, 0.0)
    scores = h @ net.w2 + net.b2
    scores = scores - scores.max(axis=1, keepdims=True)  # the same softmax, without overflow
    p = np.exp(scores)
    return z1, h, p / p.sum(axis=1, keepdims=True)


def update(net: Net, x: np.ndarray, labels: np.ndarray, rule: str, feedback: np.ndarray) -> Update:
    """The update ``rule`` asks for on the batch (``x``: (N, inputs) in [0, 1]; ``labels``: (N,)):
    the gradient of the mean cross-entropy for backpropagation; for feedback alignment the same
    except that the output error reaches the hidden units through ``feedback``, not w2's
    transpose."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose {' or '.join(RULES)}")
    x = np.asarray(x, np.float64)
    n = len(x)
    z1, h, p = _forward(net, x)
    target = np.zeros_like(p)
    target[np.arange(n), labels] = 1.0
    loss = float(-np.mean(np.log(np.maximum(p[np.arange(n), labels], 1e-300))))
    error = (p - target) / n  # dL/dscores of the mean loss
    back = net.w2.T if rule == BACKPROP else feedback  # the one difference
    hidden_error = (error @ back) * (z1 > 0)
    return Update(
        w1=x.T @ hidden_error,
        b1=hidden_error.sum(axis=0),
        w2=h.T @ error,
        b2=error.sum(axis=0),
        loss=loss,
        hidden_error=hidden_error,
    )


def apply(net: Net, step: Update, learning_rate: float) -> None:
    """One SGD step on ``net``, in place."""
    net.w1 -= learning_rate * step.w1
    net.b1 -= learning_rate * step.b1
    net.w2 -= learning_rate * step.w2
    net.b2 -= learning_rate * step.b2


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two arrays as vectors (90 when either is zero: no direction)."""
    a, b = np.ravel(a), np.ravel(b)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norms == 0.0:
        return 90.0
    return float(np.degrees(np.arccos(np.clip(float(a @ b) / norms, -1.0, 1.0))))


def accuracy(net: Net, x: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``x`` whose highest score is its label."""
    return float(np.mean(_forward(net, np.asarray(x, np.float64))[2].argmax(axis=1) == labels))


@dataclass
class Curve:
    """One rule's run: at each checkpoint the step, the mean training loss since the one before
    (None at step 0), the test accuracy, and the angle between the rule's hidden-layer update and
    the true gradient (backpropagation's) at the same weights on a fixed probe batch (0 for
    backpropagation itself)."""

    rule: str
    steps: list[int] = field(default_factory=list)
    train_loss: list[float | None] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    angle: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "steps": self.steps,
            "train_loss": self.train_loss,
            "test_accuracy": self.test_accuracy,
            "angle_degrees": self.angle,
        }


PROBE = 256  # training images the angle is measured on, the same at every checkpoint


def side_by_side(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    settings: Settings = Settings(),
    progress: Callable[[float], None] | None = None,
) -> dict[str, Curve]:
    """Both rules trained from the same weights on the same batches; their curves by rule.
    Images: (N, 28, 28) uint8 or (N, D) floats in [0, 1]."""
    check_settings(settings)
    x_train, x_test = _flat(x_train), _flat(x_test)
    y_train, y_test = np.asarray(y_train, np.int64), np.asarray(y_test, np.int64)
    classes = int(max(y_train.max(), y_test.max())) + 1
    start, feedback = initial(x_train.shape[1], settings.hidden, classes, settings.seed)
    nets = {rule: start.copy() for rule in RULES}
    curves = {rule: Curve(rule) for rule in RULES}
    losses: dict[str, list[float]] = {rule: [] for rule in RULES}
    order = np.random.default_rng(settings.seed + 1)
    probe = order.choice(len(x_train), min(PROBE, len(x_train)), replace=False)
    marks = set(np.linspace(0, settings.steps, settings.checkpoints + 1).round().astype(int))
    for step in range(settings.steps + 1):
        if step in marks:
            for rule, net in nets.items():
                curve = curves[rule]
                curve.steps.append(step)
                curve.train_loss.append(float(np.mean(losses[rule])) if losses[rule] else None)
                curve.test_accuracy.append(accuracy(net, x_test, y_test))
                curve.angle.append(
                    0.0
                    if rule == BACKPROP
                    else _angle_to_gradient(net, x_train[probe], y_train[probe], feedback)
                )
                losses[rule].clear()
            if progress:
                progress(step / settings.steps)
        if step == settings.steps:
            break
        batch = order.integers(0, len(x_train), settings.batch)
        for rule, net in nets.items():
            mine = update(net, x_train[batch], y_train[batch], rule, feedback)
            losses[rule].append(mine.loss)
            apply(net, mine, settings.learning_rate)
    return curves


def _angle_to_gradient(net: Net, x: np.ndarray, labels: np.ndarray, feedback) -> float:
    """Feedback alignment's hidden-layer update against the true gradient at ``net``."""
    mine = update(net, x, labels, FEEDBACK_ALIGNMENT, feedback)
    return angle_degrees(mine.w1, update(net, x, labels, BACKPROP, feedback).w1)


def _flat(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images)
    flat = x.reshape(len(x), -1).astype(np.float64)
    return flat / 255.0 if x.dtype == np.uint8 else flat


# -- the run a page starts: bounded choices, a slice of the data ---------------------------------

LESSON_STEPS = (1000, 2000)  # the lengths a learner may choose
LESSON_SEEDS = tuple(range(5))  # the random starts a learner may choose
LESSON_HIDDEN = 128  # half the benchmark's width: the same story at half the CPU
LESSON_TRAIN, LESSON_TEST = 12_000, 2_000  # images used: ~75 MB as float64


def lesson_settings(steps: object, seed: object) -> Settings:
    """The settings of a page's run, from a learner's choice of length and random start:
    ValueError for anything not offered (a value can come from a forged message)."""
    if steps not in LESSON_STEPS or isinstance(steps, bool):
        raise ValueError(f"the number of steps is one of {', '.join(map(str, LESSON_STEPS))}")
    if seed not in LESSON_SEEDS or isinstance(seed, bool):
        raise ValueError(f"the random start is one of {', '.join(map(str, LESSON_SEEDS))}")
    return check_settings(
        Settings(hidden=LESSON_HIDDEN, steps=int(steps), seed=int(seed), checkpoints=20)
    )


def lesson_run(
    data: MnistData, settings: Settings, progress: Callable[[float], None] | None = None
) -> dict:
    """Both rules on the first ``LESSON_TRAIN`` training and ``LESSON_TEST`` test images of
    ``data``: the curves as dicts (``Curve.to_dict``) and what they were measured on."""
    train, test = min(LESSON_TRAIN, len(data.x_train)), min(LESSON_TEST, len(data.x_test))
    curves = side_by_side(
        data.x_train[:train],
        data.y_train[:train],
        data.x_test[:test],
        data.y_test[:test],
        settings,
        progress,
    )
    return {
        "curves": [curves[rule].to_dict() for rule in RULES],
        # no folder names: the page shows this to students
        "data": "the offline sample of real MNIST digits" if data.is_sample else "MNIST",
        "train_images": train,
        "test_images": test,
        "settings": settings,
    }


def lesson_summary(run: dict) -> str:
    """A page's run in one paragraph: both accuracies and how the angle fell."""
    bp, fb = run["curves"]
    angles = fb["angle_degrees"]
    return (
        f"After {bp['steps'][-1]:,} steps on {run['train_images']:,} training digits "
        f"({run['data']}): "
        f"backpropagation reads {bp['test_accuracy'][-1]:.1%} of {run['test_images']:,} test "
        f"digits right, feedback alignment {fb['test_accuracy'][-1]:.1%}. The angle between "
        f"feedback alignment's hidden-layer update and the true gradient went from "
        f"{angles[0]:.1f} degrees at the start to {angles[-1]:.1f} (lowest {min(angles):.1f})"
        + (
            ": below 90 degrees, its updates point downhill."
            if angles[-1] < 90
            else ": not below 90 degrees, so its updates do not yet point downhill."
        )
    )
