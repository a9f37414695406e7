"""Teaching a private copy: the shifted examples, learning the learner's digits, forgetting
without replay and keeping MNIST with it, and the shared model left untouched."""

import keras
import numpy as np
import pytest
from conftest import tiny_mnist

from mnist_viz.core.model import predict_proba
from mnist_viz.core.training import TrainConfig, train_model
from mnist_viz.inputs import personal


def test_shifted_versions_match_a_shift_computed_another_way():
    rng = np.random.default_rng(0)
    images = rng.random((2, 28, 28)).astype(np.float32)
    versions, labels = personal.shifted_versions(images, np.array([3, 8]), shift=2)
    assert versions.shape == (50, 28, 28) and labels.tolist() == [3, 8] * 25
    offsets = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
    for k, (dy, dx) in enumerate(offsets):
        for i in range(2):
            # np.roll wraps around; the wrapped-in rows and columns must be black instead
            expected = np.roll(images[i], (dy, dx), axis=(0, 1))
            if dy > 0:
                expected[:dy] = 0
            if dy < 0:
                expected[dy:] = 0
            if dx > 0:
                expected[:, :dx] = 0
            if dx < 0:
                expected[:, dx:] = 0
            np.testing.assert_array_equal(versions[2 * k + i], expected)


def test_replay_learns_the_examples_and_keeps_mnist_where_naive_forgets(taught_base):
    data, model = taught_base
    weights = [w.copy() for w in model.get_weights()]
    # "my handwriting": bars drawn where class 2 puts them, but this writer means 7
    images = data.x_test[data.y_test == 2][:4].astype(np.float32) / 255
    labels = np.full(len(images), 7)
    before = predict_proba(model, images).argmax(1)
    assert np.all(before == 2)
    result = personal.teach(
        model,
        images,
        labels,
        data.x_train,
        data.y_train,
        data.x_test,
        data.y_test,
    )
    assert result.n_examples == 4
    assert result.before.examples == 0.0 and result.before.mnist > 0.9
    assert result.naive.examples == 1.0 and result.replay.examples == 1.0
    assert result.replay.predictions == (7, 7, 7, 7)
    # the naive copy also calls the real 2s (and more) 7s; replay keeps what it knew elsewhere
    assert result.naive.mnist < result.before.mnist - 0.1
    assert result.replay.mnist > result.naive.mnist
    # the private model is the replayed copy, independently re-scored here
    again = predict_proba(result.model, data.x_test).argmax(1)
    assert np.mean(again == data.y_test) == pytest.approx(result.replay.mnist)
    # the shared model is untouched
    for old, new in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_too_few_examples_are_refused(taught_base):
    data, model = taught_base
    with pytest.raises(ValueError, match="at least 3"):
        personal.teach(
            model,
            np.zeros((2, 28, 28)),
            np.array([1, 2]),
            data.x_train,
            data.y_train,
            data.x_test,
            data.y_test,
        )


def test_an_mlp_is_taught_and_compared_with_mnist_too():
    from mnist_viz.core.architecture import Architecture
    from mnist_viz.inputs import style

    data = tiny_mnist()
    mlp_config = TrainConfig(
        epochs=1, batch_size=64, arch=Architecture("mlp", filters=(), dense=16)
    )
    mlp = train_model(data, mlp_config).model
    images, labels = data.x_test[:3] / 255.0, np.array([1, 2, 3])
    result = personal.teach(
        mlp, images, labels, data.x_train, data.y_train, data.x_test, data.y_test
    )
    assert result.replay.examples == 1.0  # the replayed copy learned all three
    assert predict_proba(result.model, images).argmax(axis=1).tolist() == [1, 2, 3]
    reference = style.fit_reference(mlp, data.x_train, data.y_train, data.x_test, data.y_test)
    assert reference is not None


def test_fine_tuning_takes_the_same_steps_as_a_loop_written_out_by_hand(taught_base):
    """The one fine-tuning routine against an independent reference: the same batches (the
    learner's versions, half of each batch replayed from MNIST's uint8 digits, scaled to [0, 1])
    through a clone compiled the same way give the same weights."""
    data, model = taught_base
    own_x = data.x_test[:6].astype(np.float32) / 255
    own_y = np.full(6, 7)
    replay_x, replay_y = data.x_train, data.y_train
    keras.utils.set_random_seed(5)  # the same dropout masks in both clones
    tuned = personal.fine_tune_copy(
        model, own_x, own_y, replay_x, replay_y, np.random.default_rng(11), steps=3, batch=8
    )

    rng = np.random.default_rng(11)
    keras.utils.set_random_seed(5)
    reference = keras.models.clone_model(model)
    reference.set_weights(model.get_weights())
    reference.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy()
    )
    for _ in range(3):
        mine = rng.integers(0, len(own_x), 4)
        old = rng.integers(0, len(replay_x), 4)
        x = np.concatenate([own_x[mine], replay_x[old].astype(np.float32) / 255])
        y = np.concatenate([own_y[mine], replay_y[old]])
        reference.train_on_batch(x[..., None], y)
    for got, want in zip(tuned.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert not np.allclose(tuned.get_weights()[-1], model.get_weights()[-1])  # it did learn
