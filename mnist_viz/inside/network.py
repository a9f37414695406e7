"""What the trained network holds: conv kernels, the data-flow diagram, ranked dense units."""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.model import LayerInfo

# What each layer type does, in one line a learner can read beside the diagram.
LAYER_ROLE = {
    "InputLayer": "the 28x28 grey image",
    "Conv2D": "filters + ReLU",
    "MaxPooling2D": "keep the max of each 2x2",
    "Flatten": "unroll into one vector",
    "Dropout": "training only",
    "Dense": "weighted sums",
    "Activation": "softmax: scores to probabilities",
}


def layer_role(layer: keras.layers.Layer) -> str:
    """What one layer does, in a few words, with its own sizes (e.g. "3x3 filters + ReLU")."""
    if isinstance(layer, keras.layers.Conv2D):
        h, w = layer.kernel_size
        return f"{h}x{w} filters + ReLU"
    if isinstance(layer, keras.layers.MaxPooling2D):
        h, w = layer.pool_size
        return f"keep the max of each {h}x{w}"
    if isinstance(layer, keras.layers.Dense):
        relu = layer.activation is keras.activations.relu
        return "weighted sums + ReLU" if relu else "weighted sums"
    return LAYER_ROLE.get(type(layer).__name__, "")


def parameter_arithmetic(model: keras.Model) -> list[str]:
    """How each learning layer's parameter count comes about, in words, from its own weights'
    shapes, e.g. "conv1: 32 filters x (3 x 3 x 1 weights) + 32 biases = 320"."""
    lines = []
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        kernel = weights[0]
        total = int(sum(w.size for w in weights))
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, inputs, filters = kernel.shape
            lines.append(
                f"{layer.name}: {filters} filters x ({kh} x {kw} x {inputs} weights) "
                f"+ {filters} biases = {total:,}"
            )
        elif isinstance(layer, keras.layers.Dense):
            inputs, units = kernel.shape
            lines.append(f"{layer.name}: {inputs:,} x {units} + {units} = {total:,}")
    return lines


def dense_input_text(model: keras.Model, layer: keras.layers.Layer) -> str:
    """What feeds the Dense ``layer``, for a learner: "pool2's 64 maps of 5 x 5 are flattened into
    1,600 numbers", "the 784 pixels are flattened into 784 numbers", or "dense1's 256 values"."""
    i = model.layers.index(layer) - 1
    while i > 0 and isinstance(model.layers[i], keras.layers.Dropout | keras.layers.Flatten):
        i -= 1
    source = model.layers[i]
    shape = tuple(int(d) for d in source.output.shape[1:])
    n = int(np.prod(shape))
    if isinstance(source, keras.layers.InputLayer):
        return f"the {n:,} pixels are flattened into {n:,} numbers"
    if len(shape) == 3:
        h, w, c = shape
        return f"{source.name}'s {c} maps of {h} x {w} are flattened into {n:,} numbers"
    return f"{source.name}'s {n:,} values"


def conv_kernels(model: keras.Model, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """The kernels (k, k, inputs, filters) and biases (filters,) of a Conv2D layer."""
    kernel, bias = model.get_layer(layer).get_weights()
    return kernel, bias


def kernels_of_filter(kernel: np.ndarray, filter_index: int) -> np.ndarray:
    """The (inputs, k, k) kernels one filter applies to each input channel."""
    return np.moveaxis(kernel[:, :, :, filter_index], -1, 0)


def kernels_on_input(kernel: np.ndarray, channel: int) -> np.ndarray:
    """The (filters, k, k) kernels that every filter applies to one input channel."""
    return np.moveaxis(kernel[:, :, channel, :], -1, 0)


def pixel_templates(kernel: np.ndarray, shown: int) -> np.ndarray:
    """A dense layer's first ``shown`` units on the pixels, (784, units) weights, as
    (shown, 28, 28) images: one weight per pixel, where that pixel is."""
    side = math.isqrt(kernel.shape[0])
    return np.asarray(kernel)[:, :shown].T.reshape(shown, side, side)


def shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(str(d) for d in shape)


def data_flow_dot(rows: list[LayerInfo], per_row: int = 5) -> str:
    """A Graphviz diagram of the layers with their output shapes, ``per_row`` boxes per row
    (one long row would shrink the text to nothing on a laptop screen)."""
    nodes, edges, ranks = [], [], []
    for i, row in enumerate(rows):
        dashed = ', style="rounded,dashed"' if row.kind == "Dropout" else ""
        shape = shape_text(row.output_shape).replace(" ", "")
        nodes.append(f'  n{i} [label="{row.name}\\n{shape}"{dashed}];')
        if i:
            same_row = i % per_row != 0
            edges.append(f"  n{i - 1} -> n{i}{'' if same_row else ' [constraint=false]'};")
    for start in range(0, len(rows), per_row):
        members = " ".join(f"n{i};" for i in range(start, min(start + per_row, len(rows))))
        ranks.append(f"  {{ rank=same; {members} }}")
    # invisible edges stack the rows top to bottom, each row's first box under the last row's
    stack = [f"  n{s - per_row} -> n{s} [style=invis];" for s in range(per_row, len(rows), per_row)]
    return "\n".join(
        [
            "digraph G {",
            '  rankdir=TB; bgcolor="transparent"; nodesep=0.35; ranksep=0.35;',
            '  node [shape=box, style=rounded, fontname="sans-serif", fontsize=14,'
            ' margin="0.12,0.06", color="#888888", fontcolor="#888888"];',
            '  edge [color="#888888"];',
            *nodes,
            *edges,
            *stack,
            *ranks,
            "}",
        ]
    )


@dataclass(frozen=True)
class UnitRanking:
    """Dense units sorted from most to least active."""

    order: np.ndarray  # unit indices, most active first
    values: np.ndarray  # their activations, in that order
    active: int  # how many units are above zero (ReLU lets the rest through as exact zeros)


def rank_units(activations: np.ndarray) -> UnitRanking:
    """Sort a dense layer's activations (units,) in decreasing order."""
    activations = np.asarray(activations).ravel()
    order = np.argsort(activations, kind="stable")[::-1]
    return UnitRanking(order, activations[order], int(np.sum(activations > 0)))


@dataclass(frozen=True)
class MapSummary:
    """What the feature-map view says about one layer's maps (height, width, channels)."""

    low: float  # the smallest activation (0 after a ReLU)
    peak: float  # the largest activation
    channel_peaks: np.ndarray  # (channels,) each map's largest activation
    silent: int  # maps that are zero (or below) everywhere for this digit

    def legend(self, per_channel: bool) -> tuple[float, float]:
        """The colour scale's ends: each map's own share of its maximum, or one scale for the
        layer that includes zero (so that a faint map looks faint)."""
        return (0.0, 1.0) if per_channel else (min(0.0, self.low), self.peak or 1.0)


def summarise_maps(maps: np.ndarray) -> MapSummary:
    """The numbers the feature-map view prints beside a layer's maps."""
    maps = np.asarray(maps)
    channel_peaks = maps.max(axis=(0, 1))
    return MapSummary(
        float(maps.min()), float(maps.max()), channel_peaks, int(np.sum(channel_peaks <= 0))
    )
