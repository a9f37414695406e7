"""One unit's arithmetic: how a single value of a feature map is made from the layer before.

For a convolution unit: the input patch under the kernel, the kernel, their products, the sum,
the bias and the ReLU (as CNN Explainer shows it); with several input maps, the products are
summed per input map first. For a max-pooling unit: the window and its maximum. Everything is
read from the model's own weights and the layer's actual input, so the result can be checked
against the layer's output.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.model import to_model_input


@dataclass(frozen=True)
class ConvUnit:
    layer: str
    row: int
    col: int
    channel: int
    patch: np.ndarray  # (k, k, inputs): the input under the kernel
    kernel: np.ndarray  # (k, k, inputs)
    bias: float

    @property
    def products(self) -> np.ndarray:
        """(k, k, inputs) patch x kernel, element by element."""
        return self.patch * self.kernel

    @property
    def per_input(self) -> np.ndarray:
        """(inputs,) the products summed over each input map."""
        return self.products.sum(axis=(0, 1))

    def top_inputs(self, n: int) -> list[tuple[int, float]]:
        """The ``n`` input maps that contribute most (either sign), with their contributions."""
        order = np.argsort(-np.abs(self.per_input), kind="stable")[:n]
        return [(int(i), float(self.per_input[i])) for i in order]

    @property
    def summed(self) -> float:
        """Every product added up (over all input maps), before the bias."""
        return float(self.products.sum())

    @property
    def before_relu(self) -> float:
        return self.summed + self.bias

    @property
    def value(self) -> float:
        """After the layer's ReLU."""
        return max(0.0, self.before_relu)


@dataclass(frozen=True)
class PoolUnit:
    layer: str
    row: int
    col: int
    channel: int
    window: np.ndarray  # (p, p): the input map's values under the pooling window
    top: int  # where the window starts in the map before
    left: int

    @property
    def value(self) -> float:
        return float(self.window.max())

    @property
    def winner(self) -> tuple[int, int]:
        """Where in the window the maximum is."""
        r, c = np.unravel_index(int(np.argmax(self.window)), self.window.shape)
        return int(r), int(c)


def layer_input(model: keras.Model, activations: dict[str, np.ndarray], layer: str, image):
    """The input of ``layer`` for this digit: the previous layer's output, or the image."""
    index = [x.name for x in model.layers].index(layer)
    before = model.layers[index - 1]
    if isinstance(before, keras.layers.InputLayer):
        return to_model_input(image)[0]
    return activations[before.name]


def conv_unit(
    model: keras.Model, inputs: np.ndarray, layer: str, row: int, col: int, channel: int
) -> ConvUnit:
    """Unit (row, col) of map ``channel`` of the Conv2D ``layer`` (stride 1, valid padding)."""
    conv = model.get_layer(layer)
    kernel, bias = conv.get_weights()
    k = kernel.shape[0]
    patch = inputs[row : row + k, col : col + k, :]
    return ConvUnit(layer, row, col, channel, patch, kernel[..., channel], float(bias[channel]))


def pool_unit(
    model: keras.Model, inputs: np.ndarray, layer: str, row: int, col: int, channel: int
) -> PoolUnit:
    """Unit (row, col) of map ``channel`` of the max-pooling ``layer``."""
    pool = model.get_layer(layer)
    p, s = int(pool.pool_size[0]), int(pool.strides[0])
    window = inputs[row * s : row * s + p, col * s : col * s + p, channel]
    return PoolUnit(layer, row, col, channel, window, row * s, col * s)


def strongest(maps: np.ndarray, channel: int) -> tuple[int, int]:
    """(row, col) of the largest value of map ``channel`` in ``maps`` (h, w, channels)."""
    r, c = np.unravel_index(int(np.argmax(maps[..., channel])), maps.shape[:2])
    return int(r), int(c)
