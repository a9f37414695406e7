"""The attribution methods' one interface: the same call for every method, the methods that
apply to each network, and descriptions taken from the model."""

import numpy as np

from mnist_viz.core.architecture import Architecture, build
from mnist_viz.explain.explanations import METHODS, explain, methods_for
from mnist_viz.explain.gradcam import gradcam
from mnist_viz.explain.saliency import gradient_saliency


def image() -> np.ndarray:
    x = np.zeros((28, 28), np.float32)
    x[6:22, 12:16] = 1.0
    return x


def test_every_method_gives_a_map_on_the_input_grid_for_a_cnn():
    model = build(Architecture("t", filters=(4, 6), dense=8))
    maps = explain(model, image(), 3)
    assert list(maps) == [m.name for m in METHODS]
    for name, m in maps.items():
        assert m.shape == (28, 28) and np.all(np.isfinite(m))
        assert name == "occlusion" or m.min() >= 0  # occlusion is signed
    # the interface returns exactly what each method returns when called on its own
    np.testing.assert_allclose(maps["saliency"], gradient_saliency(model, image(), 3))
    np.testing.assert_allclose(maps["gradcam"], gradcam(model, image(), 3)[1])


def test_an_mlp_gets_every_method_but_grad_cam():
    mlp = build(Architecture("mlp", filters=(), dense=8))
    assert [m.name for m in methods_for(mlp)] == ["saliency", "smoothgrad", "occlusion"]
    assert set(explain(mlp, image(), 1)) == {"saliency", "smoothgrad", "occlusion"}


def test_grad_cam_names_the_last_convolution_and_its_size():
    three = build(Architecture("t", filters=(4, 6, 8), dense=8))
    gradcam_method = next(m for m in METHODS if m.name == "gradcam")
    assert "conv3's maps" in gradcam_method.describe(three)
    assert "(3 x 3)" in gradcam_method.describe(three)
    classic = build(Architecture("classic"))
    assert "conv2's maps" in gradcam_method.describe(classic)
    assert "(11 x 11)" in gradcam_method.describe(classic)
