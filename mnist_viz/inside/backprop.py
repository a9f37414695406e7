"""The local derivatives of each kind of layer, in plain numpy: what ``learning_step`` chains
together to carry the loss back to one weight.

Everything here is arithmetic on a layer's weights and on the activations of one forward pass in
inference mode (dropout is the identity), written out so that each intermediate number is a real
one; tf.GradientTape is only used by the tests, to check these numbers.
"""

from __future__ import annotations

import keras
import numpy as np

# -- the networks this module can differentiate ---------------------------------------------


def _activation(layer: keras.layers.Layer) -> str:
    # by identity, not by name: a leaky ReLU or a wrapped function is not written out here
    activation = getattr(layer, "activation", None)
    if activation is keras.activations.relu:
        return "relu"
    if activation is None or activation is keras.activations.linear:
        return "linear"
    raise ValueError(f"layer {layer.name!r}: only ReLU or no activation is written out")


def _check(layer: keras.layers.Layer) -> None:
    """ValueError unless ``layer`` is one whose derivative this module writes out: refused
    rather than shown with wrong numbers."""
    if isinstance(layer, keras.layers.Conv2D):
        _activation(layer)
        plain = (
            tuple(layer.strides) == (1, 1)
            and tuple(layer.dilation_rate) == (1, 1)
            and layer.padding == "valid"
            and layer.groups == 1
            and layer.data_format == "channels_last"
            and layer.use_bias
        )
        if not plain:
            raise ValueError(f"layer {layer.name!r}: only plain stride-1 convolutions")
    elif isinstance(layer, keras.layers.MaxPooling2D):
        if tuple(layer.strides) != tuple(layer.pool_size) or layer.padding != "valid":
            raise ValueError(f"layer {layer.name!r}: only non-overlapping max pooling")
    elif isinstance(layer, keras.layers.Dense):
        _activation(layer)
        if len(layer.input.shape) != 2:  # a Dense layer on maps works per position
            raise ValueError(f"layer {layer.name!r}: only Dense layers on a flat input")
        if not layer.use_bias:
            raise ValueError(f"layer {layer.name!r}: only Dense layers with a bias")
    elif not isinstance(layer, keras.layers.Flatten | keras.layers.Dropout):
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) is not supported")


def chain(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers from the input to the class scores (the layer before the softmax layer),
    each checked by ``_check``."""
    layers = [x for x in model.layers if not isinstance(x, keras.layers.InputLayer)]
    last = layers[-1] if layers else None
    if not isinstance(last, keras.layers.Activation) or last.activation.__name__ != "softmax":
        raise ValueError(f"model {model.name!r} does not end in a softmax layer")
    scores = layers[-2] if len(layers) > 1 else None
    if not isinstance(scores, keras.layers.Dense) or _activation(scores) != "linear":
        raise ValueError(f"model {model.name!r}: the softmax must read a linear Dense layer")
    for layer in layers[:-1]:
        _check(layer)
    return layers[:-1]


def weight_layers(model: keras.Model) -> list[str]:
    """The names of the layers with weights to learn (convolutions and Dense), input to output."""
    kinds = keras.layers.Conv2D | keras.layers.Dense
    return [layer.name for layer in chain(model) if isinstance(layer, kinds)]


# -- each layer's local derivative ------------------------------------------------------------


def relu_gate(layer: keras.layers.Layer, output: np.ndarray) -> np.ndarray:
    """relu'(z) as 0.0 or 1.0 for every unit of ``layer`` (all 1.0 for a linear layer).

    Read from the layer's output: a ReLU's output is positive exactly where z is; at z = 0 the
    derivative is taken as 0, as TensorFlow takes it.
    """
    if getattr(layer.activation, "__name__", "linear") == "relu":
        return (output > 0).astype(np.float64)
    return np.ones(output.shape)


def pool_winners(pool: keras.layers.Layer, before: np.ndarray) -> np.ndarray:
    """(H, W, C) 1.0 where a value of ``before`` (the pool's input) won its window, else 0.

    The first maximum in reading order wins a tie, as TensorFlow's max-pool gradient picks it;
    rows and columns no window covers (an odd side) win nothing.
    """
    ph, pw = (int(s) for s in pool.pool_size)
    h, w, c = before.shape
    hp, wp = h // ph, w // pw
    windows = before[: hp * ph, : wp * pw].reshape(hp, ph, wp, pw, c)
    windows = windows.transpose(0, 2, 4, 1, 3).reshape(hp, wp, c, ph * pw)
    first = np.arange(ph * pw) == windows.argmax(axis=-1)[..., None]
    mask = first.reshape(hp, wp, c, ph, pw).transpose(0, 3, 1, 4, 2).reshape(hp * ph, wp * pw, c)
    out = np.zeros(before.shape)
    out[: hp * ph, : wp * pw] = mask
    return out


def through_pool(pool: keras.layers.Layer, before: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The gradient at a max pool's input: each window's gradient goes to its winner only (the
    other values did not reach the output, so nudging them changes nothing)."""
    ph, pw = (int(s) for s in pool.pool_size)
    spread = np.repeat(np.repeat(grad, ph, axis=0), pw, axis=1)
    full = np.zeros(before.shape)
    full[: spread.shape[0], : spread.shape[1]] = spread
    return full * pool_winners(pool, before)


def conv_input_gradient(kernel: np.ndarray, delta: np.ndarray, input_shape) -> np.ndarray:
    """dL/d(input) of a stride-1 valid convolution, from delta = dL/dz (H, W, out): each kernel
    tap (r, c) sends delta back to the input values it read, weighted by its weights."""
    kh, kw = kernel.shape[:2]
    h, w = delta.shape[:2]
    grad = np.zeros(input_shape)
    for r in range(kh):
        for c in range(kw):
            grad[r : r + h, c : c + w] += delta @ kernel[r, c].T.astype(np.float64)
    return grad


def conv_kernel_gradient(inputs: np.ndarray, delta: np.ndarray, kernel_shape) -> np.ndarray:
    """dL/dK[r, c, i, o] = sum over every output position (y, x) of delta[y, x, o] times the
    input value that weight multiplied there, inputs[y + r, x + c, i]."""
    kh, kw, n_in, n_out = kernel_shape
    h, w = delta.shape[:2]
    flat_delta = delta.reshape(-1, n_out)
    grad = np.empty(kernel_shape)
    for r in range(kh):
        for c in range(kw):
            patch = inputs[r : r + h, c : c + w].reshape(-1, n_in).astype(np.float64)
            grad[r, c] = patch.T @ flat_delta
    return grad


def back_through(layer: keras.layers.Layer, before: np.ndarray, output: np.ndarray, grad):
    """The gradient at ``layer``'s input from the gradient at its output (``grad``)."""
    if isinstance(layer, keras.layers.Dense):
        return layer.get_weights()[0].astype(np.float64) @ (grad * relu_gate(layer, output))
    if isinstance(layer, keras.layers.Conv2D):
        delta = grad * relu_gate(layer, output)
        return conv_input_gradient(layer.get_weights()[0], delta, before.shape)
    if isinstance(layer, keras.layers.MaxPooling2D):
        return through_pool(layer, before, grad)
    if isinstance(layer, keras.layers.Flatten):
        return grad.reshape(before.shape)  # flattening only reorders the values
    return grad  # dropout in inference mode: the identity


def layer_inputs(layers: list, image: np.ndarray, activations: dict) -> dict[str, np.ndarray]:
    """Each layer's input: the output of the layer before it, or the image for the first."""
    inputs, before = {}, image
    for layer in layers:
        inputs[layer.name] = before
        before = activations[layer.name]
    return inputs


def back_to(
    layers: list, image: np.ndarray, activations: dict, output_error: np.ndarray, target: str
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """dL/d(output of ``target``), from dL/dz at the class scores (the last of ``layers``, a
    ``chain``), and the gradient at the output of each layer passed on the way, by name."""
    inputs = layer_inputs(layers, image, activations)
    grad, passed = np.asarray(output_error, np.float64), {}
    for layer in reversed(layers):
        if layer.name == target:
            return grad, passed
        passed[layer.name] = grad
        grad = back_through(layer, inputs[layer.name], activations[layer.name], grad)
    raise ValueError(f"no layer {target!r} on the way back")


def kernel_and_bias_gradients(layer: keras.layers.Layer, before: np.ndarray, delta: np.ndarray):
    """(dL/dkernel, dL/dbias) of a Conv2D or Dense layer from its input and delta = dL/dz."""
    kernel_shape = tuple(layer.kernel.shape)
    if isinstance(layer, keras.layers.Conv2D):
        return conv_kernel_gradient(before, delta, kernel_shape), delta.sum(axis=(0, 1))
    return np.outer(before.astype(np.float64), delta), delta
