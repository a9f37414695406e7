"""How it learns, the Streamlit side: the session's private copy of its network, the weight
picker (number inputs, or a click on the gradient map), the step's buttons, and the side-by-side
run of backpropagation and feedback alignment as a queued job every session shares."""

from __future__ import annotations

import threading
from collections.abc import Callable

import keras
import streamlit as st

from mnist_viz.core.data import MnistData
from mnist_viz.core.jobs import OwnerBusy, QueueFull
from mnist_viz.inputs.digit import Digit
from mnist_viz.inside import feedback_alignment as fa
from mnist_viz.inside import learning_step, step_table
from mnist_viz.inside.backprop import weight_layers
from mnist_viz.view import learning_charts, render
from mnist_viz.view.charts import clicked_unit
from ui.chart import chart
from ui.jobs import COMPUTE, follow_job, queue, shared_results

COPY = "learning_copy"  # session state: (model sha, the private copy, a lock for its steps)
LAST_STEP = "learning_last_step"  # session state: (digit key, label, StepResult, steps so far)
STEP_ERROR = "learning_step_error"  # session state: a sentence when a step was refused
PICK = "learning_pick"  # the gradient map's selection (its key; the layer is added)


def private_model(model_sha256: str, model: keras.Model) -> keras.Model:
    """This session's own copy of ``model`` (made on first use, and again when the session's
    model changes): the only network a step changes."""
    held = st.session_state.get(COPY)
    if held is None or held[0] != model_sha256:
        held = (model_sha256, learning_step.private_copy(model), threading.Lock())
        st.session_state[COPY] = held
        st.session_state.pop(LAST_STEP, None)
    return held[1]


def reset_copy() -> None:
    """Forget the stepped copy: the next run copies the session's network afresh."""
    st.session_state.pop(COPY, None)
    st.session_state.pop(LAST_STEP, None)
    st.session_state.pop(STEP_ERROR, None)


def true_label(digit: Digit) -> int | None:
    """The digit's true class: its own label (a test image), else the learner's answer."""
    if digit.label is not None:
        st.caption(f"Its true label, from MNIST: **{digit.label}**.")
        return digit.label
    return st.selectbox(
        "What digit is it really? (the loss needs the true answer)",
        range(10),
        index=None,
        placeholder="Choose the true digit",
        key=f"learning_label_{digit.key}",
    )


def _layer_title(model: keras.Model, name: str) -> str:
    shape = tuple(model.get_layer(name).kernel.shape)
    kind = "convolution" if len(shape) == 4 else "dense"
    return f"{name} ({kind}, kernel {' x '.join(map(str, shape))})"


def weight_picker(model: keras.Model, fwd: learning_step.Forward):
    """The layer and the weight to follow back: number inputs (the keyboard's way) kept in step
    with a click on the map of the layer's gradient. Returns (the weight, the layer's
    gradient)."""
    layers = weight_layers(model)
    layer = st.selectbox(
        "Layer", layers, key="learning_layer", format_func=lambda n: _layer_title(model, n)
    )
    shape = tuple(model.get_layer(layer).kernel.shape)
    gradient = learning_step.layer_gradient(model, fwd, layer)
    names = step_table.index_names(shape)
    keys = [f"learning_{layer}_{n.replace(' ', '_')}" for n in names]
    state = st.session_state
    if any(k not in state for k in keys):  # start where the gradient is largest
        for key, value in zip(keys, step_table.strongest(gradient), strict=True):
            state[key] = value
    _follow_click(model, layer, keys, shape)
    columns = st.columns(len(names))
    index = [
        column.number_input(name.capitalize(), 0, size - 1, key=key, step=1)
        for column, name, size, key in zip(columns, names, shape, keys, strict=True)
    ]
    return learning_step.weight_ref(model, layer, index), gradient


def _pick_key(layer: str, shape: tuple[int, ...], keys: list[str]) -> str:
    # one map per kernel (convolution) or per output unit (dense): the selection belongs to it
    state = st.session_state
    slot = (state[keys[2]], state[keys[3]]) if len(shape) == 4 else (state[keys[1]],)
    return f"{PICK}_{layer}_{'_'.join(map(str, slot))}"


def _follow_click(model, layer: str, keys: list[str], shape: tuple[int, ...]) -> None:
    """Point the number inputs at the cell last clicked on the map (before they are drawn:
    Streamlit lets a widget's value be set only then). A cell outside the kernel is ignored."""
    state = st.session_state
    pick = _pick_key(layer, shape, keys)
    clicked = clicked_unit(state.get(pick))
    if clicked is None or clicked == state.get(f"{pick}_applied"):
        return
    state[f"{pick}_applied"] = clicked
    try:
        ref = learning_step.weight_ref(model, layer, [state[k] for k in keys])
    except ValueError:
        return
    index = step_table.index_at(clicked, ref, shape)
    if index is not None:
        for key, value in zip(keys, index, strict=True):
            state[key] = value


def gradient_map(model, ref: learning_step.WeightRef, gradient) -> None:
    """The clickable map around the chosen weight, and the whole layer's gradient as tiles."""
    shape = tuple(gradient.shape)
    keys = [f"learning_{ref.layer}_{n.replace(' ', '_')}" for n in step_table.index_names(shape)]
    limit = learning_step.symmetric_scale(gradient)
    grid = step_table.picker_grid(gradient, ref)
    where = (
        f"the {shape[0]} x {shape[1]} kernel from input channel {ref.index[2]} to output "
        f"channel {ref.index[3]}"
        if ref.is_conv
        else f"the weights from each of the {shape[0]} inputs into unit {ref.index[1]}, row by "
        f"row, {step_table.grid_columns(shape[0])} per row"
    )
    left, right = st.columns([2, 3])
    with left:
        chart(
            learning_charts.signed_picker_chart(grid, step_table.grid_cell(ref, shape), limit),
            f"The gradient of {where} in {ref.layer}; click a cell to follow that weight",
            on_select="rerun",
            selection_mode="unit",
            key=_pick_key(ref.layer, shape, keys),
            width="content",
        )
        st.caption(
            f"The gradient of {where}, outlined: the chosen weight. Click a cell to choose it; "
            f"the colours run from -{step_table.num(limit)} (blue) to +{step_table.num(limit)} "
            "(red), the scale of the whole layer."
        )
    with right:
        tiles, columns = step_table.layer_tiles(gradient)
        scale = learning_charts.tile_scale(max(tiles.shape[1:]), columns)
        st.image(
            render.png(learning_charts.signed_tiles(tiles, columns, limit, scale)),
            caption=f"The whole layer's gradient ({gradient.size:,} weights), one scale.",
            alt=step_table.layer_description(ref.layer, gradient),
        )
        st.image(
            render.png(learning_charts.gradient_legend(limit)),
            caption="Its colour scale: the same for both maps.",
            alt=f"Colour scale: blue -{step_table.num(limit)}, white 0, red "
            f"+{step_table.num(limit)}.",
        )


def _take_step(
    image, digit_key: str, label: int, ref: learning_step.WeightRef, learning_rate: float
) -> None:
    # A button's callback: runs before the page, so the page shows the stepped network.
    state = st.session_state
    held = state.get(COPY)
    state.pop(STEP_ERROR, None)
    if held is None:
        return
    with held[2]:  # two quick clicks: one step after the other, never interleaved
        try:
            result = learning_step.step(held[1], image, label, ref, learning_rate)
        except ValueError as exc:
            state[STEP_ERROR] = f"That step was not taken: {exc}."
            return
    last = state.get(LAST_STEP)
    count = last[3] + 1 if last and last[:2] == (digit_key, label) else 1
    state[LAST_STEP] = (digit_key, label, result, count)


def step_controls(digit: Digit, label: int, ref: learning_step.WeightRef) -> None:
    """The learning rate, "Take one step" / "Step again" and "Reset", and the last step's
    numbers before and after."""
    state = st.session_state
    last = state.get(LAST_STEP)
    mine = last if last and last[:2] == (digit.key, label) else None
    rate = st.number_input(
        "Learning rate",
        min_value=0.001,
        max_value=learning_step.MAX_LEARNING_RATE,
        value=0.1,
        step=0.05,
        format="%.3f",
        key="learning_rate",
        help="How far one step moves the weights: w <- w - learning rate x dL/dw.",
    )
    one, two = st.columns(2)
    one.button(
        "Step again" if mine else "Take one step",
        type="primary",
        on_click=_take_step,
        args=(digit.image, digit.key, label, ref, rate),
        help="One step of gradient descent on this digit: every weight of the chosen layer moves.",
    )
    two.button("Reset", on_click=reset_copy, help="Back to the network as it was before any step.")
    if error := state.get(STEP_ERROR):
        st.warning(error)
    if mine is None:
        st.caption("No step taken on this digit yet: the copy is as the session's network.")
        return
    result, count = mine[2], mine[3]
    st.markdown(
        f"**Step {count} on this digit**, on {result.ref.describe()} with learning rate "
        f"{step_table.num(result.learning_rate)}: every weight and bias of {result.ref.layer} "
        "moved by -learning rate x its own gradient; the other layers did not change."
    )
    st.table(step_table.step_rows(result), hide_index=True)
    with st.expander("The ten probabilities before and after this step"):
        st.dataframe(step_table.probability_rows(result), hide_index=True)


# -- backpropagation against feedback alignment -------------------------------------------------


def feedback_alignment_run(get_data: Callable[[], MnistData]) -> dict | None:
    """The learner's choice of run, and its curves: computed once per server (a queued job
    with a progress bar, started by a button), then shown at once to everyone who asks.
    ``get_data`` is called only to start a run."""
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
                "time on the server (a few seconds; once for everyone who asks)."
            )
            return None
        offer.empty()
        message = "Training backpropagation and feedback alignment side by side..."
        data = get_data() if running is None else None
        try:
            job = results.request(
                key, lambda report: fa.lesson_run(data, settings, report), message
            )
            follow_job(job, message, COMPUTE)
        except (OwnerBusy, QueueFull) as exc:
            st.warning(f"The server is busy: {exc} Try again in a minute.")
            return None
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
