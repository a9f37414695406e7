"""What the app may be asked to train: parameter counts against Keras' own, time estimates, and
the refusals a forged form value meets."""

import pytest

from mnist_viz.core.architecture import PRESETS, Architecture, build
from mnist_viz.core.limits import (
    MAX_PARAMETERS,
    adversarial_cost_factor,
    check_trainable,
    estimated_training_seconds,
    multiply_adds,
    parameter_count,
)

ODD = [
    Architecture("custom", filters=(8,), kernel=5, pooling=False, dense=16),
    Architecture("custom", filters=(4, 8, 16), kernel=3, pooling=True, dense=32),
    Architecture("custom", filters=(), dense=7),
]


@pytest.mark.parametrize("arch", [*PRESETS.values(), *ODD], ids=lambda a: f"{a.name}{a.filters}")
def test_parameter_counts_are_keras_own(arch):
    assert parameter_count(arch) == build(arch).count_params()


def test_multiply_adds_of_the_classic_network_by_hand():
    conv1 = 26 * 26 * 32 * 9
    conv2 = 11 * 11 * 64 * (32 * 9)
    dense = 1600 * 128 + 128 * 10
    assert multiply_adds(PRESETS["classic"]) == conv1 + conv2 + dense


def test_the_estimate_is_on_the_safe_side_of_what_the_presets_took():
    # measured (bench/results/presets.json): classic 25.4 s, no-pooling 164.6 s for 2 epochs
    assert 25.4 <= estimated_training_seconds(PRESETS["classic"], 2) <= 4 * 25.4
    assert 164.6 <= estimated_training_seconds(PRESETS["no-pooling"], 2) <= 4 * 164.6
    # adversarial PGD-7, 3 epochs: measured 160 s
    factor = adversarial_cost_factor("PGD", 7)
    assert 160 <= estimated_training_seconds(PRESETS["classic"], 3, cost_factor=factor) <= 640


def test_every_preset_is_trainable_as_the_app_offers_it():
    for arch in PRESETS.values():
        check_trainable(arch, 2)
    check_trainable(PRESETS["classic"], 3, adversarial_cost_factor("PGD", 7))


@pytest.mark.parametrize(
    ("arch", "epochs", "message"),
    [
        (
            Architecture("custom", (128, 128, 128), 3, False, 1024),
            2,
            "parameters; the app trains at most",
        ),
        (Architecture("custom", (32, 64), 3, True, 10**6), 1, "parameters"),
        (PRESETS["no-pooling"], 20, "minutes here"),
        (PRESETS["classic"], 0, "epochs must be 1 to 20"),
        (PRESETS["classic"], 500, "epochs must be 1 to 20"),
    ],
)
def test_what_the_app_refuses(arch, epochs, message):
    with pytest.raises(ValueError, match=message):
        check_trainable(arch, epochs)
    assert MAX_PARAMETERS == 5_000_000


@pytest.mark.process
def test_a_forged_training_request_is_refused_by_the_worker(tmp_path):
    models = tmp_path / "models"
    from mnist_viz.core.cache import STANDARD_MODEL
    from mnist_viz.core.worker import TrainingError, TrainSpec, run_training

    huge = Architecture("custom", (128, 128, 128), 3, False, 1024).to_dict()
    spec = TrainSpec(str(models), STANDARD_MODEL, "standard", {"arch": huge, "epochs": 1})
    with pytest.raises(TrainingError, match=r"not allowed: this network has .* parameters"):
        run_training(spec)
    spec = TrainSpec(str(models), STANDARD_MODEL, "standard", {"epochs": 10_000})
    with pytest.raises(TrainingError, match="not allowed: epochs must be 1 to 20"):
        run_training(spec)
    assert not models.exists()  # nothing was trained or written
