"""Why this prediction: which pixels matter, and how far the answer survives shifts and turns."""

import streamlit as st

from mnist_viz.core.model import predict_proba, top_class
from mnist_viz.explain.explanations import methods_for
from mnist_viz.explain.invariance import SHIFTS
from mnist_viz.explain.reading import read
from mnist_viz.view import charts, describe, render
from ui.chart import chart
from ui.digit import current_digit, no_digit_prompt
from ui.models import get_model
from ui.results import get_explanations, get_probes
from ui.sidebar import render_sidebar

NEUTRAL = {"shift": 0, "rotation": 0, "scale": 1.0, "stroke thickness": 0}

st.title("Why this prediction")
cached = get_model()
digit = current_digit()
if digit is None:
    no_digit_prompt("why the network answers as it does")
    render_sidebar()
    st.stop()

model = cached.model
probabilities = predict_proba(model, digit.image)[0]
predicted, _ = top_class(probabilities)
class_index = st.selectbox(
    "Explain the score of",
    range(10),
    index=predicted,
    key="explain_class",
    format_func=lambda c: (
        f"{c} (predicted, {probabilities[c]:.0%})"
        if c == predicted
        else f"{c} ({probabilities[c]:.1%})"
    ),
    help="The predicted class by default; choose another to see what would speak for it.",
)
maps = get_explanations(cached, digit)
methods = methods_for(model)
compared = [predicted] if class_index == predicted else [predicted, int(class_index)]
for c in compared:
    cols = st.columns(len(methods) + 1)
    cols[0].image(
        render.png(render.grey_image(digit.image, scale=6)),
        caption=f"the score of {c} ({'predicted, ' if c == predicted else ''}"
        f"{probabilities[c]:.1%})",
        alt=f"The digit explained: {digit.description}; below, the maps for {c}.",
    )
    for col, method in zip(cols[1:], methods, strict=True):
        reading = read(maps[method.name], c, method.unit(model), method.signed)
        col.image(
            render.png(
                render.overlay(digit.image, reading.values, reading.limit, reading.signed, scale=6)
            ),
            caption=f"{method.title} for {c}: {reading.range_text()}",
            alt=describe.attribution(method.title, reading),
        )
        if reading.negligible:
            col.caption(f"**{reading.verdict()}**")
if len(compared) > 1:
    st.caption(
        "Each method's colours mean the same numbers in both rows (and for every class you "
        "choose): its scale is the largest effect of that method over all ten classes."
    )
cols = st.columns(len(methods) + 1)
cols[0].caption("Scales, in each map's own unit")
for col, method in zip(cols[1:], methods, strict=True):
    reading = read(maps[method.name], compared[-1], method.unit(model), method.signed)
    col.image(
        render.png(
            render.overlay_legend(reading.limit, reading.signed, reading.scale_ends(), width=150)
        ),
        caption=f"{method.title}, in {reading.unit.name}: {reading.scale_text()}",
        alt=describe.attribution_scale(method.title, reading),
    )
    col.caption(method.describe(model))
if len(methods) < 4:
    st.caption(
        "Grad-CAM is left out: it reads the maps of the last convolution, and this network has "
        "none."
    )
st.caption(
    "Gradient maps say where a change would move the class's score, which is not the same as "
    "evidence already on the page: for a class the network gives ~0%, they show where a change of "
    "ink would move its score, either way (they show the size of the gradient, not its sign). "
    f"All {len(methods)} ask the same question in different ways, and none is the whole truth: "
    "saliency maps show where the network is sensitive, which is not always where the evidence "
    'is (Adebayo et al. 2018, "Sanity checks for saliency maps").'
)

st.header("Where its invariance ends")
st.caption(
    "The digit shifted, rotated, scaled, and drawn thicker or thinner, step by step. The line is "
    "the probability of the original answer; the labels on top are the class predicted at each "
    "step, red once it changed. Convolution and pooling make small shifts cheap to tolerate; "
    "rotation and scale tolerance is only what was learned from MNIST's own variety."
)
probes = get_probes(cached, digit)
grid = st.columns(2)
for i, probe in enumerate(probes):
    with grid[i % 2]:
        low, high = probe.tolerated(NEUTRAL[probe.name])
        st.subheader(probe.name.capitalize())
        chart(
            charts.probe_chart(
                probe.values,
                probe.predicted,
                probe.confidence,
                probe.original_probability,
                probe.unit,
            ),
            f"The probability of {predicted} and the class read at each {probe.name}",
            width="stretch",
        )
        step = max(1, len(probe.values) // 9)
        strip = [render.grey_image(im) for im in probe.images[::step]]
        shown = probe.values[::step]
        st.image(
            render.png(render.tile(strip, len(strip), scale=2)),
            width="stretch",
            alt=f"The digit at {probe.name} {describe.listing([f'{v:g}' for v in shown])} "
            f"{probe.unit}, left to right.",
        )
        st.caption(
            f"Same answer from {low:g} to {high:g} {probe.unit}"
            + (
                " (the whole range tried)."
                if (low, high) == (probe.values[0], probe.values[-1])
                else "."
            )
        )
st.caption(
    f"Shifts are horizontal, {SHIFTS[0]} to +{SHIFTS[-1]} pixels; rotation is counter-clockwise."
)

render_sidebar()
