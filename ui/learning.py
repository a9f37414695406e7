"""How it learns, the Streamlit side: the session's private copy of its network (made at its
first step), the weight picker (number inputs, or a click on the gradient map), the step's
buttons, and the side-by-side run of backpropagation and feedback alignment as a queued job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import streamlit as st

from mnist_viz.core.data import MnistData
from mnist_viz.inputs.digit import Digit
from mnist_viz.inside import feedback_alignment as fa
from mnist_viz.inside import learning_step, step_table
from mnist_viz.inside.backprop import weight_layers
from mnist_viz.view import learning_charts, render
from mnist_viz.view.charts import UNIT_SELECTION
from ui.chart import chart, new_click
from ui.digit import current_digit
from ui.jobs import COMPUTE, follow_job, queue, shared_results

COPY = "learning_copy"  # session state: a ``StepCopy``
LAST_STEP = "learning_last_step"  # session state: (digit key, label, StepResult, steps on it)
STEP_ERROR = "learning_step_error"  # session state: a sentence when a step was refused
LAYER, RATE = "learning_layer", "learning_rate"  # the widgets' keys
PICK = "learning_pick"  # the gradient map's selection (its key; the layer and slot are added)


@dataclass
class StepCopy:
    """This session's own copy of its network, and how many steps it has taken."""

    model_sha256: str
    model: keras.Model
    steps: int = 0


def _copy(model_sha256: str) -> StepCopy | None:
    held = st.session_state.get(COPY)
    return held if isinstance(held, StepCopy) and held.model_sha256 == model_sha256 else None


def network_for_page(model_sha256: str, shared: keras.Model) -> tuple[keras.Model, int]:
    """The network the page reads, and its steps so far: the session's copy once it has taken a
    step, else the shared network itself (only read: a copy is made at the first step)."""
    held = _copy(model_sha256)
    return (held.model, held.steps) if held else (shared, 0)


def reset_copy() -> None:
    """Forget the stepped copy: the page reads the session's network again."""
    for key in (COPY, LAST_STEP, STEP_ERROR):
        st.session_state.pop(key, None)


def _label_key(digit: Digit) -> str:
    return f"learning_label_{digit.key}"


def true_label(digit: Digit) -> int | None:
    """The digit's true class: its own label (a test image), else the learner's answer (None
    until given; a forged value is refused with a warning)."""
    if digit.label is not None:
        st.caption(f"Its true label, from MNIST: **{digit.label}**.")
        return digit.label
    answer = st.selectbox(
        "What digit is it really? (the loss needs the true answer)",
        range(10),
        index=None,
        placeholder="Choose the true digit",
        key=_label_key(digit),
    )
    return _checked_label(answer)


def _checked_label(answer: object) -> int | None:
    if answer is None:
        return None
    try:
        return learning_step.checked_label(answer)
    except ValueError as exc:  # a forged value
        st.warning(f"That is not a true label: {exc}.")
        return None


def _index_keys(layer: str, shape: tuple[int, ...]) -> list[str]:
    return [f"learning_{layer}_{n.replace(' ', '_')}" for n in step_table.index_names(shape)]


def _layer_title(model: keras.Model, name: str) -> str:
    shape = tuple(model.get_layer(name).kernel.shape)
    kind = "convolution" if len(shape) == 4 else "dense"
    return f"{name} ({kind}, kernel {' x '.join(map(str, shape))})"


def weight_picker(
    model: keras.Model, fwd: learning_step.Forward
) -> tuple[learning_step.WeightRef, np.ndarray]:
    """The layer and the weight to follow back: number inputs (the keyboard's way) kept in step
    with a click on the map of the layer's gradient. Returns (the weight, the layer's
    gradient)."""
    layers = weight_layers(model)
    layer = st.selectbox("Layer", layers, key=LAYER, format_func=lambda n: _layer_title(model, n))
    if layer not in layers:  # Streamlit passes on a value it does not know (a forged message)
        st.warning(f"There is no layer {str(layer)[:40]!r} to learn; showing {layers[0]}.")
        layer = layers[0]
    shape = tuple(model.get_layer(layer).kernel.shape)
    gradient = learning_step.layer_gradient(model, fwd, layer)
    keys = _index_keys(layer, shape)
    state = st.session_state
    if any(k not in state for k in keys):  # start where the gradient is largest
        for key, value in zip(keys, step_table.strongest(gradient), strict=True):
            state[key] = value
    _follow_click(model, layer, keys, shape)
    columns = st.columns(len(keys))
    index = [
        column.number_input(name.capitalize(), 0, size - 1, key=key, step=1)
        for column, name, size, key in zip(
            columns, step_table.index_names(shape), shape, keys, strict=True
        )
    ]
    return learning_step.weight_ref(model, layer, index), gradient


def _pick_key(layer: str, shape: tuple[int, ...], index: list[int]) -> str:
    # one map per kernel (convolution) or per output unit and block of inputs (dense): the
    # selection belongs to that map
    slot = index[2:] if len(shape) == 4 else [index[1], index[0] // step_table.BLOCK]
    return f"{PICK}_{layer}_{'_'.join(map(str, slot))}"


def _follow_click(model: keras.Model, layer: str, keys: list[str], shape: tuple[int, ...]) -> None:
    """Point the number inputs at the cell last clicked on the map (before they are drawn:
    Streamlit lets a widget's value be set only then). A cell outside the grid is ignored."""
    state = st.session_state
    try:
        ref = learning_step.weight_ref(model, layer, [state[k] for k in keys])
    except ValueError:
        return
    clicked = new_click(_pick_key(layer, shape, list(ref.index)))
    index = step_table.index_at(clicked, ref, shape) if clicked is not None else None
    if index is not None:
        for key, value in zip(keys, index, strict=True):
            state[key] = value


def gradient_map(ref: learning_step.WeightRef, gradient: np.ndarray) -> None:
    """The clickable map around the chosen weight, and the whole layer's gradient as tiles."""
    shape = tuple(gradient.shape)
    limit = learning_step.symmetric_scale(gradient)
    grid = step_table.picker_grid(gradient, ref)
    inputs = step_table.block_text(ref, shape)
    where = (
        f"the {shape[0]} x {shape[1]} kernel from input channel {ref.index[2]} to output "
        f"channel {ref.index[3]}"
        if ref.is_conv
        else f"the weights into unit {ref.index[1]}{inputs}, row by row, "
        f"{step_table.grid_columns(shape[0])} per row"
    )
    left, right = st.columns([2, 3])
    with left:
        chart(
            learning_charts.signed_picker_chart(grid, step_table.grid_cell(ref, shape), limit),
            f"The gradient of {where} in {ref.layer}; click a cell to follow that weight",
            on_select="rerun",
            selection_mode=UNIT_SELECTION,
            key=_pick_key(ref.layer, shape, list(ref.index)),
            width="content",
        )
        st.caption(
            f"The gradient of {where}, outlined: the chosen weight. Click a cell to choose it; "
            f"the colours run from -{step_table.num(limit)} (blue) to +{step_table.num(limit)} "
            "(red), the scale of the whole layer."
        )
    with right:
        tiles, columns = step_table.layer_tiles(gradient, ref)
        scale = learning_charts.tile_scale(max(tiles.shape[1:]), columns)
        st.image(
            render.png(learning_charts.signed_tiles(tiles, columns, limit, scale)),
            caption=f"The whole layer's gradient ({gradient.size:,} weights{inputs}), one scale.",
            alt=step_table.layer_description(ref.layer, gradient, ref),
        )
        st.image(
            render.png(learning_charts.gradient_legend(limit)),
            caption="Its colour scale: the same for both maps.",
            alt=f"Colour scale: blue -{step_table.num(limit)}, white 0, red "
            f"+{step_table.num(limit)}.",
        )


def _take_step(model_sha256: str, shared: keras.Model) -> None:
    # A button's callback: runs before the page, so the page shows the stepped network. It reads
    # the widgets' values now (a change sent with the click counts) and checks each of them.
    state = st.session_state
    state.pop(STEP_ERROR, None)
    digit = current_digit()
    if digit is None:
        return
    label = digit.label if digit.label is not None else state.get(_label_key(digit))
    held = _copy(model_sha256)
    model = held.model if held else shared
    try:
        label = learning_step.checked_label(label)
        layer = state.get(LAYER)
        if layer not in weight_layers(model):
            raise ValueError(f"there is no layer {str(layer)[:40]!r} to learn")
        keys = _index_keys(layer, tuple(model.get_layer(layer).kernel.shape))
        ref = learning_step.weight_ref(model, layer, [state.get(k) for k in keys])
        rate = learning_step.checked_learning_rate(state.get(RATE))
        if held is None:  # the first step: from now on the session reads its own copy
            held = StepCopy(model_sha256, learning_step.private_copy(shared))
            state[COPY] = held
        result = learning_step.step(held.model, digit.image, label, ref, rate)
    except ValueError as exc:
        state[STEP_ERROR] = f"That step was not taken: {exc}."
        return
    held.steps += 1
    last = state.get(LAST_STEP)
    count = last[3] + 1 if last and last[:2] == (digit.key, label) else 1
    state[LAST_STEP] = (digit.key, label, result, count)


def step_controls(digit: Digit, label: int, model_sha256: str, shared: keras.Model) -> None:
    """The learning rate, "Take one step" / "Step again" and "Reset", and the last step's
    numbers before and after."""
    state = st.session_state
    last = state.get(LAST_STEP)
    mine = last if last and last[:2] == (digit.key, label) else None
    held = _copy(model_sha256)
    st.number_input(
        "Learning rate",
        min_value=0.001,
        max_value=learning_step.MAX_LEARNING_RATE,
        value=0.1,
        step=0.05,
        format="%.3f",
        key=RATE,
        help="How far one step moves the weights: w <- w - learning rate x dL/dw.",
    )
    one, two = st.columns(2)
    one.button(
        "Step again" if mine else "Take one step",
        type="primary",
        on_click=_take_step,
        args=(model_sha256, shared),
        help="One step of gradient descent on this digit: every weight and bias of the chosen "
        "layer moves; the other layers stay as they are.",
    )
    two.button("Reset", on_click=reset_copy, help="Back to the session's network, before any step.")
    if error := state.get(STEP_ERROR):
        st.warning(error)
    if held is None:
        st.caption("No step taken yet: the page reads the session's network itself.")
    elif mine is None:
        st.caption(
            f"Your copy has taken {held.steps} step{'s' if held.steps != 1 else ''}, none on "
            "this digit with this label. Reset to start again from the session's network."
        )
    if mine is None:
        return
    result, count = mine[2], mine[3]
    st.markdown(
        f"**Step {count} on this digit** ({held.steps if held else count} in all), on "
        f"{result.ref.describe()} with learning rate {step_table.num(result.learning_rate)}: "
        f"every weight and bias of {result.ref.layer} moved by -learning rate x its own gradient "
        "(the gradient before the step); the other layers did not change."
    )
    st.table(step_table.step_rows(result), hide_index=True)
    st.caption(
        "Weights are kept as 32-bit floats: a change smaller than a weight's last digit leaves "
        "it as it was. Sections 1 and 2 above show the copy after this step."
    )
    with st.expander("The ten probabilities before and after this step"):
        st.table(step_table.probability_rows(result), hide_index=True)


def copy_note(steps: int) -> None:
    """Say which weights the numbers are at, once the copy has moved."""
    if steps:
        st.caption(
            f"At your copy's weights after {steps} step{'s' if steps != 1 else ''} (Reset below "
            "goes back to the session's network)."
        )


# -- backpropagation against feedback alignment -------------------------------------------------


def feedback_alignment_run(get_data: Callable[[], MnistData]) -> dict | None:
    """The learner's choice of run, and its curves: computed once per server process (a queued
    job with a progress bar, started by a button), then shown at once to everyone who asks."""
    left, right = st.columns(2)
    steps = left.selectbox("Training steps (batches of 64 digits)", fa.LESSON_STEPS, key="fa_steps")
    seed = right.selectbox("Random start (seed)", fa.LESSON_SEEDS, key="fa_seed")
    try:
        settings = fa.lesson_settings(steps, seed)
    except ValueError as exc:  # a forged value
        st.warning(f"That run is not offered: {exc}.")
        return None
    # one data set per server process (load_data is cached): the settings name the run
    results, key = shared_results(), ("feedback alignment", settings)
    if key not in results:
        running = queue(COMPUTE).get(repr(key))
        offer = st.empty()  # the button goes once the run is asked for
        if running is None and not offer.button("Train both side by side", type="primary"):
            st.caption(
                f"Trains two {fa.LESSON_HIDDEN}-unit networks from the same start, one step at a "
                "time on the server (a few seconds; once on this server for everyone who asks)."
            )
            return None
        offer.empty()
        message = "Training backpropagation and feedback alignment side by side..."
        data = get_data()  # cached; also when joining a run, which may end before the request
        try:
            job = results.request(
                key, lambda report: fa.lesson_run(data, settings, report), message
            )
            follow_job(job, message, COMPUTE)
        except Exception as exc:  # a bug, but shown as a message, not a traceback
            st.error(f"This could not be computed ({type(exc).__name__}: {exc}). Try again.")
            return None
    return results.get(key)


def rule_curves(run: dict) -> None:
    """Both rules' test accuracy and feedback alignment's angle, as charts with their numbers."""
    left, right = st.columns(2)
    with left:
        chart(
            learning_charts.rule_curves_chart(
                run["curves"], "test_accuracy", "test accuracy", percent=True
            ),
            "Test accuracy against training step, backpropagation and feedback alignment",
            table=True,
            width="stretch",
        )
    with right:
        chart(
            learning_charts.rule_curves_chart(
                run["curves"][1:], "angle_degrees", "angle (degrees)", percent=False
            ),
            "The angle between feedback alignment's update and the true gradient, by step",
            table=True,
            width="stretch",
        )
