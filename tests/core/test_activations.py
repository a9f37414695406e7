import keras
import numpy as np

from mnist_viz.core.activations import build_activation_model, layer_activations
from mnist_viz.core.model import CONV1, build_model, predict_proba


def test_every_layer_output_for_one_image():
    keras.utils.set_random_seed(1)
    model = build_model()
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    acts = layer_activations(build_activation_model(model), image)
    assert list(acts) == [
        "conv1",
        "pool1",
        "conv2",
        "pool2",
        "flatten",
        "dense",
        "logits",
        "probabilities",
    ]
    assert acts["conv2"].shape == (11, 11, 64) and acts["dense"].shape == (128,)
    np.testing.assert_allclose(acts["probabilities"], predict_proba(model, image)[0], atol=1e-6)
    # conv1 at (row 5, column 7), channel 3, computed by hand: ReLU(sum(kernel * patch) + bias).
    kernel, bias = model.get_layer(CONV1).get_weights()
    by_hand = max(0.0, float((image[5:8, 7:10] * kernel[:, :, 0, 3]).sum() + bias[3]))
    assert abs(acts["conv1"][5, 7, 3] - by_hand) < 1e-5
    # pooling takes the maximum of each 2x2 block
    assert acts["pool1"][2, 3, 0] == acts["conv1"][4:6, 6:8, 0].max()
