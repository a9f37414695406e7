"""The adversarial lab's layer picker: one layer's feature maps for the original and the
adversarial digit, side by side."""

from __future__ import annotations

import streamlit as st

from mnist_viz.adversarial.lab import MapChange, map_change


def feature_map_change(spatial, clean_acts, adv_acts) -> MapChange:
    """One layer's feature maps for the original and the adversarial digit; returns their
    difference, for the caller to place."""
    names = list(spatial)
    layer = (
        st.segmented_control(
            "Layer",
            names,
            default=names[0],
            format_func=lambda n: spatial[n].label,
            key="lab_layer",
        )
        or names[0]
    )
    change = map_change(layer, clean_acts[layer], adv_acts[layer], spatial[layer].tile_scale)
    g1, g2 = st.columns(2)
    g1.image(change.clean_png, caption=f"{layer}, original", alt=change.clean_alt)
    g2.image(change.adversarial_png, caption=f"{layer}, adversarial", alt=change.adversarial_alt)
    return change
