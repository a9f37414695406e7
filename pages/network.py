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
from mnist_viz.core.data import IMAGE_SIZE
from mnist_viz.core.model import LOGITS, PROBABILITIES, architecture
from mnist_viz.inside import network, unit_math
from mnist_viz.view import charts, describe, render
from pages._chart import chart
from pages._digit import current_digit, no_digit_prompt, render_sidebar
from pages._models import get_activation_model, get_model

TOP_UNITS = 10
PIXEL_UNITS_SHOWN = 64  # an MLP's first units, each with one weight per pixel
WEIGHT_COLOURS = "blue negative, white zero, red positive"


def weight_bar(limit: float) -> None:
    """The diverging colour scale of the weights shown above it."""
    st.image(
        render.png(render.colour_bar(render.DIVERGING_CMAP, -limit, limit)),
        caption="weight",
        alt=describe.colour_scale("weight", -limit, limit, WEIGHT_COLOURS),
    )


def kernel_scale(size: int) -> int:
    return 14 if size <= 3 else 8  # screen pixels per weight: 3x3 and 5x5 kernels at ~40 px


def first_filters(layer) -> None:
    kernel = layer.get_weights()[0]
    k, filters = kernel.shape[0], kernel.shape[-1]
    limit = render.symmetric_limit(kernel)
    st.subheader(f"{layer.name}: {filters} filters, {k} x {k}")
    tiles = network.kernels_on_input(kernel, 0)
    grid = render.kernel_grid(tiles, render.grid_columns(filters), kernel_scale(k), limit)
    st.image(render.png(grid), alt=describe.kernels(f"{layer.name}'s {filters} filters", tiles))
    weight_bar(limit)


def later_filters(layers) -> None:
    layer = layers[0]
    if len(layers) > 1:
        names = [x.name for x in layers]
        chosen = (
            st.segmented_control("Layer", names, default=names[0], key="filters_of") or names[0]
        )
        layer = layers[names.index(chosen)]
    kernel = layer.get_weights()[0]
    k, inputs, filters = kernel.shape[0], kernel.shape[2], kernel.shape[3]
    limit = render.symmetric_limit(kernel)
    st.subheader(f"{layer.name}: {filters} filters, {k} x {k} x {inputs}")
    browse = st.segmented_control(
        "Browse by", ["filter", "input channel"], default="filter", key=f"{layer.name}_browse"
    )
    if browse == "input channel":
        channel = st.slider(
            "Input channel (a map of the layer before)",
            0,
            inputs - 1,
            0,
            key=f"{layer.name}_channel",
        )
        kernels = network.kernels_on_input(kernel, channel)
        st.image(
            render.png(
                render.kernel_grid(
                    kernels, render.grid_columns(filters), kernel_scale(k) - 4, limit
                )
            ),
            alt=describe.kernels(
                f"The kernels {layer.name}'s filters apply to map {channel}", kernels
            ),
        )
        st.caption(
            f"The {k} x {k} kernel each of the {filters} filters applies to input map {channel}."
        )
    else:
        index = st.slider("Filter", 0, filters - 1, 0, key=f"{layer.name}_filter")
        kernels = network.kernels_of_filter(kernel, index)
        st.image(
            render.png(
                render.kernel_grid(kernels, render.grid_columns(inputs), kernel_scale(k), limit)
            ),
            alt=describe.kernels(f"{layer.name} filter {index}, one kernel per input map", kernels),
        )
        st.caption(
            f"Filter {index} looks at all {inputs} input maps at once: one {k} x {k} "
            "kernel per map, summed."
        )
    weight_bar(limit)


def filters_section(convs) -> None:
    st.caption(
        "A convolution filter is a small grid of weights slid over the image; at each position "
        "it multiplies and sums, so it responds where the image looks like the filter. Red "
        "weights reward brightness under them, blue ones penalise it, white means zero. Many "
        f"{convs[0].name} filters become edge and stroke detectors, like the simple cells of the "
        "visual cortex."
    )
    if len(convs) == 1:
        first_filters(convs[0])
        return
    f1, f2 = st.columns([1, 1], gap="large")
    with f1:
        first_filters(convs[0])
    with f2:
        later_filters(convs[1:])


def pixel_weights_section(first) -> None:
    weights = first.get_weights()[0]  # (784, units)
    shown = min(PIXEL_UNITS_SHOWN, weights.shape[1])
    st.info(
        "This network has no convolutions (a multilayer perceptron), so it has no filters: "
        f"each of the {weights.shape[1]} units of {first.name} has its own weight for every one "
        "of the 784 pixels. Nothing is shared between positions, so a pattern learned in one "
        "place is not recognised in another.",
        icon=":material/info:",
    )
    templates = weights[:, :shown].T.reshape(shown, IMAGE_SIZE, IMAGE_SIZE)
    limit = render.symmetric_limit(templates)
    st.image(
        render.png(render.kernel_grid(templates, 16, 2, limit)),
        alt=describe.kernels(f"The pixel weights of {first.name}'s first {shown} units", templates),
    )
    st.caption(
        f"The pixel weights of {first.name}'s first {shown} units, each as a 28 x 28 image "
        "(red rewards ink there, blue penalises it)."
    )


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
        peak = float(maps.max())
        legend = (0.0, 1.0) if per_channel else (min(0.0, float(maps.min())), peak or 1.0)
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
                f"above): peak {float(maps[..., channel].max()):.2f}. Bright where this digit "
                "contains the pattern the filter wants to see."
            )
        silent = int((maps.max(axis=(0, 1)) <= 0).sum())
        st.caption(f"{silent} of {maps.shape[-1]} maps are entirely zero for this digit.")
    unit_arithmetic(digit, acts, spatial[layer])


def numbers(values, fmt: str = "{:.2f}") -> list[dict]:
    """A small grid of numbers as rows for ``st.dataframe``."""
    return [{str(c): fmt.format(v) for c, v in enumerate(row)} for row in values]


def unit_arithmetic(digit, acts, layer: MapLayer) -> None:
    """Choose one unit of the shown layer and see the arithmetic that makes its value."""
    model = cached.model
    with st.expander(f"One unit of {layer.name}: the arithmetic behind its value"):
        u1, u2, u3 = st.columns(3)
        channel = u1.number_input("Map", 0, layer.channels - 1, 0, key=f"unit_map_{layer.name}")
        keys = f"unit_row_{layer.name}_{channel}", f"unit_col_{layer.name}_{channel}"
        pick = f"unit_pick_{layer.name}_{channel}"
        follow_click(acts[layer.name], channel, keys, pick)
        row = u2.number_input("Row", 0, layer.height - 1, key=keys[0])
        col = u3.number_input("Column", 0, layer.width - 1, key=keys[1])
        m1, m2 = st.columns([1, 2])
        with m1:
            chart(
                charts.unit_picker_chart(acts[layer.name][..., channel], (row, col)),
                f"{layer.name} map {channel}, one cell per unit; click a unit to choose it",
                on_select="rerun",
                selection_mode=charts.UNIT_SELECTION,
                key=pick,
                width="content",  # square cells: the map's own proportions
            )
            st.caption(
                f"Map {channel} of {layer.name} for this digit: click a unit to see where its "
                "value comes from (outlined: the unit shown)."
            )
        with m2:
            explain_unit(model, digit, acts, layer, channel, row, col)


def follow_click(maps, channel: int, keys: tuple[str, str], pick: str) -> None:
    """Point the row and column inputs at the unit last clicked on the map, or at the map's
    strongest unit before any click. Runs before those inputs are drawn (Streamlit allows
    setting a widget's value only then)."""
    state = st.session_state
    if keys[0] not in state:
        state[keys[0]], state[keys[1]] = (int(v) for v in unit_math.strongest(maps, channel))
    clicked = charts.clicked_unit(state.get(pick))
    if clicked is not None and clicked != state.get(f"{pick}_applied"):
        state[keys[0]], state[keys[1]] = clicked
        state[f"{pick}_applied"] = clicked


def explain_unit(model, digit, acts, layer: MapLayer, channel: int, row: int, col: int) -> None:
    """The arithmetic that makes one unit's value: its window and maximum for pooling; its
    patch, kernel, products, bias and ReLU for a convolution."""
    inputs = unit_math.layer_input(model, acts, layer.name, digit.image)
    shown = float(acts[layer.name][row, col, channel])
    if layer.kind == "pooling":
        unit = unit_math.pool_unit(model, inputs, layer.name, row, col, channel)
        st.dataframe(numbers(unit.window), hide_index=True)
        r, c = unit.winner
        st.caption(
            f"The {unit.window.shape[0]} x {unit.window.shape[1]} window of the map before, "
            f"from row {unit.top}, column {unit.left}: the largest value "
            f"(row {r}, column {c} of the window) is kept: **{unit.value:.3f}**, as the map "
            f"shows ({shown:.3f})."
        )
        return
    unit = unit_math.conv_unit(model, inputs, layer.name, row, col, channel)
    k = unit.kernel.shape[0]
    if unit.patch.shape[-1] == 1:  # reads the image: every product can be shown
        p1, p2, p3 = st.columns(3)
        p1.caption(f"Input patch, rows {row}-{row + k - 1}, columns {col}-{col + k - 1}")
        p1.dataframe(numbers(unit.patch[..., 0]), hide_index=True)
        p2.caption(f"Kernel of map {channel}")
        p2.dataframe(numbers(unit.kernel[..., 0]), hide_index=True)
        p3.caption("Products (patch x kernel)")
        p3.dataframe(numbers(unit.products[..., 0], "{:.3f}"), hide_index=True)
        summed = f"the {k * k} products add up to {unit.products.sum():.3f}"
    else:
        contributions = unit.per_input
        st.dataframe(
            [{"input map": i, "its products summed": f"{v:.3f}"} for i, v in unit.top_inputs(8)],
            hide_index=True,
        )
        summed = (
            f"each of the {len(contributions)} input maps contributes the sum of its {k * k} "
            f"products (the 8 largest above); together {contributions.sum():.3f}"
        )
    st.markdown(
        f"{summed[0].upper()}{summed[1:]}; plus the bias {unit.bias:.3f} gives "
        f"{unit.before_relu:.3f}; ReLU keeps {'it' if unit.before_relu > 0 else 'zero instead'}: "
        f"**{unit.value:.3f}**, as the map shows ({shown:.3f})."
    )


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
