"""Inside the network: the architecture, the learned filters, and the current digit's journey."""

import streamlit as st

from mnist_viz import charts, network, render
from mnist_viz.activations import layer_activations
from mnist_viz.model import CONV1, CONV2, DENSE, LOGITS, POOL1, POOL2, PROBABILITIES, architecture
from pages._digit import current_digit, no_digit_prompt, render_sidebar
from pages._resources import get_activation_model, get_model

MAP_LAYERS = {
    CONV1: "conv1 (32 x 26x26)",
    POOL1: "pool1 (32 x 13x13)",
    CONV2: "conv2 (64 x 11x11)",
    POOL2: "pool2 (64 x 5x5)",
}
MAP_SCALE = {CONV1: 4, POOL1: 6, CONV2: 6, POOL2: 12}  # similar on-screen size per tile
TOP_UNITS = 10

st.title("Inside the network")
cached = get_model()
model, sha = cached.model, cached.info.model_sha256
rows = architecture(model)

st.header("Architecture")
st.caption(
    "The image flows left to right, then on to the second row. Each box is a layer with its output shape (height x width x "
    "channels, or a number of values). Every digit takes exactly the same path. Dropout (dashed) "
    "only acts during training; at prediction time it passes everything through."
)
st.graphviz_chart(network.data_flow_dot(rows), width="stretch")
table = [
    {
        "Layer": r.name,
        "Type": r.kind,
        "What it does": network.LAYER_ROLE.get(r.kind, ""),
        "Output shape": network.shape_text(r.output_shape),
        "Parameters": r.params,
    }
    for r in rows
]
total = {"Layer": "total", "Type": "", "What it does": "", "Output shape": ""}
table.append(total | {"Parameters": sum(r.params for r in rows)})
with st.expander("Layer table: shapes and parameter counts"):
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height="content",
        column_config={"Parameters": st.column_config.NumberColumn(format="localized")},
    )
    st.caption(
        "Parameters are the weights and biases a layer learns. conv1: 32 filters x (3 x 3 x 1 "
        "weights) + 32 biases = 320. conv2: 64 x (3 x 3 x 32) + 64 = 18,496. dense: 1,600 x 128 "
        "+ 128 = 204,928. Pooling, flatten and dropout learn nothing."
    )

st.header("Learned filters")
st.caption(
    "A convolution filter is a small grid of weights slid over the image; at each position it "
    "multiplies and sums, so it responds where the image looks like the filter. Red weights "
    "reward brightness under them, blue ones penalise it, white means zero. Many conv1 filters "
    "become edge and stroke detectors, like the simple cells of the visual cortex."
)
kernel1, _ = network.conv_kernels(model, CONV1)
limit1 = render.symmetric_limit(kernel1)
f1, f2 = st.columns([1, 1], gap="large")
with f1:
    st.subheader("conv1: 32 filters, 3 x 3")
    st.image(render.png(render.kernel_grid(network.kernels_on_input(kernel1, 0), 8, 14, limit1)))
    st.image(
        render.png(render.colour_bar(render.DIVERGING_CMAP, -limit1, limit1)), caption="weight"
    )
with f2:
    st.subheader("conv2: 64 filters, 3 x 3 x 32")
    kernel2, _ = network.conv_kernels(model, CONV2)
    limit2 = render.symmetric_limit(kernel2)
    browse = st.segmented_control(
        "Browse by", ["filter", "input channel"], default="filter", key="conv2_browse"
    )
    if browse == "input channel":
        channel = st.slider("Input channel (a conv1 map)", 0, 31, 0, key="conv2_channel")
        st.image(
            render.png(
                render.kernel_grid(network.kernels_on_input(kernel2, channel), 16, 10, limit2)
            )
        )
        st.caption(f"The 3 x 3 kernel each of the 64 filters applies to conv1's map {channel}.")
    else:
        index = st.slider("Filter", 0, 63, 0, key="conv2_filter")
        st.image(
            render.png(render.kernel_grid(network.kernels_of_filter(kernel2, index), 8, 14, limit2))
        )
        st.caption(
            f"Filter {index} looks at all 32 conv1 maps at once: one 3 x 3 kernel per map, summed."
        )
    st.image(
        render.png(render.colour_bar(render.DIVERGING_CMAP, -limit2, limit2)), caption="weight"
    )

st.header("The current digit, layer by layer")
digit = current_digit()
if digit is None:
    no_digit_prompt("its feature maps")
    render_sidebar()
    st.stop()

acts = layer_activations(get_activation_model(sha, model), digit.image)
st.caption(
    "A feature map is one filter's response at every position: bright where the filter found "
    "its pattern. ReLU sets every negative response to zero (black), so only matches remain. "
    "Max pooling keeps the strongest response in each 2 x 2 block: the map halves in size and "
    "a stroke can move a pixel without changing the result."
)
c_input, c_maps = st.columns([1, 4], gap="medium")
with c_input:
    st.image(
        render.png(render.grey_image(digit.image, scale=5)), caption=f"Input: {digit.description}"
    )
with c_maps:
    layer = (
        st.segmented_control(
            "Layer",
            list(MAP_LAYERS),
            # no default when another page chose the layer (the filter page's click-through)
            default=None if "map_layer" in st.session_state else CONV1,
            format_func=MAP_LAYERS.get,
            key="map_layer",
        )
        or CONV1
    )
    per_channel = st.toggle(
        "Stretch each map to its own maximum",
        key="per_channel",
        help="Off: one brightness scale for the whole layer, so maps can be compared. On: faint "
        "maps become visible too.",
    )
    maps = acts[layer]
    columns = render.grid_columns(maps.shape[-1])
    st.image(
        render.png(render.channel_grid(maps, columns, MAP_SCALE[layer], per_channel=per_channel))
    )
    peak = float(maps.max())
    legend = (0.0, 1.0) if per_channel else (min(0.0, float(maps.min())), peak or 1.0)
    st.image(
        render.png(render.colour_bar(render.SEQUENTIAL_CMAP, *legend, fmt="{:.2f}")),
        caption="activation" + (" (share of each map's maximum)" if per_channel else ""),
    )
    focus = st.session_state.get("focus")
    if focus is not None and focus[0] == layer:
        channel = focus[1]
        f1, f2 = st.columns([1, 2])
        f1.image(
            render.png(render.channel_grid(maps[..., channel : channel + 1], 1, 8)),
            caption=f"{layer} map {channel}, enlarged",
        )
        f2.caption(
            f"Map {channel} (row {channel // columns + 1}, column {channel % columns + 1} above): "
            f"peak {float(maps[..., channel].max()):.2f}. Bright where this digit contains the "
            "pattern the filter wants to see."
        )
    silent = int((maps.max(axis=(0, 1)) <= 0).sum())
    st.caption(f"{silent} of {maps.shape[-1]} maps are entirely zero for this digit.")

st.subheader("Dense layer: 128 units")
ranking = network.rank_units(acts[DENSE])
st.caption(
    f"pool2's 64 maps of 5 x 5 are flattened into 1,600 numbers; each dense unit takes a "
    f"weighted sum of all of them, then ReLU. For this digit {ranking.active} of 128 units are "
    f"active; the {TOP_UNITS} most active are highlighted (hover for the unit number)."
)
st.vega_lite_chart(charts.unit_chart(ranking.order, ranking.values, TOP_UNITS), width="stretch")

st.subheader("Output: logits and probabilities")
o1, o2 = st.columns(2, gap="large")
labels = [str(d) for d in range(10)]
with o1:
    st.vega_lite_chart(charts.values_chart(acts[LOGITS], labels, "logit (score)"), width="stretch")
    st.caption("Logits: one score per digit, a weighted sum of the 128 dense units. Any sign.")
with o2:
    st.vega_lite_chart(charts.probability_chart(acts[PROBABILITIES], height=200), width="stretch")
    st.caption(
        "Softmax: exp(score) / sum of exp(all scores). A score 2 higher means e^2 = 7.4 times "
        "more probable."
    )

render_sidebar()
