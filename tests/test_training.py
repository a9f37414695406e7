import numpy as np
import pytest
import tensorflow as tf

from mnist_viz.training import (
    TrainConfig,
    TrainingProgress,
    _vary_thickness,
    make_augmenter,
    train_model,
)

TINY = TrainConfig(epochs=2, batch_size=64)


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


def test_augmenter_keeps_shape_and_range_and_moves_pixels():
    x = np.zeros((16, 28, 28, 1), np.float32)
    x[:, 8:20, 12:16] = 1.0
    out = make_augmenter(seed=1)(tf.constant(x)).numpy()
    assert out.shape == x.shape and out.min() >= 0.0 and out.max() <= 1.0
    assert np.abs(out - x).mean() > 0.01


def test_thickness_variation_dilates_and_erodes():
    x = np.zeros((2, 9, 9, 1), np.float32)
    x[:, 2:7, 3:6] = 1.0  # a 3-pixel-wide bar
    out = _vary_thickness(tf.constant(x), tf.constant([1.0, -1.0])[:, None, None, None]).numpy()
    assert out[0].sum() > x[0].sum()  # thicker
    assert out[1].sum() < x[1].sum()  # thinner
    assert out[1, 4, 4, 0] == 1.0 and out[1, 4, 3, 0] == 0.0  # the core survives, the edge goes
