import pytest

from mnist_viz.training import TrainConfig, TrainingProgress, train_model

TINY = TrainConfig(epochs=2, batch_size=64, augment=False)


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


def test_training_with_augmentation_runs(tiny_data):
    result = train_model(tiny_data, TrainConfig(epochs=1, batch_size=64, augment=True))
    assert 0.0 <= result.test_accuracy <= 1.0


def test_a_config_round_trips_through_json_with_its_architecture():
    import json

    from mnist_viz.architecture import preset

    config = TrainConfig(arch=preset("small"), epochs=3)
    again = TrainConfig(**json.loads(json.dumps(config.to_dict())))
    assert again == config and again.arch.filters == (16, 32)
