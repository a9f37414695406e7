"""What a teacher may ask the app to train, checked on the server before a job is queued.

A custom network's size is the product of numbers a browser sends (up to three convolutions of
128 filters, 5x5 kernels, no pooling, 1,024 dense units: about 64 million parameters, 255 MB a
copy, 2.5 GB of training snapshots and hours of training). So every training the app starts is
held to ``MAX_PARAMETERS`` and an estimated ``MAX_TRAINING_MINUTES`` on this kind of machine. The
estimate counts multiply-adds per image (forward pass; training costs about three times that)
and is calibrated on the presets' measured times (``bench/results/presets.json``: 2.63 M
multiply-adds per image, 74,988 images, 2 epochs in 25.4 s; no-pooling's 15.5 M in 164.6 s),
with a margin for slower days. The command line, run by whoever owns the machine, is not held to
these limits.
"""

from __future__ import annotations

from mnist_viz.core.architecture import Architecture
from mnist_viz.core.data import IMAGE_SIZE, NUM_CLASSES

MAX_PARAMETERS = 5_000_000  # the largest preset (no-pooling) has 4,738,826
MAX_TRAINING_MINUTES = 15.0
MAX_EPOCHS = 20
TRAINING_IMAGES = 74_988  # MNIST and two renderings of each pen digit
# Multiply-adds per second of training, counted as forward-pass multiply-adds x images x epochs:
# measured 15.5 G/s for the classic network and 14.1 G/s for no-pooling; halved for slow days.
MULTIPLY_ADDS_PER_SECOND = 7e9


def _layers(arch: Architecture):
    """(kind, inputs, outputs, spatial positions) of each weighted layer, input to output."""
    side, channels = IMAGE_SIZE, 1
    for filters in arch.filters:
        side = side - arch.kernel + 1
        yield "conv", channels * arch.kernel * arch.kernel, filters, side * side
        channels = filters
        if arch.pooling:
            side //= 2
    yield "dense", side * side * channels, arch.dense, 1
    yield "dense", arch.dense, NUM_CLASSES, 1


def parameter_count(arch: Architecture) -> int:
    """Weights and biases of the network ``arch`` builds."""
    return sum(inputs * outputs + outputs for _, inputs, outputs, _ in _layers(arch))


def multiply_adds(arch: Architecture) -> int:
    """Multiply-adds of one forward pass of one image."""
    return sum(inputs * outputs * positions for _, inputs, outputs, positions in _layers(arch))


def estimated_training_seconds(
    arch: Architecture, epochs: int, images: int = TRAINING_IMAGES, cost_factor: float = 1.0
) -> float:
    """Training time on this kind of machine, estimated generously. ``cost_factor``: how many
    times a standard step's work each step does (adversarial training attacks every batch)."""
    return multiply_adds(arch) * images * epochs * cost_factor / MULTIPLY_ADDS_PER_SECOND


def adversarial_cost_factor(attack: str, pgd_steps: int) -> float:
    """How many standard steps' work one adversarial training step does: measured 4.2x for
    PGD-7 (160 s for 3 epochs against 12.7 s an epoch); FGSM adds one attack step."""
    return (pgd_steps + 1) / 2 if attack == "PGD" else 1.5


def check_trainable(arch: Architecture, epochs: int, cost_factor: float = 1.0) -> None:
    """``ValueError``, in words for the teacher, when the app should not train this."""
    if not 1 <= int(epochs) <= MAX_EPOCHS:
        raise ValueError(f"epochs must be 1 to {MAX_EPOCHS}")
    parameters = parameter_count(arch)
    if parameters > MAX_PARAMETERS:
        raise ValueError(
            f"this network has {parameters:,} parameters; the app trains at most "
            f"{MAX_PARAMETERS:,} (add pooling, or fewer filters or dense units)"
        )
    minutes = estimated_training_seconds(arch, epochs, cost_factor=cost_factor) / 60
    if minutes > MAX_TRAINING_MINUTES:
        raise ValueError(
            f"training it would take about {minutes:.0f} minutes here; the app trains for at "
            f"most {MAX_TRAINING_MINUTES:.0f} (fewer epochs, pooling, or fewer filters)"
        )
