"""One learning step as a learner reads it: the forward pass, the chain of local derivatives and
the step as rows of a table, and the layer's gradient laid out as a grid a click can pick from.

Every number comes from ``learning_step`` (whose tests check it against tf.GradientTape and a
finite difference); this module only arranges and words them. Numbers are written with 7
significant digits, so what a learner copies from the page is the computed value to well within
1e-5.
"""

from __future__ import annotations

import math

import numpy as np

from mnist_viz.inside.learning_step import (
    CONV_INDEX,
    DENSE_INDEX,
    ConvChain,
    DenseChain,
    Forward,
    StepResult,
    WeightRef,
    symmetric_scale,
)

TOP_TERMS = 10  # the largest contributions listed under a sum of many
BLOCK = (
    1600  # a Dense layer's inputs shown at a time (classic's whole Flatten; 36,864 without pooling)
)


def num(value: float) -> str:
    """A number as the tables show it: 7 significant digits, signed when negative."""
    return f"{float(value):.7g}"


def forward_rows(fwd: Forward) -> list[dict[str, str]]:
    """Per class: the score z, the probability p = softmax(z), the target y and p - y (where
    the backward pass starts)."""
    return [
        {
            "class": str(k),
            "score z": num(fwd.logits[k]),
            "probability p": num(fwd.probabilities[k]),
            "target y": str(int(k == fwd.label)),
            "dL/dz = p - y": num(fwd.output_error[k]),
        }
        for k in range(len(fwd.logits))
    ]


def loss_text(fwd: Forward) -> str:
    """The cross-entropy loss of the true class, with its numbers."""
    return f"L = -log p({fwd.label}) = -log({num(fwd.p_true)}) = {num(fwd.loss)}" + (
        "" if fwd.p_true > 0 else " (computed from the scores: p rounds to 0)"
    )


def _row(step: str, rule: str, numbers: str) -> dict[str, str]:
    return {"step": step, "rule": rule, "with the numbers": numbers}


def _start_row(chain: DenseChain | ConvChain) -> dict[str, str]:
    errors = ", ".join(f"{k}: {num(v)}" for k, v in enumerate(chain.output_error))
    return _row("the class scores' errors", "dL/dz_k = p_k - y_k", errors)


def dense_rows(chain: DenseChain) -> list[dict[str, str]]:
    """The chain from the loss to a Dense weight w[i, j], one row per local derivative."""
    i, j = chain.ref.index
    rows = [_start_row(chain)]
    if chain.next_weights is None:
        rows.append(
            _row(
                f"class score {j}",
                f"dL/da_{j} = p_{j} - y_{j} (a class score: nothing lies after it)",
                num(chain.back_sum),
            )
        )
        rows.append(_row("no ReLU on a class score", "gate = 1", num(chain.gate)))
    else:
        n = len(chain.back_terms)
        rows.append(
            _row(
                f"back through the next layer's weights to unit {j}",
                f"dL/da_{j} = sum over its {n} outputs k of W_next[{j}, k] x delta_next_k",
                f"{n} terms add up to {num(chain.back_sum)}",
            )
        )
        if chain.gate and chain.pre_activation <= 0:  # only a layer without ReLU passes z <= 0
            step, state = f"unit {j} has no ReLU", "nothing to stop it"
        else:
            step = f"the ReLU's gate of unit {j}"
            state = "on (z > 0): the gradient passes" if chain.gate else "off (z <= 0): it stops"
        rows.append(
            _row(
                step,
                f"z_{j} = sum_i a_i w[i, {j}] + b_{j}; gate = 1 if z_{j} > 0 else 0",
                f"z_{j} = {num(chain.pre_activation)}, {state}: gate = {num(chain.gate)}",
            )
        )
    rows.append(
        _row(
            f"unit {j}'s error",
            f"delta_{j} = gate x dL/da_{j}",
            f"{num(chain.gate)} x {num(chain.back_sum)} = {num(chain.delta)}",
        )
    )
    rows.append(_row(f"what the weight multiplies: input {i}", f"a_{i}", num(chain.input_value)))
    rows.append(
        _row(
            "the gradient",
            f"dL/dw[{i}, {j}] = delta_{j} x a_{i}",
            f"{num(chain.delta)} x {num(chain.input_value)} = {num(chain.gradient)}",
        )
    )
    rows.append(
        _row(
            f"and unit {j}'s bias",
            f"dL/db_{j} = delta_{j} (a bias multiplies 1)",
            num(chain.delta),
        )
    )
    return rows


def terms_title(count: int, what: str) -> str:
    """The heading of a list of the largest ``what`` of ``count``."""
    return (
        f"The {what}" if count <= TOP_TERMS else f"The {TOP_TERMS} largest of the {count:,} {what}"
    )


def dense_terms(chain: DenseChain) -> list[dict[str, str]]:
    """The largest terms of a hidden unit's sum W_next[j, k] x delta_next_k (all of them for
    the ten class scores)."""
    if chain.next_weights is None:
        return []
    terms = chain.back_terms
    order = np.argsort(-np.abs(terms), kind="stable")[:TOP_TERMS]
    return [
        {
            "k": str(int(k)),
            f"W_next[{chain.ref.index[1]}, k]": num(chain.next_weights[k]),
            "delta_next_k": num(chain.next_delta[k]),
            "product": num(terms[k]),
        }
        for k in order
    ]


def conv_rows(chain: ConvChain) -> list[dict[str, str]]:
    """The chain from the loss to a kernel weight w[r, c, i, o], one row per local derivative;
    maps are summarised by their size, how many of their values are not zero, and their range."""
    r, c, i, o = chain.ref.index
    h, w = chain.delta.shape
    rows = [_start_row(chain)]
    if chain.pooled is not None:
        hp, wp = chain.pooled.shape
        rows.append(
            _row(
                f"back through the later layers to map {o} after pooling",
                "dL/d(pool output), by the same rules layer by layer",
                f"{hp} x {wp} values, {_spread(chain.pooled)}",
            )
        )
        won = int(np.count_nonzero(chain.winners))
        rows.append(
            _row(
                "the max pool's winners",
                "each window passes its gradient to its largest unit only (the first, at a tie)",
                f"{won} of {h * w} units are winners and receive it",
            )
        )
    rows.append(
        _row(
            f"at map {o}'s output",
            "dL/da at each position",
            f"{h} x {w} values, {_spread(chain.upstream)}",
        )
    )
    on = int(np.count_nonzero(chain.gate))
    rows.append(
        _row(
            "the ReLU's gate",
            "gate = 1 where z > 0, else 0",
            f"{on} of {h * w} units are on",
        )
    )
    rows.append(
        _row(
            f"map {o}'s error",
            "delta = gate x dL/da at each position",
            f"{int(np.count_nonzero(chain.delta))} of {h * w} not zero, {_spread(chain.delta)}",
        )
    )
    rows.append(
        _row(
            f"what the weight multiplies: input channel {i}, shifted by ({r}, {c})",
            f"input[y + {r}, x + {c}, {i}] at each position (y, x)",
            f"{h} x {w} values, {_spread(chain.inputs)}",
        )
    )
    rows.append(
        _row(
            "the gradient",
            f"dL/dw[{r}, {c}, {i}, {o}] = sum over the {h * w} positions of delta x input",
            f"{int(np.count_nonzero(chain.products))} products not zero, adding up to "
            f"{num(chain.gradient)}",
        )
    )
    rows.append(
        _row(
            f"and map {o}'s bias",
            f"dL/db = sum over the {h * w} positions of delta (a bias adds to every one)",
            num(chain.delta.sum()),
        )
    )
    return rows


def conv_terms(chain: ConvChain) -> list[dict[str, str]]:
    """The positions that contribute most to a kernel weight's gradient."""
    products = chain.products
    flat = np.argsort(-np.abs(products), axis=None, kind="stable")[:TOP_TERMS]
    rows = []
    for position in flat:
        y, x = np.unravel_index(position, products.shape)
        if products[y, x] == 0:  # sorted by size: the rest are zero too
            break
        rows.append(
            {
                "position (row, column)": f"({int(y)}, {int(x)})",
                "delta": num(chain.delta[y, x]),
                "input": num(chain.inputs[y, x]),
                "product": num(products[y, x]),
            }
        )
    return rows


def _spread(values: np.ndarray) -> str:
    values = np.asarray(values, np.float64)
    return f"from {num(values.min())} to {num(values.max())}"


def step_rows(result: StepResult) -> list[dict]:
    """The step, before and after: the weight, the loss and the answer."""
    lr, g = result.learning_rate, result.gradient
    predicted_before = int(np.argmax(result.probabilities_before))
    predicted_after = int(np.argmax(result.probabilities_after))
    return [
        {
            "what": "the weight",
            "before": num(result.weight_before),
            "change": f"-{num(lr)} x {num(g)} = {num(-lr * g)}",
            "after": num(result.weight_after),
        },
        {
            "what": "the loss L",
            "before": num(result.loss_before),
            "change": num(result.loss_after - result.loss_before),
            "after": num(result.loss_after),
        },
        {
            "what": "the answer",
            "before": str(predicted_before),
            "change": "" if predicted_before == predicted_after else "changed",
            "after": str(predicted_after),
        },
    ]


def probability_rows(result: StepResult) -> list[dict[str, str]]:
    """The ten probabilities before and after the step."""
    return [
        {
            "class": str(k),
            "before": num(before),
            "after": num(after),
            "change": num(after - before),
        }
        for k, (before, after) in enumerate(
            zip(result.probabilities_before, result.probabilities_after, strict=True)
        )
    ]


# -- the layer's gradient as a grid to pick a weight from --------------------------------------


def index_names(kernel_shape: tuple[int, ...]) -> tuple[str, ...]:
    """What each number of a weight's index means, for a kernel of this shape."""
    return CONV_INDEX if len(kernel_shape) == 4 else DENSE_INDEX


def grid_columns(inputs: int) -> int:
    """Columns of the picker grid for a Dense layer with this many inputs: 28 for the 784
    pixels (the grid is then the image), otherwise the smallest square that holds a block."""
    return 28 if inputs == 28 * 28 else math.ceil(math.sqrt(min(inputs, BLOCK)))


def block(ref: WeightRef, kernel_shape: tuple[int, ...]) -> tuple[int, int]:
    """The inputs a Dense weight's grid shows: (first, end), at most ``BLOCK`` of them, the
    block that holds ``ref``'s input (the whole kernel for a convolution: (0, 0))."""
    if ref.is_conv:
        return 0, 0
    first = ref.index[0] // BLOCK * BLOCK
    return first, min(kernel_shape[0], first + BLOCK)


def block_text(ref: WeightRef, kernel_shape: tuple[int, ...]) -> str:
    """Which inputs the grids show, when not all: e.g. " (inputs 1,600 to 3,199 of 36,864)"."""
    first, end = block(ref, kernel_shape)
    if ref.is_conv or (first, end) == (0, kernel_shape[0]):
        return ""
    return f" (inputs {first:,} to {end - 1:,} of {kernel_shape[0]:,})"


def picker_grid(gradient: np.ndarray, ref: WeightRef) -> np.ndarray:
    """The part of the layer's gradient the chosen weight sits in, as a 2-D grid: for a
    convolution the k x k kernel of its input and output channel; for a Dense layer the weights
    into its output unit from the ``block`` of inputs it is in, row by row (NaN where the last
    row runs out)."""
    if ref.is_conv:
        _, _, i, o = ref.index
        return np.asarray(gradient[:, :, i, o], np.float64)
    first, end = block(ref, gradient.shape)
    column = np.asarray(gradient[first:end, ref.index[1]], np.float64)
    width = grid_columns(gradient.shape[0])
    grid = np.full(math.ceil(len(column) / width) * width, np.nan)
    grid[: len(column)] = column
    return grid.reshape(-1, width)


def grid_cell(ref: WeightRef, kernel_shape: tuple[int, ...]) -> tuple[int, int]:
    """Where ``ref`` sits in ``picker_grid``: (row, column)."""
    if ref.is_conv:
        return ref.index[0], ref.index[1]
    first, _ = block(ref, kernel_shape)
    return divmod(ref.index[0] - first, grid_columns(kernel_shape[0]))


def index_at(
    cell: tuple[int, int], ref: WeightRef, kernel_shape: tuple[int, ...]
) -> tuple[int, ...] | None:
    """The index of the weight at ``cell`` of ``picker_grid`` (the other numbers kept from
    ``ref``), or None for a cell outside the grid (a click can come from a forged message)."""
    row, column = (int(v) for v in cell)
    if ref.is_conv:
        k_rows, k_cols = kernel_shape[:2]
        if 0 <= row < k_rows and 0 <= column < k_cols:
            return (row, column, *ref.index[2:])
        return None
    first, end = block(ref, kernel_shape)
    width = grid_columns(kernel_shape[0])
    unit = first + row * width + column
    if 0 <= column < width and row >= 0 and unit < end:
        return (unit, ref.index[1])
    return None


def strongest(gradient: np.ndarray) -> tuple[int, ...]:
    """The index of the weight with the largest |gradient| (the first, at a tie): a weight whose
    chain carries something, to start from."""
    return tuple(int(v) for v in np.unravel_index(np.argmax(np.abs(gradient)), gradient.shape))


def layer_tiles(gradient: np.ndarray, ref: WeightRef) -> tuple[np.ndarray, int]:
    """The whole layer's gradient as tiles (N, h, w) and tiles per row: a convolution's kernels,
    one row per input channel and one column per output channel (8 per row when it reads one
    channel); a Dense layer's weights into each output unit from ``ref``'s block of inputs,
    laid out as ``picker_grid``."""
    if gradient.ndim == 4:
        k_rows, k_cols, inputs, outputs = gradient.shape
        tiles = np.transpose(gradient, (2, 3, 0, 1)).reshape(-1, k_rows, k_cols)
        return tiles, (8 if inputs == 1 and outputs <= 32 else outputs)
    first, end = block(ref, gradient.shape)
    outputs = gradient.shape[1]
    width = grid_columns(gradient.shape[0])
    rows = math.ceil((end - first) / width)
    tiles = np.full((outputs, rows * width), np.nan)
    tiles[:, : end - first] = gradient[first:end].T
    return tiles.reshape(outputs, rows, width), (8 if outputs <= 32 else 16)


def layer_description(layer: str, gradient: np.ndarray, ref: WeightRef) -> str:
    """The whole-layer heat map in words: its layout, its scale and its largest values."""
    top = strongest(gradient)
    names = index_names(gradient.shape)
    where = ", ".join(f"{n} {v}" for n, v in zip(names, top, strict=True))
    positive = int(np.count_nonzero(gradient > 0))
    negative = int(np.count_nonzero(gradient < 0))
    if gradient.ndim == 4:
        layout = (
            f"{gradient.shape[2] * gradient.shape[3]} kernels of {gradient.shape[0]} x "
            f"{gradient.shape[1]}, one row per input channel ({gradient.shape[2]}) and one column "
            f"per output channel ({gradient.shape[3]})"
        )
    else:
        first, end = block(ref, gradient.shape)
        layout = (
            f"one tile per output unit ({gradient.shape[1]}), each holding the gradients of its "
            f"weights from inputs {first:,} to {end - 1:,} of {gradient.shape[0]:,}, row by row"
        )
    limit = num(symmetric_scale(gradient))
    return (
        f"The gradient of {layer}: {layout}. Blue is negative, red positive, white zero, on a "
        f"scale from -{limit} to +{limit}. In the whole layer, {positive:,} weights have a "
        f"positive gradient, {negative:,} a negative one, {gradient.size - positive - negative:,} "
        f"zero; the largest in size is {num(gradient[top])} ({where})."
    )
