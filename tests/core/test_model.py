import keras
import numpy as np
import pytest

from mnist_viz.core.model import (
    CONV1,
    CONV2,
    DENSE,
    LOGITS,
    Evaluation,
    architecture,
    build_model,
    evaluate,
    predict_proba,
    to_model_input,
    top_class,
)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_model()


def test_layers_shapes_and_parameter_counts(model):
    rows = {r.name: r for r in architecture(model)}
    expected = {
        "conv1": ((26, 26, 32), 320),
        "pool1": ((13, 13, 32), 0),
        "conv2": ((11, 11, 64), 18_496),
        "pool2": ((5, 5, 64), 0),
        "flatten": ((1600,), 0),
        "dropout": ((1600,), 0),
        "dense": ((128,), 204_928),
        "logits": ((10,), 1_290),
        "probabilities": ((10,), 0),
    }
    for name, (shape, params) in expected.items():
        assert rows[name].output_shape == shape, name
        assert rows[name].params == params, name
    # The counts follow from the shapes: (kernel area x input channels + 1 bias) x filters.
    assert 32 * (3 * 3 * 1 + 1) == 320 and 64 * (3 * 3 * 32 + 1) == 18_496
    assert 128 * (1600 + 1) == 204_928 and 10 * (128 + 1) == 1_290
    assert sum(r.params for r in rows.values()) == model.count_params() == 225_034
    assert rows["conv1"].kind == "Conv2D" and rows["pool1"].kind == "MaxPooling2D"


def test_to_model_input_scales_bytes_and_adds_axes():
    x = to_model_input(np.full((28, 28), 255, np.uint8))
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0
    assert to_model_input(np.zeros((5, 28, 28), np.float32)).shape == (5, 28, 28, 1)


def _reference_forward(model, x):
    """The same network computed with plain numpy loops over the layer weights."""

    def conv(a, kernel, bias):
        k = kernel.shape[0]
        h, w = a.shape[0] - k + 1, a.shape[1] - k + 1
        out = np.zeros((h, w, kernel.shape[3]))
        for i in range(h):
            for j in range(w):
                out[i, j] = np.tensordot(a[i : i + k, j : j + k], kernel, axes=3) + bias
        return np.maximum(out, 0)

    def pool(a):
        h, w = a.shape[0] // 2, a.shape[1] // 2
        return a[: 2 * h, : 2 * w].reshape(h, 2, w, 2, -1).max(axis=(1, 3))

    a = pool(conv(x, *model.get_layer(CONV1).get_weights()))
    a = pool(conv(a, *model.get_layer(CONV2).get_weights()))
    w, b = model.get_layer(DENSE).get_weights()
    a = np.maximum(a.reshape(-1) @ w + b, 0)
    w, b = model.get_layer(LOGITS).get_weights()
    logits = a @ w + b
    e = np.exp(logits - logits.max())
    return e / e.sum()


def test_predictions_match_an_independent_numpy_forward_pass(model):
    rng = np.random.default_rng(3)
    images = rng.random((3, 28, 28)).astype(np.float32)
    got = predict_proba(model, images)
    for image, probs in zip(images, got, strict=True):
        np.testing.assert_allclose(probs, _reference_forward(model, image[..., None]), atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_predict_proba_batches_match_keras_predict(model):
    images = np.random.default_rng(4).integers(0, 256, (2100, 28, 28)).astype(np.uint8)
    np.testing.assert_allclose(
        predict_proba(model, images), model.predict(to_model_input(images), verbose=0), atol=1e-5
    )


def test_evaluate_counts_like_a_hand_computation(model):
    images = np.random.default_rng(5).integers(0, 256, (50, 28, 28)).astype(np.uint8)
    predicted = predict_proba(model, images).argmax(axis=1)
    labels = predicted.copy()
    labels[:10] = (labels[:10] + 1) % 10  # ten deliberate mistakes
    result = evaluate(model, images, labels)
    assert result.accuracy == pytest.approx(0.8)
    assert result.confusion.sum() == 50 and np.trace(result.confusion) == 40
    for digit in range(10):
        mask = labels == digit
        if mask.any():
            assert result.per_class_accuracy[digit] == pytest.approx(
                (predicted[mask] == digit).mean()
            )
        else:
            assert np.isnan(result.per_class_accuracy[digit])


def test_errors_and_the_most_frequent_mistake_are_read_off_the_matrix():
    confusion = np.diag(np.full(10, 100)).astype(np.int64)
    confusion[4, 9] = 7  # the largest mistake: a 4 read as 9
    confusion[9, 4] = 6
    confusion[3, 5] = 2
    result = Evaluation(0.0, np.zeros(10), confusion, np.zeros(0))
    assert result.errors == 15
    assert result.most_frequent_mistake == (4, 9, 7)


def test_top_class_is_the_most_probable_and_its_probability():
    assert top_class(np.array([[0.1, 0.7, 0.2] + [0.0] * 7])) == (1, pytest.approx(0.7))
