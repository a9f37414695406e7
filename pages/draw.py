"""Draw & predict: sketch, upload or pick a digit and see what the network answers.

The inputs are drawn once per page run; what they produce is drawn by the "answer" fragment.
A stroke, an upload or a pick is read in its widget's callback, which then reruns only that
fragment: the server re-sends and the browser redraws the answer, never the canvas, tabs and
uploader around it (measured: this halves the time from pen-up to the answer on screen).
"""

import hashlib
import logging

import streamlit as st
from streamlit.errors import StreamlitInvalidLayoutContextError

from mnist_viz.classroom.push_follow import is_pushed
from mnist_viz.core.errors import BlankImageError, ImageBusyError, ImageError
from mnist_viz.core.model import predict_proba
from mnist_viz.inputs.digit import (
    DRAWING,
    UPLOAD,
    from_image,
    judge,
    random_test_digit,
)
from mnist_viz.view import render
from mnist_viz.view.bars import probability_bars_html
from ui.class_session import (
    DIGIT_VIEW,
    catch_up_on_push,
    class_work,
    forget_open_drawing,
    label_panel,
    push_seen_with,
    record_answer,
    rerun_fragments,
)
from ui.components.pen import drawing_in_state, drawing_pad
from ui.digit import current_digit, prediction_metric, set_digit
from ui.models import get_data, get_model
from ui.results import warm_style_reference
from ui.sidebar import sidebar_model
from ui.teach import private_answer, style_feedback, teach_panel

_log = logging.getLogger("mnist_viz.draw")  # how often a lesson takes the whole-page path
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "psd"]
ANY = "any"
ANSWER = DIGIT_VIEW  # the fragment's key: a teacher's push reruns it too

st.title("Draw & predict")
cached = get_model()
work = class_work()  # the class's records: a joined student's answers are saved
warm_style_reference(cached)  # for the feedback on unusual shapes, ready before it is needed
state = st.session_state


# -- reading the inputs (in callbacks, and again on every full run: both are idempotent) ------


def _read_drawing() -> None:
    """Make the canvas' drawing the current digit, once per drawing (not on every rerun)."""
    drawing = drawing_in_state()
    if drawing.png is None:
        return
    # The stroke count is part of the identity: a stroke that adds no new ink (traced over an
    # earlier one) still changes what the answer says it belongs to.
    drawing_id = f"{hashlib.sha1(drawing.png).hexdigest()}:{drawing.strokes}"
    if drawing_id == state.get("last_drawing"):
        return
    n = drawing.strokes
    try:
        digit = from_image(
            drawing.png, DRAWING, f"your drawing ({n} stroke{'s' if n != 1 else ''})"
        )
    except ImageError:  # an empty canvas (cleared, or a speck too small to read)
        digit = None
    if digit is not None or (current_digit() is not None and current_digit().source == DRAWING):
        set_digit(digit)
    if digit is None or not drawing.continues(state.get("last_strokes", ())):
        forget_open_drawing()  # cleared, or another drawing: it is saved as a new one
    state.last_drawing, state.last_strokes = drawing_id, drawing.stroke_keys


def _read_upload() -> None:
    """Preprocess a newly chosen file once; remember the outcome so a failure keeps its message
    (and the previous digit) for as long as that file is chosen."""
    upload = state.get("upload")
    if upload is None or state.get("upload_outcome", (None,))[0] == upload.file_id:
        return
    error = None
    try:
        set_digit(from_image(upload.getvalue(), UPLOAD, upload.name))
    except ImageBusyError as exc:
        # Not remembered as this file's outcome: the next run (any click) tries it again.
        state.upload_busy = f"**{upload.name}** is waiting: {exc}."
        return
    except BlankImageError:
        error = f"No digit found in **{upload.name}**: the image looks empty."
    except ImageError as exc:
        error = f"**{upload.name}** could not be used: {exc}."
    state.pop("upload_busy", None)
    state.upload_outcome = (upload.file_id, error)


def _pick_test_digit() -> None:
    data = get_data()
    wanted = state.pick_class
    _, digit = random_test_digit(data.x_test, data.y_test, None if wanted == ANY else int(wanted))
    set_digit(digit)
    rerun_fragments(ANSWER)


def _on_drawing() -> None:
    _read_drawing()
    rerun_fragments(ANSWER)


def _on_upload() -> None:
    _read_upload()
    rerun_fragments(ANSWER)


# -- the inputs ---------------------------------------------------------------------------------

left, right = st.columns([1, 1.35], gap="large")
with left:
    draw_tab, upload_tab, pick_tab = st.tabs(["Draw", "Upload a photo", "Pick a test digit"])
    with draw_tab:
        stroke = st.slider("Pen width", 6, 40, 18, key="stroke_width", help="In canvas pixels.")
        drawing_pad(stroke, on_change=_on_drawing)
        phone_answer = st.container()  # the answer again, right under the pad on a phone
        st.caption(
            "Draw one digit, as big as you like; it is read each time you lift the pen. The pad "
            "needs a mouse, pen or finger: with a keyboard, use **Upload a photo** or **Pick a "
            "test digit**."
        )
    with upload_tab:
        st.file_uploader(
            "A photo or scan of one handwritten digit",
            type=UPLOAD_TYPES,
            key="upload",
            on_change=_on_upload,
            help="Dark ink on light paper and light ink on dark both work; crop to one digit.",
        )
        upload_message = st.container()
        if state.get("upload") is not None and state.get("upload_busy"):
            st.button(
                "Try again", key="upload_retry", on_click=_on_upload, icon=":material/refresh:"
            )
    with pick_tab:
        st.selectbox("Class", [ANY, *range(10)], key="pick_class", format_func=str)
        st.button("Random test digit", on_click=_pick_test_digit, icon=":material/casino:")
        st.caption(
            "A digit from MNIST's test images (10,000; 1,000 in the offline sample), which the "
            "network never saw in training."
        )
details = st.container()
_read_drawing()
_read_upload()


# -- the answer ---------------------------------------------------------------------------------


@st.fragment(key=ANSWER)
def answer() -> None:
    """The prediction and what the network sees, for the current digit. (The sidebar's copy of
    the digit and prediction is left out on this page, where both are in view.)"""
    # Each outside container gets a slot on every run, also when it stays empty: Streamlit keeps
    # a fragment's place in a container only if the fragment wrote there in the last full run.
    # All slots are taken before anything is written. When that last full run was cut short
    # (a click in the instant it ran), a fragment rerun has no place outside itself and
    # Streamlit raises: then the whole page runs again, instead of the learner seeing an error.
    try:
        message_slot, details_slot = upload_message.empty(), details.empty()
        phone_slot, answer_slot = phone_answer.empty(), right.container()
    except StreamlitInvalidLayoutContextError:
        _log.warning("The answer had no place outside its fragment: the whole page runs again")
        st.rerun()
    # A stroke whose callback was lost (its request merged into another run) is read here, as a
    # push is caught up with: whatever reruns the answer answers the drawing on the pad.
    _read_drawing()
    catch_up_on_push(work)  # a push whose callback was lost shows with this answer
    upload, outcome = state.get("upload"), state.get("upload_outcome")
    if upload is not None and outcome and outcome[0] == upload.file_id and outcome[1]:
        message_slot.error(outcome[1] + " The previous digit is kept.")
    elif upload is not None and (busy := state.get("upload_busy")):
        message_slot.warning(busy + " The previous digit is kept.")
    digit = current_digit()
    with answer_slot:
        if digit is None:
            st.info(
                "**Draw a digit** (0-9) in the black box, upload a photo of one, or pick a test "
                "digit. The network's answer appears here.",
                icon=":material/draw:",
            )
        else:
            probabilities = predict_proba(cached.model, digit.image)[0]
            verdict = judge(probabilities, digit.image)
            record_answer(work, digit, verdict, cached.info.model_sha256)
            phone_slot.html(render.phone_answer_html(verdict.digit, verdict.confidence))
            metric_col, note_col = st.columns([1, 2], vertical_alignment="center")
            prediction_metric("Prediction", verdict.digit, verdict.confidence, container=metric_col)
            with note_col:
                st.caption(f"Input: {digit.description}.")
                if digit.label is not None:
                    if digit.label == verdict.digit:
                        st.success(f"Correct: the true label is {digit.label}.")
                    else:
                        st.error(f"Wrong: the true label is {digit.label}.")
                for note in verdict.notes:
                    st.warning(note)
                private_slot = st.empty()  # filled last: teaching below may have just ended
            pushed = is_pushed(digit)
            if not pushed:
                label_panel(work, digit, verdict)
            st.html(
                probability_bars_html(
                    probabilities,
                    f"Prediction: {verdict.digit} ({verdict.confidence:.0%} sure). The "
                    "probability of each digit",
                    top=verdict.digit,
                )
            )
            st.caption(
                "The last layer (softmax) turns the network's ten scores into probabilities that "
                "add up to 100%."
            )
            if pushed:  # the student's own drawing's panel, after the pushed digit's answer
                label_panel(work, digit, verdict)
            if digit.label is None:  # the learner's own drawing or photo
                style_feedback(cached, digit, probabilities)
                teach_panel(cached, digit, verdict)
            with private_slot.container():
                private_answer(digit)
    if digit is not None:
        with details_slot.container():
            _what_the_network_sees(digit)
    push_seen_with(digit)  # drawn to the end: a pushed digit's answer is on the page


def _what_the_network_sees(digit) -> None:
    st.subheader("What the network actually sees")
    if digit.stages is not None:
        st.caption(
            "MNIST's own preprocessing, applied to your input: crop to the ink, scale the longer "
            "side to 20 px, then place it in a 28 x 28 frame so that its centre of mass is in the "
            "middle. Skipping this is why other demos misread small or off-centre drawings."
        )
        stages = digit.stages
        st.html(
            render.figures_html(
                [
                    render.pad_square(image)
                    for image in (stages.raw, stages.ink_crop, stages.fit, stages.centred)
                ],
                [
                    "Input (grey, ink made white)",
                    "Cropped to the ink",
                    "Longer side fitted to 20 px",
                    "Centred in 28 x 28",
                ],
            )
        )
    else:
        st.caption("Test digits are already in MNIST's format: 28 x 28, centred by mass.")
    with st.expander("Every pixel of the 28 x 28 input, with its value", expanded=True):
        st.caption(
            "This grid of 784 numbers (0 = black, 255 = white) is all the network receives; "
            "it scales them to 0-1 first."
        )
        st.html(render.pixel_grid_html(digit.image))


answer()
sidebar_model(divider=False)
