"""The current digit every page works on, kept in session state, and how pages name it."""

from __future__ import annotations

import streamlit as st

from mnist_viz.inputs.digit import Digit

DIGIT_KEY = "current_digit"


def current_digit() -> Digit | None:
    """The digit the user drew, uploaded or picked last, or None before the first one."""
    return st.session_state.get(DIGIT_KEY)


def set_digit(digit: Digit | None) -> None:
    st.session_state[DIGIT_KEY] = digit


def no_digit_prompt(what: str) -> None:
    """Say that ``what`` needs a digit, with a link to where one is made."""
    st.info(f"There is no digit yet: draw, upload or pick one to see {what}.")
    st.page_link("pages/draw.py", label="Draw & predict", icon=":material/draw:")


def prediction_metric(
    label: str, digit_class: int, probability: float, noun: str = "confidence", container=st
) -> None:
    """A predicted class as a metric, with its probability in the (uncoloured) delta line."""
    container.metric(
        label,
        str(digit_class),
        f"{probability:.1%} {noun}",
        delta_color="off",
        delta_arrow="off",
    )
