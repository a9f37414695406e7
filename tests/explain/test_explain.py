"""Saliency, SmoothGrad, Grad-CAM and occlusion against answers known in closed form."""

import keras
import numpy as np
import pytest

from mnist_viz.core.model import CONV2, LOGITS, PROBABILITIES, build_model
from mnist_viz.explain.gradcam import gradcam
from mnist_viz.explain.occlusion import occlusion_map
from mnist_viz.explain.saliency import gradient_saliency, smoothgrad


def linear_model(weights: np.ndarray) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    logits = keras.layers.Dense(10, name=LOGITS)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Activation("softmax", name=PROBABILITIES)(logits))
    model.get_layer(LOGITS).set_weights([weights.astype(np.float32), np.zeros(10, np.float32)])
    return model


@pytest.fixture(scope="module")
def weights() -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.1, (784, 10))


def test_saliency_of_a_linear_model_is_its_weights(weights):
    model = linear_model(weights)
    image = np.random.default_rng(1).uniform(0, 1, (28, 28))
    for c in (0, 7):
        np.testing.assert_allclose(
            gradient_saliency(model, image, c), np.abs(weights[:, c]).reshape(28, 28), rtol=1e-5
        )


def test_smoothgrad_of_a_linear_model_is_its_weights_too(weights):
    # the gradient of a linear score does not depend on the input, so noise changes nothing
    model = linear_model(weights)
    image = np.zeros((28, 28))
    np.testing.assert_allclose(
        smoothgrad(model, image, 3, samples=8), np.abs(weights[:, 3]).reshape(28, 28), rtol=1e-5
    )


def test_occlusion_matches_a_direct_computation(weights):
    model = linear_model(weights)
    image = np.random.default_rng(2).uniform(0, 1, (28, 28)).astype(np.float32)
    heat = occlusion_map(model, image, class_index=4, patch=14, stride=14)

    def prob(x):
        z = x.reshape(-1) @ weights
        e = np.exp(z - z.max())
        return (e / e.sum())[4]

    for r in (0, 14):
        for c in (0, 14):
            covered = image.copy()
            covered[r : r + 14, c : c + 14] = 0
            assert heat[r + 3, c + 5] == pytest.approx(prob(image) - prob(covered), abs=1e-5)


def test_gradcam_with_a_global_average_head_is_cam(weights):
    # logits = W^T mean(A): d logit / d A_k = w_k / (h w), so Grad-CAM = ReLU(sum_k w_k A_k) / (h w)
    inputs = keras.Input((28, 28, 1))
    maps = keras.layers.Conv2D(4, 3, activation="relu", name=CONV2)(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(maps)
    logits = keras.layers.Dense(10, use_bias=False, name=LOGITS)(pooled)
    model = keras.Model(inputs, keras.layers.Activation("softmax", name=PROBABILITIES)(logits))
    image = np.random.default_rng(3).uniform(0, 1, (28, 28)).astype(np.float32)
    coarse, on_input = gradcam(model, image, class_index=2)
    a = keras.Model(model.input, model.get_layer(CONV2).output)(image[None, ..., None]).numpy()[0]
    w = model.get_layer(LOGITS).get_weights()[0][:, 2]
    expected = np.maximum((a * w).sum(-1), 0) / (26 * 26)
    np.testing.assert_allclose(coarse, expected, rtol=1e-4, atol=1e-7)
    assert on_input.shape == (28, 28) and on_input.min() >= 0


def test_gradcam_on_the_real_architecture_runs():
    model = build_model()
    coarse, on_input = gradcam(model, np.zeros((28, 28), np.uint8))
    assert coarse.shape == (11, 11) and on_input.shape == (28, 28)


def test_gradcam_uses_the_last_convolution_of_any_network():
    from mnist_viz.core.architecture import Architecture, build, preset

    deep = build(Architecture("deep", filters=(4, 4, 4)))
    coarse, _ = gradcam(deep, np.zeros((28, 28), np.uint8))
    assert coarse.shape == deep.get_layer("conv3").output.shape[1:3] == (3, 3)
    with pytest.raises(ValueError, match="has none"):
        gradcam(build(preset("mlp")), np.zeros((28, 28), np.uint8))
