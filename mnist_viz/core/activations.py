"""Every layer's output for one image, from one forward pass through a functional sub-model."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from mnist_viz.core.model import DROPOUT, inference_fn, to_model_input


def build_activation_model(model: keras.Model) -> keras.Model:
    """A model with the same input whose outputs are every layer's output (dropout excepted,
    which is the identity at inference)."""
    layers = [layer for layer in model.layers[1:] if layer.name != DROPOUT]
    return keras.Model(model.inputs, [layer.output for layer in layers], name="activations")


def layer_activations(activation_model: keras.Model, image: np.ndarray) -> dict[str, np.ndarray]:
    """{layer name: output for ``image``} with the batch axis removed, e.g. conv1 -> (26, 26, 32)."""
    outputs = inference_fn(activation_model)(tf.constant(to_model_input(image)[:1]))
    names = activation_model.output_names  # the layer names, in the order of the outputs
    return {name: out.numpy()[0] for name, out in zip(names, outputs, strict=True)}
