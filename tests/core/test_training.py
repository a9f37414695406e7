import json

import numpy as np
import pytest

from mnist_viz.core.architecture import Architecture, preset
from mnist_viz.core.data_mix import MIX_MNIST
from mnist_viz.core.pendigits import load_pen_digits
from mnist_viz.core.training import TrainConfig, TrainingProgress, train_model

TINY = TrainConfig(epochs=2, batch_size=64, augment=False, data_mix=MIX_MNIST)


def test_training_learns_reports_progress_and_keeps_history(tiny_data):
    reports: list[TrainingProgress] = []
    result = train_model(tiny_data, TINY, progress=reports.append)
    assert result.test_accuracy > 0.9  # the synthetic classes are trivially separable
    assert set(result.history) == {"loss", "accuracy", "test_loss", "test_accuracy", "seconds"}
    assert all(len(v) == 2 for v in result.history.values())
    assert 0 < result.history["seconds"][0] < result.history["seconds"][1] <= result.seconds
    assert result.history["test_accuracy"][-1] == pytest.approx(result.test_accuracy, abs=1e-6)
    assert reports[-1].epoch == 2 and reports[-1].batch == reports[-1].batches == 8
    assert reports[-1].fraction == pytest.approx(1.0)
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and {r.epoch for r in reports} == {1, 2}
    assert result.seconds > 0 and len(result.per_class_accuracy) == 10


def test_training_with_augmentation_learns(tiny_data):
    result = train_model(
        tiny_data, TrainConfig(epochs=2, batch_size=64, augment=True, data_mix=MIX_MNIST)
    )
    assert result.test_accuracy > 0.5  # ten classes: chance is 0.1


def test_a_config_round_trips_through_json_with_its_architecture():
    config = TrainConfig(arch=preset("small"), epochs=3, pen_held_out=(3, 1))
    again = TrainConfig(**json.loads(json.dumps(config.to_dict())))
    assert again == config and again.arch.filters == (16, 32) and again.pen_held_out == (3, 1)


def test_the_default_recipe_learns_from_mnist_and_the_pen_digits(tiny_data):
    pen = load_pen_digits()  # the tests' few real pen digits (conftest)
    result = train_model(tiny_data, TrainConfig(epochs=1, batch_size=64, augment=False))
    assert [s.name for s in result.sources] == ["MNIST", "pen"]
    assert result.sources[0].images == len(tiny_data.x_train)
    assert result.sources[1].images == 2 * len(pen)  # two renderings of each
    # the first writer in the file, left out: fewer pen images, and none of theirs
    first = int(pen.writers[0])
    held = train_model(
        tiny_data, TrainConfig(epochs=1, batch_size=64, augment=False, pen_held_out=(first,))
    )
    assert held.sources[1].images == 2 * int(np.sum(pen.writers != first))


def test_dropout_has_one_source_of_truth_the_architecture(tiny_data):
    """The teacher's custom-network form sets the architecture's dropout; training builds it."""
    custom = Architecture("custom", filters=(4,), dense=8, dropout=0.6)
    result = train_model(
        tiny_data, TrainConfig(epochs=1, batch_size=64, augment=False, arch=custom)
    )
    assert result.model.get_layer("dropout").rate == pytest.approx(0.6)
    assert "dropout" not in TrainConfig().to_dict()  # no second, ignored setting


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("data_mix", "pen-only", "unknown data mix"), ("pen_copies", 0, "pen_copies")],
)
def test_a_config_refuses_what_it_cannot_train(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})
