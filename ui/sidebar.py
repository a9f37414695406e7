"""The sidebar every page ends with: the current digit and its prediction, the network this
session looks at, then the teacher's and the class's panels."""

from __future__ import annotations

import streamlit as st

from mnist_viz.core.cache import architecture_of, model_label
from mnist_viz.core.data import DATA_ENV_VAR, SOURCE_SAMPLE
from mnist_viz.core.data_mix import describe_sources
from mnist_viz.core.model import predict_proba
from mnist_viz.inputs.digit import Verdict, judge
from mnist_viz.view.render import grey_image, png
from ui.class_session import class_sidebar
from ui.digit import current_digit, prediction_metric
from ui.models import (
    SESSION_MODEL,
    available_models,
    get_model,
    session_model_name,
    shared_model_name,
)
from ui.teacher import teacher_sidebar


def render_sidebar() -> None:
    """The sidebar every page ends with: the current digit, then the model."""
    sidebar_digit()
    sidebar_model()


def sidebar_digit(verdict: Verdict | None = None) -> None:
    """The current digit's thumbnail and prediction (a fragment may redraw just this part);
    ``verdict`` saves a second prediction when the page already made one."""
    with st.sidebar:
        digit = current_digit()
        if digit is None:
            st.caption("No digit yet: draw, upload or pick one on **Draw & predict**.")
            return
        if verdict is None:
            verdict = judge(predict_proba(get_model().model, digit.image)[0], digit.image)
        left, right = st.columns([1, 1.4], vertical_alignment="center")
        left.image(
            png(grey_image(digit.image, scale=3)),
            caption="28 x 28 input",
            alt=f"The current digit, 28 x 28 grey pixels: {digit.description}.",
        )
        prediction_metric(
            "Current prediction", verdict.digit, verdict.confidence, "sure", container=right
        )
        right.caption(
            digit.description + (f", true label {digit.label}" if digit.label is not None else "")
        )


def _keep_model_choice() -> None:
    # A widget's own state is dropped on a run that does not draw it (a page that stops early);
    # the choice is kept under a plain key. A callback sees the value before Streamlit checks it
    # against the options, so it is checked here: only a trained model's name is kept.
    chosen = st.session_state.get("model_picker")
    if isinstance(chosen, str) and chosen in available_models():
        st.session_state[SESSION_MODEL] = chosen


def model_picker() -> None:
    """Which trained network this session looks at, when there is more than one. Only this
    session changes: the others keep theirs."""
    models = available_models()
    if len(models) < 2:
        return
    current = session_model_name()
    names = list(models)
    if current not in names:
        names.insert(0, current)
    # The widget follows the session's model even when a page changed it (a teacher's training)
    st.session_state["model_picker"] = current
    shared = shared_model_name()
    st.selectbox(
        "Network",
        names,
        format_func=lambda n: model_label(models[n]) if n in models else n,
        key="model_picker",
        on_change=_keep_model_choice,
        help="Every page shows the network chosen here, for you only. Everyone starts with "
        f"{model_label(models[shared]) if shared in models else 'the default one'}.",
    )
    if current in models:
        st.caption(architecture_of(models[current]).describe().capitalize() + ".")


def sidebar_model(divider: bool = True) -> None:
    """What the model was trained on and how well it does (``divider``: under the digit)."""
    info = get_model().info
    with st.sidebar:
        if divider:
            st.divider()
        model_picker()
        epochs = f"{info.epochs} epoch{'s' if info.epochs != 1 else ''}"
        learned = describe_sources(info.sources)
        if info.data_source == SOURCE_SAMPLE:
            learned = learned.replace("MNIST", "MNIST's offline sample", 1)
        if not learned:  # a model cached before its sources were recorded
            source = "the offline sample" if info.data_source == SOURCE_SAMPLE else "MNIST"
            learned = f"{source} ({info.n_train:,} images)"
        st.caption(
            f"**Model:** {info.test_accuracy:.2%} on MNIST's test set; learned from {learned}, "
            f"{epochs}."
        )
        if info.data_source == SOURCE_SAMPLE:
            st.warning(
                "MNIST could not be downloaded, so the model learned from the small offline "
                f"sample. For all 70,000 digits, set `{DATA_ENV_VAR}` to a folder holding the four "
                "official IDX files (or a Keras `mnist.npz`), delete `models/`, and restart."
            )
    teacher_sidebar()
    class_sidebar()
