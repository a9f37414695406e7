"""What each filter wants to see: the input each filter likes best, and the test images it likes."""

import streamlit as st

from mnist_viz.view import describe, render
from ui.digit import current_digit
from ui.models import get_data, get_model
from ui.results import get_filter_reports
from ui.sidebar import render_sidebar

TILE_PIXELS = 72  # on-screen size of one filter's image, whatever its receptive field

st.title("What each filter wants to see")
st.caption(
    "Activation maximisation (Erhan et al. 2009): start from a black image and change its pixels, "
    "step by step, in whatever direction makes one filter's unit at the centre respond more. "
    "Pixels stay between black and white, fade back to black unless they help, and deeper layers' "
    "images are lightly smoothed (Yosinski et al. 2015), so what remains is the pattern the "
    "filter is looking for. Only the unit's receptive field can change, so each image is cropped "
    "to it."
)
cached = get_model()
reports = get_filter_reports(cached)
data = get_data()
if not reports:
    st.info(
        "This network has no convolutions, so it has no filters to visualise: each unit of a "
        "multilayer perceptron has its own weight for every pixel. Its pixel weights are on "
        "**Inside the network**.",
        icon=":material/info:",
    )
    render_sidebar()
    st.stop()

names = list(reports)
layer = st.segmented_control("Layer", names, default=names[0], key="filters_layer") or names[0]
report = reports[layer]
top, left, bottom, right = report.crop
crops = report.preferred[:, top : bottom + 1, left : right + 1]
channels = len(crops)
scale = max(3, TILE_PIXELS // crops.shape[-1])
st.image(
    render.png(render.tile([render.grey_image(c) for c in crops], 16, scale)),
    caption=f"All {channels} {layer} filters, numbered left to right, top to bottom from 0.",
    width="stretch",
    alt=f"The input each of the {channels} {layer} filters responds to most, grey patterns of "
    f"{crops.shape[1]} x {crops.shape[2]} pixels, filter 0 first.",
)

st.header("One filter, up close")
index = st.slider("Filter", 0, channels - 1, 0, key=f"filters_index_{layer}")
c1, c2 = st.columns([1, 2], gap="large")
with c1:
    st.image(
        render.png(render.grey_image(crops[index], scale=14)),
        caption=f"{layer} filter {index}: what it wants",
        alt=f"What {layer} filter {index} wants to see, {crops.shape[1]} x {crops.shape[2]} "
        f"pixels: brightest at {describe.hot_spot(crops[index], 3)}.",
    )
with c2:
    tops = report.top
    thumbs = [
        render.outline(render.grey_image(data.x_test[i], scale=4), tuple(box), 4)
        for i, box in zip(tops.indices[index], tops.boxes[index], strict=True)
    ]
    st.image(
        render.png(render.tile(thumbs, 3)),
        caption="The 9 test images it responds to most",
        width=360,
        alt=f"The {len(thumbs)} test images {layer} filter {index} responds to most: test images "
        f"{describe.listing([f'#{i}' for i in tops.indices[index]])} (digits "
        f"{describe.listing([str(data.y_test[i]) for i in tops.indices[index]])}), each with an "
        "orange box around what the responding unit sees.",
    )
    st.caption(
        "The orange box is the receptive field of the unit that responded most: the only pixels "
        f"it could see. Strongest responses: {', '.join(f'{a:.2f}' for a in tops.activations[index][:3])}."
    )


def _show_feature_map() -> None:
    st.session_state.map_layer = layer
    st.session_state.focus = (layer, index)


if current_digit() is None:
    st.caption("Draw or pick a digit to see this filter's feature map for it.")
elif st.button(
    f"See filter {index}'s feature map for the current digit",
    on_click=_show_feature_map,
    icon=":material/arrow_forward:",
):
    st.switch_page("pages/network.py")

st.caption(f"Filters that never respond to any test image: {tops.silent_channels} of {channels}.")

render_sidebar()
