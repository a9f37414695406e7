"""Draw & predict: sketch, upload or pick a digit and see what the network answers."""

import hashlib

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_viz import charts, render
from mnist_viz.digit import DRAWING, UPLOAD, from_image, from_test_set, judge, random_index
from mnist_viz.errors import BlankImageError, ImageError
from mnist_viz.model import predict_proba
from pages._digit import current_digit, prediction_metric, render_sidebar, set_digit
from pages._resources import get_data, get_model

CANVAS_SIZE = 280  # 10x MNIST's 28 px: room to draw, and a round factor for the eye
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]
ANY = "any"

st.title("Draw & predict")
cached = get_model()
state = st.session_state
state.setdefault("canvas_clears", 0)


def _clear_canvas() -> None:
    state.canvas_clears += 1  # a new initial drawing makes the canvas empty itself
    if (digit := current_digit()) is not None and digit.source == DRAWING:
        set_digit(None)


def _pick_test_digit() -> None:
    data = get_data()
    wanted = state.pick_class
    index = random_index(
        data.y_test, None if wanted == ANY else int(wanted), np.random.default_rng()
    )
    set_digit(from_test_set(data.x_test, data.y_test, index))


left, right = st.columns([1, 1.35], gap="large")

with left:
    draw_tab, upload_tab, pick_tab = st.tabs(["Draw", "Upload a photo", "Pick a test digit"])
    with draw_tab:
        stroke = st.slider("Pen width", 6, 40, 18, key="stroke_width", help="In canvas pixels.")
        canvas = st_canvas(
            stroke_width=stroke,
            stroke_color="#FFFFFF",
            background_color="#000000",
            width=CANVAS_SIZE,
            height=CANVAS_SIZE,
            drawing_mode="freedraw",
            initial_drawing={"objects": [], "clears": state.canvas_clears},
            return_image_data=True,
            key="canvas",
        )
        st.button("Clear the canvas", on_click=_clear_canvas, icon=":material/delete:")
        st.caption(
            "Draw one digit, as big as you like; it is predicted when you release the mouse."
        )
        png = canvas.image_bytes
        drawing_id = hashlib.sha1(png).hexdigest() if png else None
        if drawing_id is not None and drawing_id != state.get("last_drawing"):
            state.last_drawing = drawing_id  # each drawing is read once, not on every rerun
            try:
                set_digit(from_image(canvas.image_data, DRAWING, "your drawing"))
            except ImageError:  # an empty canvas (cleared, or a speck too small to read)
                if (digit := current_digit()) is not None and digit.source == DRAWING:
                    set_digit(None)

    with upload_tab:
        upload = st.file_uploader(
            "A photo or scan of one handwritten digit",
            type=UPLOAD_TYPES,
            key="upload",
            help="Dark ink on light paper and light ink on dark both work; crop to one digit.",
        )
        if upload is not None and upload.file_id != state.get("last_upload"):
            state.last_upload = upload.file_id
            state.upload_error = None
            try:
                set_digit(from_image(upload.getvalue(), UPLOAD, upload.name))
            except BlankImageError:
                state.upload_error = f"No digit found in **{upload.name}**: the image looks empty."
            except ImageError as exc:
                state.upload_error = f"**{upload.name}** could not be used: {exc}."
        if upload is not None and state.get("upload_error"):
            st.error(state.upload_error + " The previous digit is kept.")

    with pick_tab:
        st.selectbox("Class", [ANY, *range(10)], key="pick_class", format_func=str)
        st.button("Random test digit", on_click=_pick_test_digit, icon=":material/casino:")
        st.caption(
            "A digit from MNIST's 10,000 test images, which the network never saw in training."
        )

digit = current_digit()
with right:
    if digit is None:
        st.info(
            "**Draw a digit** (0-9) in the black box, upload a photo of one, or pick a test "
            "digit. The network's answer appears here.",
            icon=":material/draw:",
        )
    else:
        probabilities = predict_proba(cached.model, digit.image)[0]
        verdict = judge(probabilities, digit.image)
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
        st.vega_lite_chart(charts.probability_chart(probabilities), width="stretch")
        st.caption(
            "The last layer (softmax) turns the network's ten scores into probabilities that add "
            "up to 100%. Hover a bar for its exact value."
        )

if digit is not None:
    st.subheader("What the network actually sees")
    if digit.stages is not None:
        st.caption(
            "MNIST's own preprocessing, applied to your input: crop to the ink, scale the longer "
            "side to 20 px, then place it in a 28 x 28 frame so that its centre of mass is in the "
            "middle. Skipping this is why other demos misread small or off-centre drawings."
        )
        stages = digit.stages
        cols = st.columns(4)
        for col, (title, image) in zip(
            cols,
            [
                ("Input (grey, ink made white)", stages.raw),
                ("Cropped to the ink", stages.ink_crop),
                ("Longer side fitted to 20 px", stages.fit),
                ("Centred in 28 x 28", stages.centred),
            ],
            strict=True,
        ):
            col.image(
                render.png(render.grey_image(render.pad_square(image))),
                caption=title,
                width="stretch",
            )
    else:
        st.caption("Test digits are already in MNIST's format: 28 x 28, centred by mass.")
    with st.expander("Every pixel of the 28 x 28 input, with its value", expanded=True):
        st.caption(
            "This grid of 784 numbers (0 = black, 255 = white) is all the network receives; "
            "it scales them to 0-1 first."
        )
        st.image(render.png(render.pixel_values(digit.image)), width=560)

render_sidebar()
