"""How it learns, one step as arithmetic: the loss of one digit, the chain of local derivatives
that carries it back to one weight (with the actual numbers), and one plain SGD step.

The forward pass is Keras' own, read at the class scores (the layer before the softmax layer).
The backward pass is explicit numpy arithmetic on the layer weights and activations, so every
number shown is one a learner could recompute; the tests check each against tf.GradientTape.

The network runs in inference mode throughout: dropout is the identity and is never applied as
in training, so a step is deterministic and can be replayed number by number. Supported networks
are chains of Conv2D (stride 1, valid padding), non-overlapping MaxPooling2D, Flatten, Dropout
and Dense layers (ReLU or linear) ending in linear class scores and a softmax layer: every
network ``architecture.build`` makes. Anything else is refused with a ValueError.
"""

from __future__ import annotations

import math
import numbers
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from mnist_viz.core.data import IMAGE_SIZE, NUM_CLASSES
from mnist_viz.core.model import inference_fn, to_model_input
from mnist_viz.inside import backprop
from mnist_viz.inside.backprop import weight_layers

MAX_LEARNING_RATE = 10.0
CONV_INDEX = ("row", "column", "input channel", "output channel")
DENSE_INDEX = ("input unit", "output unit")


# -- what a user may ask for, checked before it becomes an index or a job ------------------------


@dataclass(frozen=True)
class WeightRef:
    """One weight of a layer's kernel: (row, column, input channel, output channel) for a
    convolution, (input unit, output unit) for a Dense layer. Make it with ``weight_ref``."""

    layer: str
    index: tuple[int, ...]

    @property
    def is_conv(self) -> bool:
        return len(self.index) == 4

    def describe(self) -> str:
        """e.g. "conv1: row 0, column 2, input channel 0, output channel 5"."""
        names = CONV_INDEX if self.is_conv else DENSE_INDEX
        return f"{self.layer}: " + ", ".join(
            f"{n} {i}" for n, i in zip(names, self.index, strict=True)
        )


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"the {what} must be a whole number, got {value!r}")
    return int(value)


def weight_ref(model: keras.Model, layer: str, index: Sequence[int]) -> WeightRef:
    """A checked reference to one weight of ``model``: ValueError naming what is wrong."""
    names = weight_layers(model)
    if not isinstance(layer, str) or layer not in names:
        raise ValueError(f"no layer {layer!r} with weights to learn; choose {', '.join(names)}")
    shape = tuple(model.get_layer(layer).kernel.shape)
    labels = CONV_INDEX if len(shape) == 4 else DENSE_INDEX
    if isinstance(index, np.ndarray) and index.ndim == 1:
        index = index.tolist()  # numbers as Python's, floats still refused below
    if isinstance(index, str | bytes) or not isinstance(index, Sequence):
        raise ValueError(
            f"a weight of {layer} is given by {len(shape)} numbers: {', '.join(labels)}"
        )
    if len(index) != len(shape):
        raise ValueError(
            f"a weight of {layer} is given by {len(shape)} numbers ({', '.join(labels)}), "
            f"got {len(index)}"
        )
    checked = []
    for value, size, label in zip(index, shape, labels, strict=True):
        number = _whole(value, label)
        if not 0 <= number < size:  # no negative indices: numpy would wrap them around
            raise ValueError(f"the {label} of {layer} is 0 to {size - 1}, got {number}")
        checked.append(number)
    return WeightRef(layer, tuple(checked))


def checked_learning_rate(value: object) -> float:
    """``value`` as a learning rate: a finite number with 0 < lr <= 10, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"the learning rate must be a number, got {value!r}")
    lr = float(value)
    if not (math.isfinite(lr) and 0.0 < lr <= MAX_LEARNING_RATE):
        raise ValueError(f"the learning rate must be above 0 and at most {MAX_LEARNING_RATE:g}")
    return lr


def checked_label(value: object) -> int:
    """``value`` as a true class: a whole number from 0 to 9, else ValueError."""
    digit = _whole(value, "label")
    if not 0 <= digit < NUM_CLASSES:
        raise ValueError(f"the label must be a digit from 0 to {NUM_CLASSES - 1}, got {digit}")
    return digit


def _checked_input(image: np.ndarray, label: object) -> tuple[np.ndarray, int]:
    x = to_model_input(image)
    if x.shape != (1, IMAGE_SIZE, IMAGE_SIZE, 1):
        raise ValueError(f"the image must be one {IMAGE_SIZE} x {IMAGE_SIZE} digit")
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        raise ValueError("the image's pixels must be between 0 and 1")
    return x, checked_label(label)


# -- forward: the class scores, the probabilities and the loss -----------------------------------


@dataclass(frozen=True)
class Forward:
    """One digit through the network (inference mode) and its cross-entropy loss."""

    label: int
    image: np.ndarray  # (28, 28, 1) what the network read
    activations: dict[str, np.ndarray]  # every layer's output up to the class scores
    logits: np.ndarray  # (10,) the model's own class scores
    probabilities: np.ndarray  # (10,) softmax of the logits

    @property
    def p_true(self) -> float:
        """The probability given to the true class."""
        return float(self.probabilities[self.label])

    @property
    def loss(self) -> float:
        """L = -log p_label, computed as logsumexp(z) - z_label: the same number, without
        rounding p_label to 0 when the network is very wrong."""
        top = self.logits.max()
        return float(top + np.log(np.exp(self.logits - top).sum()) - self.logits[self.label])

    @property
    def one_hot(self) -> np.ndarray:
        return np.eye(NUM_CLASSES)[self.label]

    @property
    def output_error(self) -> np.ndarray:
        """dL/dz_k = p_k - y_k for all ten class scores: where the backward pass starts."""
        return self.probabilities - self.one_hot


_ACTIVATION_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def forward(model: keras.Model, image: np.ndarray, label: int) -> Forward:
    """``image`` (28 x 28, floats in [0, 1]) with true class ``label`` through ``model``."""
    x, label = _checked_input(image, label)
    chain = backprop.chain(model)
    sub = _ACTIVATION_MODELS.get(model)
    if sub is None:  # shares the model's weights, so it stays right after a step
        sub = keras.Model(model.input, [layer.output for layer in chain])
        _ACTIVATION_MODELS[model] = sub
    # traced once per network (~20 ms an eager call, three of them per step); training=False:
    # dropout stays the identity
    outputs = inference_fn(sub)(x)
    acts = {layer.name: np.asarray(out)[0] for layer, out in zip(chain, outputs, strict=True)}
    logits = acts[chain[-1].name].astype(np.float64)
    exp = np.exp(logits - logits.max())  # shifted: the same softmax, no overflow
    return Forward(label, x[0], acts, logits, exp / exp.sum())


# -- backward: the chain of local derivatives, with the numbers ---------------------------------


@dataclass(frozen=True)
class DenseChain:
    """dL/dw for a Dense weight w[i, j]: delta_j * a_i, with delta_j = gate * back_sum.

    For the class scores' own weights, back_sum is p_j - y_j and the gate 1 (no ReLU); for a
    hidden layer, back_sum = sum_k W_next[j, k] * delta_next_k (delta_next = p - y when the next
    layer is the class scores) and the gate is relu'(z_j).
    """

    ref: WeightRef
    output_error: np.ndarray  # (10,) dL/dz_k = p_k - y_k
    input_value: float  # a_i: what the weight multiplies
    pre_activation: float  # z_j = sum_i a_i w[i, j] + b_j
    gate: float  # relu'(z_j): 0.0 or 1.0 (1.0 without a ReLU)
    next_weights: np.ndarray | None  # (n,) W_next[j, :]; None for the class scores
    next_delta: np.ndarray | None  # (n,) dL/dz of the next layer

    @property
    def back_terms(self) -> np.ndarray:
        """W_next[j, k] * delta_next_k for each k (for the class scores: (p_j - y_j) alone)."""
        if self.next_weights is None:
            return self.output_error[self.ref.index[1] : self.ref.index[1] + 1]
        return self.next_weights * self.next_delta

    @property
    def back_sum(self) -> float:
        """dL/da_j: how the loss changes with this unit's output."""
        return float(self.back_terms.sum())

    @property
    def delta(self) -> float:
        """dL/dz_j = gate * back_sum."""
        return self.gate * self.back_sum

    @property
    def gradient(self) -> float:
        """dL/dw[i, j] = delta_j * a_i."""
        return self.delta * self.input_value


@dataclass(frozen=True)
class ConvChain:
    """dL/dw for a kernel weight w[r, c, i, o]: the sum over every output position (y, x) of
    delta[y, x] * input[y + r, x + c, i], delta being dL/dz of map o (passed back through the
    later layers, the max pool's winners and this layer's ReLU gate)."""

    ref: WeightRef
    output_error: np.ndarray  # (10,) dL/dz_k = p_k - y_k
    pooled: np.ndarray | None  # (Hp, Wp) dL/d(pool output) of map o; None without a pool after
    winners: np.ndarray | None  # (H, W) bool: each pool window's winner; None without a pool
    upstream: np.ndarray  # (H, W) dL/da: at this layer's ReLU output, map o
    gate: np.ndarray  # (H, W) relu'(z): 1.0 where the unit is on
    inputs: np.ndarray  # (H, W) input[y + r, x + c, i]: what the weight multiplies at (y, x)

    @property
    def delta(self) -> np.ndarray:
        """(H, W) dL/dz of map o = gate * upstream."""
        return self.gate * self.upstream

    @property
    def products(self) -> np.ndarray:
        """(H, W) delta * input at every position."""
        return self.delta * self.inputs

    @property
    def gradient(self) -> float:
        """dL/dw: every product added up (the weight is used at every position)."""
        return float(self.products.sum())


def backward(model: keras.Model, fwd: Forward, ref: WeightRef) -> DenseChain | ConvChain:
    """The chain from the loss to the weight ``ref`` with its numbers; ``fwd`` must be
    ``forward`` of this model as it is now."""
    ref = weight_ref(model, ref.layer, ref.index)  # a reference may come from another model
    layers = backprop.chain(model)
    layer = model.get_layer(ref.layer)
    grad, passed = backprop.back_to(layers, fwd.image, fwd.activations, fwd.output_error, ref.layer)
    before = backprop.layer_inputs(layers, fwd.image, fwd.activations)[ref.layer]
    gate = backprop.relu_gate(layer, fwd.activations[ref.layer])
    later = layers[layers.index(layer) + 1 :]
    if ref.is_conv:
        r, c, i, o = ref.index
        h, w = grad.shape[:2]
        pooled = winners = None
        if isinstance(later[0], keras.layers.MaxPooling2D):
            pooled = passed[later[0].name][..., o]
            winners = backprop.pool_winners(later[0], fwd.activations[ref.layer])[..., o] > 0
        inputs = before[r : r + h, c : c + w, i].astype(np.float64)
        return ConvChain(ref, fwd.output_error, pooled, winners, grad[..., o], gate[..., o], inputs)
    i, j = ref.index
    kernel, bias = (x.astype(np.float64) for x in layer.get_weights())
    z = float(before.astype(np.float64) @ kernel[:, j] + bias[j])
    following = next((x for x in later if isinstance(x, keras.layers.Dense)), None)
    next_weights = next_delta = None
    if following is not None:  # only dropout lies between two Dense layers
        next_weights = following.get_weights()[0][j].astype(np.float64)
        out = fwd.activations[following.name]
        next_delta = passed[following.name] * backprop.relu_gate(following, out)
    return DenseChain(
        ref, fwd.output_error, float(before[i]), z, float(gate[j]), next_weights, next_delta
    )


def layer_gradients(model: keras.Model, fwd: Forward, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dkernel, dL/dbias) of the whole ``layer``, from the same arithmetic as ``backward``."""
    if layer not in weight_layers(model):
        raise ValueError(
            f"no layer {layer!r} with weights; choose {', '.join(weight_layers(model))}"
        )
    chain = backprop.chain(model)
    grad, _ = backprop.back_to(chain, fwd.image, fwd.activations, fwd.output_error, layer)
    keras_layer = model.get_layer(layer)
    delta = grad * backprop.relu_gate(keras_layer, fwd.activations[layer])
    before = backprop.layer_inputs(chain, fwd.image, fwd.activations)[layer]
    return backprop.kernel_and_bias_gradients(keras_layer, before, delta)


def layer_gradient(model: keras.Model, fwd: Forward, layer: str) -> np.ndarray:
    """dL/dkernel of ``layer`` (the kernel's shape), e.g. for a heat map of the whole layer."""
    return layer_gradients(model, fwd, layer)[0]


def symmetric_scale(gradient: np.ndarray) -> float:
    """max |g|: a colour scale from -max to +max shows signs truthfully, with 0 in the middle
    and no value exaggerated; 1.0 when every value is 0 (any scale shows zeros as zeros)."""
    top = float(np.max(np.abs(gradient))) if np.size(gradient) else 0.0
    return top if top > 0 and math.isfinite(top) else 1.0


# -- one step of plain SGD on a private copy -----------------------------------------------------

_PRIVATE: weakref.WeakSet = weakref.WeakSet()


def private_copy(model: keras.Model) -> keras.Model:
    """A clone of ``model`` with its own weights: the only kind of model ``step`` changes, so the
    shared network never learns from one learner's click."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    _PRIVATE.add(copy)
    return copy


@dataclass(frozen=True)
class StepResult:
    """One SGD step: the chosen weight and the digit's loss and probabilities, before and after."""

    ref: WeightRef
    learning_rate: float
    gradient: float  # dL/dw of the chosen weight
    weight_before: float
    weight_after: float  # weight_before - learning_rate * gradient (in float32)
    loss_before: float
    loss_after: float
    probabilities_before: np.ndarray
    probabilities_after: np.ndarray


def step(
    model_copy: keras.Model, image: np.ndarray, label: int, ref: WeightRef, learning_rate: float
) -> StepResult:
    """w <- w - lr * dL/dw for the kernel and bias of ``ref``'s layer only (every other layer is
    left as it was), on ``model_copy``, which must come from ``private_copy``."""
    if model_copy not in _PRIVATE:
        raise ValueError("step changes only a model made by private_copy, never a shared one")
    lr = checked_learning_rate(learning_rate)
    ref = weight_ref(model_copy, ref.layer, ref.index)
    before = forward(model_copy, image, label)
    kernel_grad, bias_grad = layer_gradients(model_copy, before, ref.layer)
    layer = model_copy.get_layer(ref.layer)
    kernel, bias = layer.get_weights()
    layer.set_weights(
        [
            (kernel - lr * kernel_grad).astype(kernel.dtype),
            (bias - lr * bias_grad).astype(bias.dtype),
        ]
    )
    after = forward(model_copy, image, label)
    return StepResult(
        ref,
        lr,
        float(kernel_grad[ref.index]),
        float(kernel[ref.index]),
        float(layer.get_weights()[0][ref.index]),
        before.loss,
        after.loss,
        before.probabilities,
        after.probabilities,
    )
