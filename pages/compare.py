"""Compare two networks: the same digit, shift tolerance, robustness, and what their layers
represent (RSA)."""

import streamlit as st

from mnist_viz.adversarial.attacks import ATTACKS
from mnist_viz.adversarial.lab import robustness_method_text
from mnist_viz.core.activations import layer_activations
from mnist_viz.core.architecture import map_layers
from mnist_viz.core.cache import architecture_of, model_label
from mnist_viz.core.model import predict_proba, top_class
from mnist_viz.explain.invariance import SHIFTS
from mnist_viz.neuro.rsa import similarity
from mnist_viz.view import charts, describe, render
from ui.chart import chart
from ui.digit import current_digit, prediction_metric
from ui.models import ModelSlot, available_models, get_activation_model, session_model_name
from ui.results import (
    SHIFT_TEST_DIGITS,
    compute_robustness,
    get_rdms,
    get_shift_accuracy,
    robustness_curves,
)
from ui.sidebar import render_sidebar

st.title("Compare two networks")
st.caption(
    "The comparisons a neuroscience course cares about: a multilayer perceptron against a CNN "
    "(weight sharing and shift tolerance), pooling against none (complex-cell invariance), 16 "
    "against 32 filters, a standard network against an adversarially trained one."
)
models = available_models()
if len(models) < 2:
    st.info(
        "Only one network is trained so far. The teacher can train others (a preset or their own "
        "design) on **Training & evaluation**, or from the command line: "
        "`python -m mnist_viz train --arch mlp`.",
        icon=":material/info:",
    )
    render_sidebar()
    st.stop()

names = list(models)
mine = session_model_name()
first = mine if mine in names else names[0]
other = next((n for n in names if n != first), names[0])
c1, c2 = st.columns(2)
name_a = c1.selectbox(
    "Network A",
    names,
    index=names.index(first),
    key="compare_a",
    format_func=lambda n: model_label(models[n]),
)
name_b = c2.selectbox(
    "Network B",
    names,
    index=names.index(other),
    key="compare_b",
    format_func=lambda n: model_label(models[n]),
)
a, b = ModelSlot(name_a).load(), ModelSlot(name_b).load()
if a is None or b is None:
    st.error("One of these networks could not be loaded; choose another.")
    render_sidebar()
    st.stop()
label_a, label_b = f"A: {model_label(a.info)}", f"B: {model_label(b.info)}"
for col, cached in ((c1, a), (c2, b)):
    col.caption(
        f"{architecture_of(cached.info).describe().capitalize()}; "
        f"{cached.model.count_params():,} parameters; {cached.info.test_accuracy:.2%} on the test set."
    )

st.header("The current digit")
digit = current_digit()
if digit is None:
    st.caption("Draw or pick a digit to see both networks read it.")
else:
    d1, d2 = st.columns(2, gap="large")
    for col, cached in ((d1, a), (d2, b)):
        with col:
            p = predict_proba(cached.model, digit.image)[0]
            prediction_metric("Prediction", *top_class(p))
            chart(
                charts.probability_chart(p, height=160),
                f"{architecture_of(cached.info).describe()}: the probability of each digit",
                width="stretch",
            )
            spatial = map_layers(cached.model)
            if spatial:
                first_maps = spatial[0]
                acts = layer_activations(get_activation_model(cached), digit.image)
                maps = acts[first_maps.name]
                st.image(
                    render.png(render.channel_grid(maps, render.grid_columns(maps.shape[-1]), 2)),
                    alt=describe.feature_maps(first_maps.name, maps, digit.description),
                )
                st.caption(f"{first_maps.label}: the first feature maps of this digit.")
            else:
                st.caption("No feature maps: every unit of this network sees all 784 pixels.")

st.header("Shift tolerance")
st.caption(
    f"The first {SHIFT_TEST_DIGITS} test digits moved left and right, {SHIFTS[0]} to +{SHIFTS[-1]} "
    "pixels. A convolution applies the same filter everywhere and pooling keeps the strongest "
    "response of each block, so a CNN should keep reading a moved digit for longer than a "
    "multilayer perceptron, whose every weight belongs to one pixel (compare complex cells, "
    "which respond to their pattern anywhere in a small region)."
)
rows = [
    {"model": label, "shift": int(dx), "accuracy": float(acc)}
    for label, cached in ((label_a, a), (label_b, b))
    for dx, acc in zip(SHIFTS, get_shift_accuracy(cached), strict=True)
]
chart(charts.shift_accuracy_chart(rows), "Test accuracy of each network by shift", width="stretch")

st.header("Robustness to adversarial examples")
curves = {
    label: robustness_curves(c.info.model_sha256) for label, c in ((label_a, a), (label_b, b))
}
rows = [
    {"model": label, "attack": m, "epsilon": e, "accuracy": acc}
    for label, found in curves.items()
    for m, curve in found.items()
    for e, acc in zip(curve.epsilons, curve.accuracies, strict=True)
]
if rows:
    chart(charts.robustness_chart(rows), "Accuracy under attack by epsilon", width="stretch")
missing = [
    (label, cached, method)
    for label, cached in ((label_a, a), (label_b, b))
    for method in ATTACKS
    if method not in curves[label]
]
if missing:
    unmeasured = sorted({label for label, _, _ in missing})
    st.caption(
        f"Not measured yet for {' and '.join(unmeasured)}: "
        f"{robustness_method_text(a.info.n_test)}, once per network (about 20 s each)."
    )
    if st.button("Measure robustness", icon=":material/speed:", key="compare_robustness"):
        for _, cached, method in missing:
            compute_robustness(
                cached.info.model_sha256,
                cached.model,
                method,
                f"{model_label(cached.info)} network",
            )
        st.rerun()

st.header("What the layers represent (RSA)")
st.caption(
    "Representational similarity analysis (Kriegeskorte, Mur and Bandettini 2008), the way "
    "neuroscientists compare a network with recordings from the brain: show both networks the "
    "same 100 test digits (10 of each class, in order), and for each layer measure how "
    "differently it responds to every pair (1 minus the correlation of its responses: the "
    "representational dissimilarity matrix, RDM). Dark blocks on the diagonal: digits of one "
    "class look alike to that layer. Then compare layers by the rank correlation of their RDMs: "
    "no need to match units, or even layer sizes."
)
rdms_a, rdms_b = get_rdms(a), get_rdms(b)
r1, r2 = st.columns(2, gap="large")
for col, rdms, label, key in (
    (r1, rdms_a, label_a, "rsa_layer_a"),
    (r2, rdms_b, label_b, "rsa_layer_b"),
):
    with col:
        layers = list(rdms)
        layer = st.selectbox(f"Layer of {label}", layers, index=len(layers) - 2, key=key)
        image = render.colourise(rdms[layer], render.SEQUENTIAL_CMAP, 0.0, 2.0)
        st.image(
            render.png(render.upscale(image, 3)),
            caption=f"RDM of {layer} (dark: alike)",
            alt=f"The representational dissimilarity matrix of {label}'s {layer}: "
            f"{len(rdms[layer])} x {len(rdms[layer])} digits, dark where two are alike.",
        )
matrix = similarity(rdms_a, rdms_b)
chart(
    charts.similarity_chart(matrix, list(rdms_a), list(rdms_b), "layer of A", "layer of B"),
    "How alike each layer of A and each layer of B represent the 100 digits",
    width="stretch",
)
st.caption(
    "Each cell: how alike two layers represent the 100 digits (Spearman correlation of their "
    "RDMs; 1 = the same geometry). Early layers mostly reflect the pixels and agree across "
    "networks; the question is where they part ways (compare a standard and an adversarially "
    "trained network, as in Neuromatch Academy's NeuroAI course)."
)
render_sidebar()
