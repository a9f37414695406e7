"""The Draw page's panels about the learner's own handwriting: honest feedback on an unusual
shape, and "Teach it my handwriting" (a private copy of the network, never the shared one)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_viz.core.cache import CachedModel
from mnist_viz.core.errors import DataError
from mnist_viz.core.jobs import OwnerBusy, QueueFull
from mnist_viz.core.model import predict_proba
from mnist_viz.inputs import personal, style
from mnist_viz.inputs.digit import Digit, Verdict
from mnist_viz.view import render
from ui.jobs import COMPUTE, follow_job
from ui.results import get_feature_model, ready_style_reference, submit_teaching

EXAMPLES, JOB, RESULT = "teach_examples", "teach_job", "teach_result"
PROBLEM, OPEN = "teach_problem", "teach_open"
state = st.session_state


def style_feedback(cached: CachedModel, digit: Digit, probabilities: np.ndarray) -> None:
    """When the network is unsure about a drawing or photo whose shape is unusual for MNIST,
    say so, with the MNIST digits of the two likeliest classes that are nearest to it."""
    if digit.label is not None or float(np.max(probabilities)) >= style.UNSURE_BELOW:
        return  # test digits are MNIST's own; a sure answer needs no excuse
    reference = ready_style_reference(cached)
    if reference is None:  # not computed yet: the feedback is left out of this answer
        return
    extractor = get_feature_model(cached)
    check = style.check_style(reference, extractor, digit.image, probabilities)
    if not check.worth_saying:
        return
    st.warning(check.message(), icon=":material/gesture:")
    for c, images in check.neighbours.items():
        st.html(render.figures_html(list(images), [f"MNIST {c}" for _ in images], size=64))


def _examples() -> list[tuple[np.ndarray, int]]:
    return state.setdefault(EXAMPLES, [])


def _add_example(digit: Digit) -> None:
    examples = _examples()
    label = int(state.teach_label)
    image = np.asarray(digit.image, np.float32)
    if any(lab == label and np.array_equal(img, image) for img, lab in examples):
        return  # the same drawing twice teaches nothing new
    if len(examples) < personal.MAX_EXAMPLES:
        examples.append((image, label))


def _forget() -> None:
    state[EXAMPLES], state[RESULT], state[JOB], state[OPEN] = [], None, None, False


def _start(cached: CachedModel) -> None:
    examples = _examples()
    images = np.stack([image for image, _ in examples])
    labels = np.array([label for _, label in examples])
    try:
        state[JOB] = submit_teaching(cached, images, labels)
    except DataError as exc:
        state[PROBLEM] = f"Teaching needs MNIST's digits, which could not be loaded: {exc}"
    except (OwnerBusy, QueueFull) as exc:
        state[PROBLEM] = f"Not now: {exc}. Your examples are kept."


def private_answer(digit: Digit) -> None:
    """The private copy's answer, beside the shared model's, once the learner has taught one."""
    result: personal.TeachResult | None = state.get(RESULT)
    if result is None:
        return
    p = predict_proba(result.model, digit.image)[0]
    st.caption(
        f"Your private copy (taught {result.n_examples} of your digits) reads it as "
        f"**{int(p.argmax())}** ({p.max():.0%})."
    )


def teach_panel(cached: CachedModel, digit: Digit, verdict: Verdict) -> None:
    """Add the current drawing as an example with its true label; teach a private copy."""
    examples = _examples()
    job = state.get(JOB)
    if not (examples or job is not None or state.get(RESULT) or state.get(OPEN)):
        # One button until the learner wants the panel: every answer re-sends what is drawn here,
        # and a class's server pays for each element of it on every drawing.
        st.button(
            "Misread? Teach it my handwriting",
            on_click=state.update,
            kwargs={OPEN: True},
            icon=":material/school:",
            type="tertiary",
        )
        return
    with st.expander("Teach it my handwriting", expanded=True):
        st.caption(
            "Did it misread you? Say what you drew and add the drawing as an example. With "
            f"{personal.MIN_EXAMPLES} or more, a private copy of the network learns them, for "
            "you only: the network everyone else uses never changes."
        )
        left, right = st.columns([1, 1], vertical_alignment="bottom")
        left.selectbox("What you drew", range(10), index=verdict.digit, key="teach_label")
        right.button(
            "Add as an example",
            on_click=_add_example,
            args=(digit,),
            disabled=len(examples) >= personal.MAX_EXAMPLES,
            icon=":material/add:",
        )
        if examples:
            st.html(
                render.figures_html(
                    [image for image, _ in examples], [f"a {label}" for _, label in examples], 56
                )
            )
        if problem := state.pop(PROBLEM, None):
            st.error(problem)
        if job is not None:
            try:
                state[RESULT] = follow_job(job, "Teaching two private copies...", COMPUTE)
            except Exception as exc:  # a bug, shown as a message; the examples are kept
                st.error(f"Teaching failed ({type(exc).__name__}: {exc}).")
            state[JOB] = None
        if examples:
            n = len(examples)
            go, forget = st.columns([1.4, 1])
            go.button(
                f"Teach my private copy ({n} example{'s' if n != 1 else ''})",
                on_click=_start,
                args=(cached,),
                disabled=n < personal.MIN_EXAMPLES,
                type="primary",
            )
            forget.button("Forget my examples", on_click=_forget)
        result = state.get(RESULT)
        if result is not None:
            _before_and_after(result)


def _before_and_after(result: personal.TeachResult) -> None:
    n = result.n_examples
    st.markdown(
        f"**Before and after**, on your {n} examples and on {result.n_checked:,} MNIST test digits:"
    )
    st.table(
        {
            "": ["Your examples", "MNIST test digits"],
            "Shared network (unchanged)": [
                f"{result.before.examples:.0%}",
                f"{result.before.mnist:.1%}",
            ],
            "Copy taught on yours only": [
                f"{result.naive.examples:.0%}",
                f"{result.naive.mnist:.1%}",
            ],
            "Copy taught with replay": [
                f"{result.replay.examples:.0%}",
                f"{result.replay.mnist:.1%}",
            ],
        }
    )
    st.caption(
        "Taught on your digits alone, a copy learns them but overwrites what it knew: its MNIST "
        "accuracy falls. This is **catastrophic forgetting** (McCloskey & Cohen 1989; Ratcliff "
        "1990). Mixing old MNIST digits into every lesson (**replay**, or rehearsal: Robins 1995; "
        "Rolnick et al. 2019) keeps them. The brain is thought to do the same: the hippocampus "
        "replays recent experience to the cortex, interleaved with old, during sleep (McClelland, "
        "McNaughton & O'Reilly 1995). Elastic weight consolidation protects old weights instead "
        "(Kirkpatrick et al. 2017). Your private copy is the one taught with replay; it answers "
        "beside the shared network for the rest of your visit."
    )
