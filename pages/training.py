"""Training & evaluation: how the model learned, where it errs, and the data it learned from."""

import pandas as pd
import streamlit as st

from mnist_viz.core.architecture import MAX_CONV_LAYERS, PRESETS, Architecture
from mnist_viz.core.cache import architecture_of, model_name
from mnist_viz.core.data import NUM_CLASSES
from mnist_viz.core.data_mix import DATA_MIXES, MIX_LABELS, MIX_MNIST, check_mix
from mnist_viz.core.limits import (
    MAX_PARAMETERS,
    check_trainable,
    estimated_training_seconds,
    parameter_count,
)
from mnist_viz.core.training import TrainConfig
from mnist_viz.core.worker import STANDARD
from mnist_viz.inputs.digit import from_test_set
from mnist_viz.inside import dataset_stats
from mnist_viz.view import charts, render
from ui.chart import chart
from ui.data_sources import data_section
from ui.digit import set_digit
from ui.jobs import watch_training
from ui.models import (
    SESSION_MODEL,
    ModelSlot,
    get_data,
    get_evaluation,
    get_model,
    session_model_name,
)
from ui.sidebar import render_sidebar
from ui.teacher import teacher_only
from ui.timeline import watch_it_learn

MAX_EXAMPLES = 24  # misclassified images shown for one cell
EXAMPLE_COLUMNS = 8


st.title("Training & evaluation")
cached = get_model()
info = cached.info
data = get_data()
state = st.session_state

mine = state.get("my_training")  # the training this session started, if any
if mine is not None and mine.done:
    del state.my_training
    if mine.error is not None:
        st.error(f"Training failed: {mine.error}. The previous model is still in use.")
    else:
        st.success(f"Trained: {info.test_accuracy:.2%} on the test set.")

cols = st.columns(4)
cols[0].metric(
    "Test accuracy",
    f"{info.test_accuracy:.2%}",
    help=f"On {info.n_test:,} test images the network never saw during training.",
)
cols[1].metric("Training time", f"{info.training_seconds:.1f} s")
cols[2].metric("Epochs", info.epochs, help="Passes over the whole training set.")
cols[3].metric("Training images", f"{info.n_train:,}")

st.header("Training history")
st.caption(
    "Each epoch is one pass over the training images. The test set is only measured after each "
    "epoch, never trained on, so it shows how well the network generalises. Training accuracy is "
    "averaged over the epoch while the network was still learning and with dropout switched on, "
    "which is why it can sit below the test accuracy. The loss cannot reach 0 here: label "
    f"smoothing ({info.config.get('label_smoothing', 0)}) keeps the targets slightly below 100% "
    "so the network does not grow over-confident."
)
h1, h2 = st.columns(2, gap="large")
with h1:
    chart(charts.history_chart(info.history, "accuracy"), "Accuracy by epoch", width="stretch")
with h2:
    chart(charts.history_chart(info.history, "loss"), "Loss by epoch", width="stretch")

watch_it_learn(cached, len(data.y_test))

st.header("Where it goes wrong")
evaluation = get_evaluation(cached, data)
errors = evaluation.errors
st.caption(
    f"The confusion matrix counts every one of the {len(data.y_test):,} test images by true "
    f"digit (row) and predicted digit (column). The diagonal holds the {evaluation.accuracy:.2%} "
    f"that are right; the {errors:,} errors are everything else. **Click a cell** to see its "
    "images."
)
worst_true, worst_predicted, worst_count = evaluation.most_frequent_mistake
state.setdefault("cm_true", worst_true)  # start on the most frequent mistake
state.setdefault("cm_pred", worst_predicted)


def _select_cell() -> None:
    cells = state.confusion.selection.cells
    if cells:
        row, column = cells[0]
        state.cm_true, state.cm_pred = int(row), int(column)


matrix = {str(p): evaluation.confusion[:, p] for p in range(NUM_CLASSES)}
m1, m2 = st.columns([3, 1.15], gap="medium")
with m1:
    frame = pd.DataFrame(matrix, index=pd.Index(range(NUM_CLASSES), name="true"))
    styled = frame.style.background_gradient(cmap="Blues", gmap=render.log_shade(frame), axis=None)
    st.dataframe(
        styled,
        key="confusion",
        on_select=_select_cell,
        selection_mode="single-cell",
        width="stretch",
        column_config={str(p): st.column_config.NumberColumn(width=52) for p in range(NUM_CLASSES)},
        height="content",
    )
    st.caption(
        "Rows: true digit. Columns: predicted digit. Colour is on a log scale. The most frequent "
        f"mistake: {worst_true} read as {worst_predicted} ({worst_count} times)."
    )
with m2:
    st.dataframe(
        {
            "digit": list(range(NUM_CLASSES)),
            "accuracy": evaluation.per_class_accuracy,
        },
        hide_index=True,
        height="content",
        width="stretch",
        column_config={
            "accuracy": st.column_config.ProgressColumn(
                "per-class accuracy", format="percent", min_value=0, max_value=1
            )
        },
    )

t_col, p_col, _ = st.columns([1, 1, 2])
t_col.selectbox("True digit", range(NUM_CLASSES), key="cm_true")
p_col.selectbox("Predicted as", range(NUM_CLASSES), key="cm_pred")
true, predicted = state.cm_true, state.cm_pred
indices = dataset_stats.confused_indices(data.y_test, evaluation.predictions, true, predicted)
kind = "correctly recognised" if true == predicted else f"misread as {predicted}"
if len(indices) == 0:
    st.info(f"No test image of a {true} was {kind}.")
else:
    shown = indices[:MAX_EXAMPLES]
    st.write(
        f"**{len(indices)} test image{'s' if len(indices) != 1 else ''} of a {true} {kind}**"
        + (f" (the first {len(shown)})" if len(shown) < len(indices) else "")
        + ". Choose one to make it the current digit and follow it through the network."
    )

    def _use(index: int) -> None:
        set_digit(from_test_set(data.x_test, data.y_test, index))
        state.used_test_index = index

    for start in range(0, len(shown), EXAMPLE_COLUMNS):
        row = st.columns(EXAMPLE_COLUMNS)
        for col, index in zip(row, shown[start : start + EXAMPLE_COLUMNS], strict=False):
            col.image(
                render.png(render.grey_image(data.x_test[index], scale=3)),
                caption=f"#{index}",
                alt=f"Test image #{index}: a {true}, which the network reads as {predicted}.",
            )
            col.button(
                "Use", key=f"use_{index}", on_click=_use, args=(int(index),), width="stretch"
            )
    if "used_test_index" in state:
        st.page_link(
            "pages/network.py",
            label=f"Test image #{state.used_test_index} is the current digit: see it inside the network",
            icon=":material/arrow_forward:",
        )

data_section(info, data)

st.header("Train a network")
st.caption(
    "Train this network again with other settings, or another network: a preset, or one you "
    "design. A new model replaces the cached one of the same network only when it is finished; "
    "everyone keeps the current one until then. Trainings run one at a time, in order."
)
current_name = session_model_name()
job = mine if mine is not None and not mine.done else ModelSlot(current_name).training()
if job is not None:
    watch_training(
        job,
        "**Training a new model.** It replaces the current one for everyone when it is done; "
        "you can leave this page, training goes on.",
    )
elif teacher_only("Training"):
    CUSTOM = "custom"
    arch_names = [*PRESETS, CUSTOM]
    current_arch = architecture_of(info)
    which = st.selectbox(
        "Network",
        arch_names,
        index=arch_names.index(current_arch.name) if current_arch.name in arch_names else 0,
        format_func=lambda n: (
            "custom: design your own" if n == CUSTOM else f"{n}: {PRESETS[n].describe()}"
        ),
        key="train_arch",
    )
    if which == CUSTOM:
        c1, c2, c3 = st.columns(3)
        n_conv = c1.number_input("Convolution layers", 0, MAX_CONV_LAYERS, 2, key="custom_convs")
        kernel = c2.selectbox("Kernel size", [3, 5], key="custom_kernel")
        pooling = c3.toggle("2 x 2 max pooling after each", value=True, key="custom_pooling")
        fc = st.columns(max(1, int(n_conv)))
        filters = tuple(
            int(
                fc[i].number_input(f"Filters in conv{i + 1}", 1, 128, 16 * 2**i, key=f"custom_f{i}")
            )
            for i in range(int(n_conv))
        )
        d1, d2 = st.columns(2)
        dense = int(d1.number_input("Dense units", 1, 1024, 128, key="custom_dense"))
        dropout = float(d2.slider("Dropout", 0.0, 0.75, 0.25, 0.05, key="custom_dropout"))
        try:
            arch = Architecture(CUSTOM, filters, int(kernel), bool(pooling), dense, dropout)
        except ValueError as exc:
            st.error(f"This network cannot be built: {exc}.")
            arch = None
        if arch is not None:
            st.caption(
                f"{parameter_count(arch):,} parameters (at most {MAX_PARAMETERS:,}); about "
                f"{estimated_training_seconds(arch, 2) / 60:.1f} minutes for 2 epochs here."
            )
    else:
        arch = PRESETS[which]
    with st.form("retrain"):
        epochs = st.number_input("Epochs", 1, 20, int(info.epochs))
        current_mix = info.config.get("data_mix", MIX_MNIST)
        mix = st.radio(
            "Learn from",
            DATA_MIXES,
            index=DATA_MIXES.index(current_mix) if current_mix in DATA_MIXES else 0,
            format_func=MIX_LABELS.get,
            horizontal=True,
            help="MNIST alone reads people's handwriting less well: compare the two on the Draw "
            "page.",
        )
        augment = st.toggle(
            "Augmentation",
            value=bool(info.config.get("augment", False)),
            help="Randomly rotate, shift, scale and thicken training digits: slower, but more "
            "robust to drawings that differ from MNIST.",
        )
        submitted = st.form_submit_button("Train", icon=":material/model_training:")
    if submitted and arch is not None:
        try:  # the form's numbers come from the browser: checked here, and again by the worker
            check_trainable(arch, int(epochs))
        except ValueError as exc:
            st.error(f"Not trained: {exc}.")
            arch = None
    if submitted and arch is not None:
        name = model_name(arch.name)
        config = TrainConfig(
            epochs=int(epochs), augment=augment, arch=arch, data_mix=check_mix(str(mix))
        )
        state.my_training = ModelSlot(name).train(
            STANDARD, config.to_dict(), title=f"Training the {arch.name} network"
        )
        state[SESSION_MODEL] = name  # the teacher looks at the network being trained
        st.rerun()

render_sidebar()
