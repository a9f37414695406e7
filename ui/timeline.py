"""Watch it learn (on "Training & evaluation"): the network at each training snapshot, its first
layer's weights and the current digit's feature maps, from random noise to the trained network."""

from __future__ import annotations

import streamlit as st

from mnist_viz.core.activations import layer_activations
from mnist_viz.core.cache import CachedModel
from mnist_viz.core.model import PROBABILITIES, top_class
from mnist_viz.inside import network, timeline
from mnist_viz.view import describe, render
from ui.digit import current_digit
from ui.models import TIMELINE_TEST_DIGITS, get_model_at, get_snapshots, session_model_name


def watch_it_learn(cached: CachedModel, test_digits: int) -> None:
    """Scrub through training: the first layer's weights and the current digit's feature maps at
    each kept snapshot, from random noise to the trained network (its accuracy measured on the
    first of the ``test_digits`` test digits)."""
    snapshots = get_snapshots(session_model_name(), cached.info.model_sha256)
    if len(snapshots) < 2:
        return
    st.subheader("Watch it learn")
    st.caption(
        f"The weights were kept {len(snapshots)} times while this network trained, most often "
        "at the start, where they change fastest. Move the slider to see its first layer, and "
        "the current digit through it, at that moment."
    )
    labels = [timeline.label(s) for s in snapshots]
    chosen = st.select_slider("Training so far", labels, value=labels[-1], key="timeline")
    index = labels.index(chosen)
    then, activations, accuracy = get_model_at(cached, index, snapshots[index])
    first = then.layers[next(i for i, x in enumerate(then.layers) if x.get_weights())]
    kernel = snapshots[index].weights[0]
    limit = render.symmetric_limit(snapshots[-1].weights[0])  # the trained scale throughout
    t1, t2 = st.columns([1, 1], gap="large")
    with t1:
        if kernel.ndim == 4:  # a convolution: (k, k, 1, filters)
            tiles = network.kernels_on_input(kernel, 0)
            st.image(
                render.png(render.kernel_grid(tiles, render.grid_columns(len(tiles)), 10, limit)),
                alt=describe.kernels(f"{first.name}'s filters at {chosen}", tiles),
            )
            st.caption(f"{first.name}'s filters at this point (one colour scale for all moments).")
        else:  # a dense layer on the pixels: (784, units)
            shown = min(32, kernel.shape[1])
            tiles = network.pixel_templates(kernel, shown)
            st.image(
                render.png(render.kernel_grid(tiles, 8, 2, limit)),
                alt=describe.kernels(f"{first.name}'s first {shown} units at {chosen}", tiles),
            )
            st.caption(f"The pixel weights of {first.name}'s first {shown} units at this point.")
        st.metric(
            f"Accuracy at this point (first {min(TIMELINE_TEST_DIGITS, test_digits):,} "
            "test digits)",
            f"{accuracy:.1%}",
        )
    with t2:
        digit = current_digit()
        if digit is None:
            st.caption("Draw or pick a digit to see its feature maps change as the network learns.")
        else:
            outputs = layer_activations(activations, digit.image)
            guess, sure = top_class(outputs[PROBABILITIES])
            read = f"read the current digit as {guess} ({sure:.0%})"
            if kernel.ndim == 4:
                maps = outputs[first.name]
                columns = render.grid_columns(maps.shape[-1])
                st.image(
                    render.png(render.channel_grid(maps, columns, 3)),
                    alt=f"{describe.feature_maps(first.name, maps, digit.description)} "
                    f"Training so far: {chosen}.",
                )
                st.caption(
                    f"The current digit's {first.name} maps; at this point the network {read}."
                )
            else:
                st.caption(f"This network has no feature maps; at this point it {read}.")
