"""Inside the network: the architecture, the learned filters, and the current digit's journey.

Every label, size and grid comes from the model itself (``mnist_viz.core.architecture``), so the page
shows any network the app can train, and says what does not apply (an MLP has no filters)."""

import streamlit as st

from mnist_viz.core.activations import layer_activations
from mnist_viz.core.architecture import (
    MapLayer,
    conv_layers,
    feature_layer,
    hidden_dense_layers,
    map_layers,
)
from mnist_viz.core.model import LOGITS, PROBABILITIES, architecture
from mnist_viz.inside import network
from mnist_viz.view import charts, describe, render
from ui.chart import chart
from ui.digit import current_digit, no_digit_prompt
from ui.models import get_activation_model, get_model
from ui.sidebar import render_sidebar
from ui.unit_arithmetic import unit_arithmetic
from ui.weights import filters_section, pixel_weights_section

TOP_UNITS = 10


def feature_maps_section(digit, acts, spatial: dict[str, MapLayer]) -> None:
    st.caption(
        "A feature map is one filter's response at every position: bright where the filter found "
        "its pattern. ReLU sets every negative response to zero (black), so only matches remain. "
        "Max pooling keeps the strongest response in each 2 x 2 block: the map halves in size "
        "and a stroke can move a pixel without changing the result."
    )
    c_input, c_maps = st.columns([1, 4], gap="medium")
    with c_input:
        st.image(
            render.png(render.grey_image(digit.image, scale=5)),
            caption=f"Input: {digit.description}",
            alt=f"The input, 28 x 28 grey pixels: {digit.description}.",
        )
    names = list(spatial)
    chosen = st.session_state.get("map_layer")
    if chosen is not None and chosen not in spatial:  # chosen for another network
        del st.session_state["map_layer"]
    with c_maps:
        layer = (
            st.segmented_control(
                "Layer",
                names,
                # no default when another page chose the layer (the filter page's click-through)
                default=None if "map_layer" in st.session_state else names[0],
                format_func=lambda n: spatial[n].label,
                key="map_layer",
            )
            or names[0]
        )
        per_channel = st.toggle(
            "Stretch each map to its own maximum",
            key="per_channel",
            help="Off: one brightness scale for the whole layer, so maps can be compared. On: "
            "faint maps become visible too.",
        )
        maps, scale = acts[layer], spatial[layer].tile_scale
        columns = render.grid_columns(maps.shape[-1])
        st.image(
            render.png(render.channel_grid(maps, columns, scale, per_channel=per_channel)),
            alt=describe.feature_maps(layer, maps, digit.description),
        )
        summary = network.summarise_maps(maps)
        legend = summary.legend(per_channel)
        st.image(
            render.png(render.colour_bar(render.SEQUENTIAL_CMAP, *legend, fmt="{:.2f}")),
            caption="activation" + (" (share of each map's maximum)" if per_channel else ""),
            alt=describe.colour_scale("activation", *legend, "black low, bright yellow high"),
        )
        focus = st.session_state.get("focus")
        if focus is not None and focus[0] == layer and focus[1] < maps.shape[-1]:
            channel = focus[1]
            f1, f2 = st.columns([1, 2])
            f1.image(
                render.png(render.channel_grid(maps[..., channel : channel + 1], 1, 8)),
                caption=f"{layer} map {channel}, enlarged",
                alt=f"{layer} map {channel}, enlarged: brightest at "
                f"{describe.hot_spot(maps[..., channel], 3)}.",
            )
            f2.caption(
                f"Map {channel} (row {channel // columns + 1}, column {channel % columns + 1} "
                f"above): peak {summary.channel_peaks[channel]:.2f}. Bright where this digit "
                "contains the pattern the filter wants to see."
            )
        st.caption(f"{summary.silent} of {maps.shape[-1]} maps are entirely zero for this digit.")
    unit_arithmetic(cached.model, digit, acts, spatial[layer])


st.title("Inside the network")
cached = get_model()
model = cached.model
rows = architecture(model)

st.header("Architecture")
st.caption(
    "The image flows left to right, then on to the second row. Each box is a layer with its "
    "output shape (height x width x channels, or a number of values). Every digit takes exactly "
    "the same path. Dropout (dashed) only acts during training; at prediction time it passes "
    "everything through."
)
st.graphviz_chart(network.data_flow_dot(rows), width="stretch")
table = [
    {
        "Layer": r.name,
        "Type": r.kind,
        "What it does": network.layer_role(model.get_layer(r.name)),
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
        "Parameters are the weights and biases a layer learns. "
        + " ".join(f"{line}." for line in network.parameter_arithmetic(model))
        + " Pooling, flatten and dropout learn nothing."
    )

hidden = feature_layer(model)
st.header("Learned filters")
convs = conv_layers(model)
if convs:
    filters_section(convs)
else:
    pixel_weights_section(hidden_dense_layers(model)[0])

st.header("The current digit, layer by layer")
digit = current_digit()
if digit is None:
    no_digit_prompt("its feature maps")
    render_sidebar()
    st.stop()

acts = layer_activations(get_activation_model(cached), digit.image)
spatial = {m.name: m for m in map_layers(model)}
if spatial:
    feature_maps_section(digit, acts, spatial)
else:
    st.info(
        "This network has no feature maps: without convolutions, every unit of its first layer "
        "looks at all 784 pixels at once, so there is no picture of where a pattern was found.",
        icon=":material/info:",
    )

units = int(hidden.units)
ranking = network.rank_units(acts[hidden.name])
st.subheader(f"Dense layer: {units} units")
source = network.dense_input_text(model, hidden)
if source.startswith("the "):  # a sentence, unless it starts with a layer's name
    source = "T" + source[1:]
st.caption(
    f"{source}; each dense unit takes a weighted sum of all of them, then "
    f"ReLU. For this digit {ranking.active} of {units} units are active; the {TOP_UNITS} most "
    "active are highlighted (hover for the unit number)."
)
chart(
    charts.unit_chart(ranking.order, ranking.values, TOP_UNITS),
    "Every dense unit's activation, most active first",
    width="stretch",
)

st.subheader("Output: logits and probabilities")
o1, o2 = st.columns(2, gap="large")
labels = [str(d) for d in range(10)]
with o1:
    chart(
        charts.values_chart(acts[LOGITS], labels, "logit (score)"),
        "The logit (score) of each digit",
        width="stretch",
    )
    st.caption(f"Logits: one score per digit, a weighted sum of the {units} dense units. Any sign.")
with o2:
    chart(
        charts.probability_chart(acts[PROBABILITIES], height=200),
        "The probability of each digit",
        width="stretch",
    )
    st.caption(
        "Softmax: exp(score) / sum of exp(all scores). A score 2 higher means e^2 = 7.4 times "
        "more probable."
    )

render_sidebar()
