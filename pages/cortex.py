"""The network and the visual cortex: receptive fields, V1-like filters, and electrophysiology."""

import math

import streamlit as st

from mnist_viz.core.architecture import conv_layers, map_layers
from mnist_viz.core.data import IMAGE_SIZE
from mnist_viz.inside.receptive_field import coverage, field_box
from mnist_viz.neuro.cortex import GOOD_FIT
from mnist_viz.neuro.tuning import bar, grating
from mnist_viz.view import charts, describe, render
from ui.chart import chart
from ui.models import get_model
from ui.results import get_cortex_report
from ui.sidebar import render_sidebar

st.title("The network and the visual cortex")
st.caption(
    "Convolutional networks were inspired by the visual cortex: Fukushima's neocognitron (1980) "
    "copied Hubel and Wiesel's simple and complex cells, and LeCun's networks (1989, 1998) "
    "learned such filters from data. Here we test the analogy on this network with the methods "
    "neuroscientists use, and say where it holds and where it does not."
)
cached = get_model()
convs = conv_layers(cached.model)
if not convs:
    st.info(
        "This network has no convolutions (a multilayer perceptron), so this page does not apply: "
        "it compares convolution filters, which see a small patch and are repeated at every "
        "position, with cells of the visual cortex. Every unit of a multilayer perceptron sees "
        "the whole image with its own weights. Choose a convolutional network under **Network** "
        "in the sidebar to compare.",
        icon=":material/info:",
    )
    render_sidebar()
    st.stop()
report = get_cortex_report(cached)
first = report.first_layer
k = int(convs[0].kernel_size[0])
spatial = {m.name: m for m in map_layers(cached.model)}
last = list(spatial.values())[-1]

st.header("Receptive fields")
st.caption(
    "A unit's receptive field is the patch of the input it can see. The theoretical field grows "
    f"layer by layer: each {k} x {k} convolution adds {k - 1} steps to its side, and each 2 x 2 "
    "pooling adds one step and then doubles the step (the distance between neighbouring units' "
    "fields). "
    "The effective field (Luo et al. 2016) is measured: the size of the gradient of the centre "
    "position's units (all channels summed) with respect to every input pixel, averaged over 200 test digits, and drawn as a share "
    "of its own peak, since it is the shape that is compared here, not the strength. It is "
    "concentrated in the middle of the theoretical one, as in the cortex, where fields also grow "
    "from V1 to later areas."
)
cols = st.columns(len(report.field_layers))
for col, layer in zip(cols, report.field_layers, strict=True):
    geometry = report.geometry[layer]
    field = report.effective_fields[layer]
    h = spatial[layer].height
    box = field_box(geometry, h // 2, h // 2)
    heat = render.colourise(render.share_of_peak(field), render.HEAT_CMAP, 0, 1)
    col.image(
        render.png(render.outline(render.upscale(heat, 6), box, 6, (120, 200, 255))),
        alt=f"The effective receptive field of {layer}'s centre unit over the 28 x 28 input: "
        f"strongest at {describe.hot_spot(field, 3)}, inside a blue box of the theoretical "
        f"{geometry.size} x {geometry.size} pixel field.",
    )
    col.markdown(f"**{layer}**: {geometry.size} x {geometry.size} px")
top, left, bottom, right = coverage(report.geometry[last.name], last.height, last.width)
seen_rows, seen_cols = bottom - top + 1, right - left + 1
unseen = IMAGE_SIZE - seen_rows
st.caption(
    f"Blue box: the theoretical field of the centre unit. After {last.name} a unit sees "
    f"{report.geometry[last.name].size} x {report.geometry[last.name].size} pixels; the dense "
    f"layer combines all of {last.name} and so sees {seen_rows} x {seen_cols}"
    + (
        f": the input's last {unseen} row{'s' if unseen != 1 else ''} and column"
        f"{'s' if unseen != 1 else ''} reach no dense unit at all, because a valid convolution "
        "or pooling drops the edge rows it cannot fit."
        if unseen > 0 and seen_rows == seen_cols and top == 0 and left == 0
        else ", the whole input."
        if unseen == 0
        else "."
    )
)

st.header(f"{first} as V1 simple cells")
fits = report.gabor_fits
median_r2 = report.median_gabor_r2
n_good = report.n_well_fitted
st.caption(
    "V1 simple cells respond to an edge or bar at one orientation and position; their receptive "
    "fields are well described by Gabor functions, a sinusoid under a Gaussian (Jones and Palmer "
    "1987), and learning sparse codes of natural images produces such filters (Olshausen and Field "
    f"1996). Here each of {first}'s {k} x {k} kernels is fitted with a Gabor (6 parameters for "
    f"{k * k} weights{', so a good fit is easy' if k * k <= 9 else ''}; the orientation is the "
    "meaningful part)."
)
limit = render.symmetric_limit(report.kernels)
st.image(
    render.png(render.kernel_grid(report.kernels_beside_fits(), 16, 12, limit)),
    caption="Pairs: each kernel, then its Gabor fit (same colour scale: red positive, blue negative)",
    width="stretch",
    alt=f"{len(fits)} pairs of {first} kernel and its Gabor fit, side by side; the median fit "
    f"quality is R² {median_r2:.2f}, and {n_good} fit with R² of at least "
    f"{GOOD_FIT}.",
)
k1, k2 = st.columns([1, 2])
kernel_index = k1.number_input(
    "Kernel", 0, len(fits) - 1, report.best_fitted_kernel, key="gabor_kernel"
)
chosen = fits[kernel_index]
k1.image(
    render.png(render.kernel_grid(report.kernels_beside_fits(kernel_index), 2, 40, limit)),
    caption=f"kernel {kernel_index} and its Gabor fit",
    alt=f"{first} kernel {kernel_index} and its Gabor fit: stripes at {chosen.orientation:.0f}°, "
    f"fit quality R² {chosen.r2:.2f}.",
)
k2.dataframe(
    [
        {"": "fit quality (R²)", "value": f"{chosen.r2:.2f}"},
        {"": "orientation of the stripes", "value": f"{chosen.orientation:.0f}°"},
        {"": "spatial frequency", "value": f"{chosen.frequency:.2f} cycles/px"},
        {"": "envelope width (sigma)", "value": f"{chosen.sigma:.2f} px"},
        {"": "phase", "value": f"{math.degrees(chosen.phase):.0f}° (0 or 180: bar, ±90: edge)"},
    ],
    hide_index=True,
    width="stretch",
)
m1, m2, m3 = st.columns(3)
counts = report.orientation_counts
m1.metric("Median fit quality (R²)", f"{median_r2:.2f}")
m2.metric(f"Kernels fitted with R² ≥ {GOOD_FIT}", f"{n_good} of {len(fits)}")
m3.metric("Orientations covered", f"{report.orientations_covered} of {len(counts)} bins")
chart(
    charts.histogram_chart(
        [f"{b}°" for b in range(0, 180, 30)], counts, "preferred orientation of well-fitted kernels"
    ),
    "How many well-fitted kernels prefer each orientation",
    width="stretch",
)
st.caption(
    "In V1 all orientations are represented, with somewhat more cells for horizontal and vertical "
    f"(the oblique effect; Li, Peterson and Freeman 2003). With {len(fits)} kernels this "
    "histogram is only a rough count."
)

st.header("In-silico electrophysiology")
st.caption(
    "Hubel and Wiesel (1959, 1962) recorded single cells in cat V1 while moving bars of light "
    "across a screen, and found cells that fire for one orientation only. We do the same to the "
    "network: show it gratings (stripes, averaged over 8 phases as if drifting, at the best of 4 "
    "spatial frequencies) and bars at 12 orientations, and record each channel's mean response."
)
s1, s2, s3 = st.columns([1, 1, 2])
tuned_layers = report.tuned_layers
layer = s1.segmented_control("Layer", tuned_layers, default=first, key="ephys_layer") or first
stimulus = (
    s2.segmented_control("Stimulus", ["grating", "bar"], default="grating", key="ephys_stimulus")
    or "grating"
)
tuned = report.tunings[(layer, stimulus)]
osi, preferred = tuned.selectivity, tuned.preferred
unit = s3.slider(
    "Unit (channel)",
    0,
    tuned.responses.shape[1] - 1,
    tuned.most_selective_unit,
    key=f"ephys_unit_{layer}",
)
examples = [grating(o, 0.12) if stimulus == "grating" else bar(o) for o in tuned.orientations[::2]]
st.image(
    render.png(render.tile([render.grey_image(e) for e in examples], len(examples), 2)),
    caption="Some of the stimuli",
    alt=f"Some of the {stimulus} stimuli: {stimulus}s at "
    f"{describe.listing([f'{o:.0f}°' for o in tuned.orientations[::2]])}.",
)
t1, t2 = st.columns([3, 2])
with t1:
    chart(
        charts.tuning_chart(tuned.orientations, tuned.responses[:, unit]),
        f"{layer} unit {unit}'s mean response to {stimulus}s at each orientation",
        width="stretch",
    )
with t2:
    chart(
        charts.polar_chart(tuned.orientations, tuned.responses[:, unit]),
        f"{layer} unit {unit}'s tuning curve, around the circle",
    )
st.caption(
    f"{layer} unit {unit}: preferred orientation {preferred[unit]:.0f}° (0 horizontal, 90 "
    f"vertical), orientation selectivity index {osi[unit]:.2f} (0: no preference, 1: one "
    "orientation only; Ringach et al. 2002)."
)
bin_labels, hist = tuned.selectivity_histogram()
chart(
    charts.histogram_chart(
        bin_labels, hist, f"orientation selectivity of {layer}'s {len(osi)} units"
    ),
    f"How many of {layer}'s units have each orientation selectivity",
    width="stretch",
)
median = report.median_selectivity(stimulus)
st.caption(
    f"Median selectivity to {stimulus}s: "
    + ", ".join(f"{lay} {m:.2f}" for lay, m in median.items())
    + f". {first}'s {k} x {k} kernels can only be broadly tuned"
    + (
        f"; {tuned_layers[1]} combines them into sharper detectors, much as V1 cells are more "
        "sharply tuned than their inputs from the LGN, which hardly prefer any orientation."
        if len(tuned_layers) > 1
        else "."
    )
)

st.header("Centre-surround, as in the retina and LGN")
dogs = report.dog_fits
st.caption(
    "Retinal ganglion and LGN cells have round centre-surround fields: a bright spot in the centre "
    "excites (or inhibits) and a ring around it does the opposite, a difference of Gaussians "
    f"(Rodieck 1965; Enroth-Cugell and Robson 1966). Fitting one to each {first} kernel asks whether "
    "this network learned such filters too."
)
d1, d2 = st.columns(2)
d1.metric("Median R², difference of Gaussians", f"{report.median_dog_r2:.2f}")
d2.metric("Median R², Gabor", f"{median_r2:.2f}")
better = report.centre_surround_wins
verdict = (
    f"So {first} learned mostly oriented edge detectors, not centre-surround ones. One likely "
    "reason: Lindsey et al. (2019) found that centre-surround filters appear in a network's first "
    "layers when the next layer is narrowed into a bottleneck, like the optic nerve; this network "
    "has no such bottleneck."
    if better < len(dogs) / 2
    else f"So many of {first}'s kernels are centre-surround, as Lindsey et al. (2019) found in "
    "networks whose next layer is narrow, a bottleneck like the optic nerve."
)
st.write(
    f"A centre-surround profile fits better than a Gabor for {better} of {len(dogs)} kernels. "
    + verdict
)

st.header("Adversarial examples and illusions")
st.write(
    "The network can be fooled by changes a person would not notice, which looks like a visual "
    "illusion. The analogy holds only in part; the adversarial lab explains where, with sources."
)
st.page_link("pages/adversarial.py", label="Open the adversarial lab", icon=":material/bolt:")

render_sidebar()
