"""The training page's data section: what the network learned from, MNIST and the real pen-drawn
digits side by side (samples, counts, mean images, and how they differ)."""

from __future__ import annotations

import streamlit as st

from mnist_viz.core.cache import ModelInfo
from mnist_viz.core.data import DATA_ENV_VAR, MnistData
from mnist_viz.core.data_mix import DEFAULT_PEN_COPIES, MIX_MNIST
from mnist_viz.core.pendigits import CITATION
from mnist_viz.inside import dataset_stats
from mnist_viz.view import charts, render
from ui.chart import chart
from ui.models import (
    PEN_SAMPLES_PER_CLASS,
    get_mean_images,
    get_pen_digits,
    get_pen_samples,
    get_source_comparison,
)

SHOWN_PER_CLASS = 10


def _mnist_warnings(info: ModelInfo, data: MnistData) -> None:
    if data.is_sample:
        st.warning(
            "This is the small offline sample, because MNIST could not be downloaded. Set "
            f"`{DATA_ENV_VAR}` to a folder with the four official IDX files for all 70,000 digits."
        )
    if info.data_source != data.source:
        st.warning(
            f"The model was trained on {info.data_description}; the data below is "
            f"{data.describe()}."
        )


def data_section(info: ModelInfo, data: MnistData) -> None:
    """Both sources: where they come from, samples of each class, counts, mean images, and the
    differences a learner can see (pen minus MNIST, slant and ink per digit)."""
    st.header("The data")
    pen = get_pen_digits()
    mix = info.config.get("data_mix", MIX_MNIST)
    if mix == MIX_MNIST:
        st.write(
            f"This network learned from MNIST alone: {data.describe()}. The default network also "
            "learns from real pen-drawn digits, shown beside MNIST below."
        )
    else:
        st.write("This network learned from two sources:")
        for source in info.sources:
            st.markdown(
                f"- **{source['name']}** ({source['images']:,} images): {source['description']}."
            )
    _mnist_warnings(info, data)
    if pen is None:
        return
    pen_images, pen_labels = get_pen_samples(pen.location, pen)
    m_col, p_col = st.columns(2, gap="large")
    with m_col:
        st.subheader("MNIST")
        st.caption(
            "Scanned forms by American census staff and high-school students, about 1990 "
            "(LeCun, Cortes and Burges). One row per digit, 0 to 9, from the training set."
        )
        st.image(
            render.png(render.class_rows(data.x_train, data.y_train, SHOWN_PER_CLASS)),
            width="stretch",
            alt=f"{SHOWN_PER_CLASS} MNIST training digits of each kind, one row per digit, 0 to 9.",
        )
    with p_col:
        st.subheader("Real pen-drawn digits")
        st.caption(
            f"{pen.describe()}: pen positions recorded every 100 ms on a tablet in 1996, drawn "
            f"here as the canvas draws strokes and prepared as your drawings are. {CITATION}."
        )
        st.image(
            render.png(render.class_rows(pen_images, pen_labels, SHOWN_PER_CLASS)),
            width="stretch",
            alt=f"{SHOWN_PER_CLASS} pen-drawn digits of each kind, one row per digit, 0 to 9.",
        )
    st.subheader("How many of each")
    copies = int(info.config.get("pen_copies", DEFAULT_PEN_COPIES))
    chart(
        charts.source_count_chart(
            {
                "MNIST": dataset_stats.class_counts(data.y_train),
                f"pen-drawn x{copies}": dataset_stats.class_counts(pen.labels, copies),
            }
        ),
        "Training images per digit, from each source",
        width="stretch",
    )
    st.caption(
        f"Training images per digit. Each pen-drawn digit enters training {copies} times, drawn "
        "each time with another size, pen width and smoothness."
    )
    st.subheader("The average digit, and how the two differ")
    mnist_means = get_mean_images(data.location, data)
    pen_means = dataset_stats.mean_images(pen_images, pen_labels)
    st.image(
        render.png(render.grey_row(mnist_means)),
        caption="MNIST",
        width="stretch",
        alt="The average MNIST digit of each kind, 0 to 9, as blurred grey shapes.",
    )
    st.image(
        render.png(render.grey_row(pen_means)),
        caption=f"Pen-drawn ({PEN_SAMPLES_PER_CLASS} of each digit)",
        width="stretch",
        alt="The average pen-drawn digit of each kind, 0 to 9, as blurred grey shapes.",
    )
    st.image(
        render.png(render.difference_row(mnist_means, pen_means)),
        caption="Pen-drawn minus MNIST: red where pen digits have more ink, blue where less",
        width="stretch",
        alt="For each digit 0 to 9, where pen-drawn digits have more ink than MNIST's (red) and "
        "less (blue).",
    )
    rows = get_source_comparison(data, pen)
    st.dataframe(
        [
            {
                "digit": r["digit"],
                "slant, MNIST": r["first_slant"],
                "slant, pen": r["second_slant"],
                "ink, MNIST": r["first_ink"],
                "ink, pen": r["second_ink"],
            }
            for r in rows
        ],
        hide_index=True,
        column_config={
            "slant, MNIST": st.column_config.NumberColumn(format="%.1f°"),
            "slant, pen": st.column_config.NumberColumn(format="%.1f°"),
            "ink, MNIST": st.column_config.NumberColumn(format="percent"),
            "ink, pen": st.column_config.NumberColumn(format="percent"),
        },
    )
    st.write(dataset_stats.difference_summary(rows, "MNIST", "pen-drawn"))
    st.caption(
        "Slant: how far each digit leans right (positive) or left, from its pixel moments. "
        "Ink: the share of the 28 x 28 frame its strokes cover. Both are averages per digit. "
        "Each class's average image is a blurry template; a network that only matched these "
        "templates would reach about 82% on MNIST; the CNN learns much more."
    )
