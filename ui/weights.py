"""The learned weights of "Inside the network", drawn on one signed colour scale: a
convolution's filters (browsed by filter or by input map) and a multilayer perceptron's pixel
templates."""

from __future__ import annotations

import streamlit as st

from mnist_viz.inside import network
from mnist_viz.view import describe, render

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
    """The first convolution's kernels, which look at the pixels themselves."""
    kernel = layer.get_weights()[0]
    k, filters = kernel.shape[0], kernel.shape[-1]
    limit = render.symmetric_limit(kernel)
    st.subheader(f"{layer.name}: {filters} filters, {k} x {k}")
    tiles = network.kernels_on_input(kernel, 0)
    grid = render.kernel_grid(tiles, render.grid_columns(filters), kernel_scale(k), limit)
    st.image(render.png(grid), alt=describe.kernels(f"{layer.name}'s {filters} filters", tiles))
    weight_bar(limit)


def later_filters(layers) -> None:
    """A later convolution's filters, browsed by filter or by input map."""
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
    """The learned filters of every convolution: the first layer's, then a later layer's."""
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
    """A multilayer perceptron's first units, each as a 28 x 28 template of pixel weights."""
    weights = first.get_weights()[0]  # (784, units)
    shown = min(PIXEL_UNITS_SHOWN, weights.shape[1])
    st.info(
        "This network has no convolutions (a multilayer perceptron), so it has no filters: "
        f"each of the {weights.shape[1]} units of {first.name} has its own weight for every one "
        "of the 784 pixels. Nothing is shared between positions, so a pattern learned in one "
        "place is not recognised in another.",
        icon=":material/info:",
    )
    templates = network.pixel_templates(weights, shown)
    limit = render.symmetric_limit(templates)
    st.image(
        render.png(render.kernel_grid(templates, 16, 2, limit)),
        alt=describe.kernels(f"The pixel weights of {first.name}'s first {shown} units", templates),
    )
    st.caption(
        f"The pixel weights of {first.name}'s first {shown} units, each as a 28 x 28 image "
        "(red rewards ink there, blue penalises it)."
    )
