"""Interactive Altair charts (Vega-Lite specs): Streamlit renders them and themes them for light
and dark mode. Pure data in, chart out, so they are testable without a browser."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from mnist_viz.data import NUM_CLASSES

HIGHLIGHT = "#e4572e"  # the predicted class stands out in both themes
BASE = "#4c78a8"


def probability_chart(probabilities: np.ndarray, height: int = 220) -> alt.Chart:
    """The 10 class probabilities as bars, the most probable one highlighted, exact values on hover."""
    p = np.asarray(probabilities, np.float64).reshape(NUM_CLASSES)
    frame = pd.DataFrame(
        {
            "digit": [str(d) for d in range(NUM_CLASSES)],
            "probability": p,
            "predicted": p == p.max(),
        }
    )
    return (
        alt.Chart(frame, height=height)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", title="digit", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "probability:Q",
                title="probability",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            color=alt.condition(alt.datum.predicted, alt.value(HIGHLIGHT), alt.value(BASE)),
            tooltip=[
                alt.Tooltip("digit:N"),
                alt.Tooltip("probability:Q", format=".2%"),
            ],
        )
    )


def values_chart(values: np.ndarray, labels: list[str], title: str, height: int = 200) -> alt.Chart:
    """Bars for a short vector (e.g. the 10 logits), signed values allowed, exact values on hover."""
    frame = pd.DataFrame({"name": labels, "value": np.asarray(values, np.float64).ravel()})
    return (
        alt.Chart(frame, height=height)
        .mark_bar()
        .encode(
            x=alt.X("name:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=title),
            color=alt.condition(alt.datum.value > 0, alt.value(BASE), alt.value("#9d9d9d")),
            tooltip=[alt.Tooltip("name:N"), alt.Tooltip("value:Q", format=".3f")],
        )
    )


def unit_chart(
    order: np.ndarray, values: np.ndarray, highlight: int, height: int = 200
) -> alt.Chart:
    """Dense units sorted by activation; the ``highlight`` most active ones coloured."""
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "unit": order.astype(int),
            "activation": np.asarray(values, np.float64),
            "top": np.arange(len(order)) < highlight,
        }
    )
    return (
        alt.Chart(frame, height=height)
        .mark_bar()
        .encode(
            x=alt.X(
                "rank:O", title="units, most active first", axis=alt.Axis(labels=False, ticks=False)
            ),
            y=alt.Y("activation:Q", title="activation (after ReLU)"),
            color=alt.condition(alt.datum.top, alt.value(HIGHLIGHT), alt.value(BASE)),
            tooltip=["unit:Q", "rank:Q", alt.Tooltip("activation:Q", format=".3f")],
        )
    )


def history_chart(history: dict[str, list[float]], metric: str, height: int = 240) -> alt.Chart:
    """``metric`` ("loss" or "accuracy") per epoch: training vs the held-out test set."""
    train, held_out = history.get(metric, []), history.get(f"test_{metric}", [])
    rows = [
        {"epoch": i + 1, "set": name, metric: float(v)}
        for name, series in (("training", train), ("test (held out)", held_out))
        for i, v in enumerate(series)
    ]
    axis = alt.Axis(format="%") if metric == "accuracy" else alt.Axis()
    return (
        alt.Chart(pd.DataFrame(rows), height=height)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:O", title="epoch", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{metric}:Q", title=metric, scale=alt.Scale(zero=False), axis=axis),
            color=alt.Color(
                "set:N",
                title=None,
                legend=alt.Legend(orient="bottom"),
                scale=alt.Scale(domain=["training", "test (held out)"], range=[BASE, HIGHLIGHT]),
            ),
            tooltip=["epoch:O", "set:N", alt.Tooltip(f"{metric}:Q", format=".4f")],
        )
    )


def class_count_chart(counts: np.ndarray, height: int = 200) -> alt.Chart:
    """How many images each class 0-9 has."""
    frame = pd.DataFrame({"digit": [str(d) for d in range(len(counts))], "images": counts})
    return (
        alt.Chart(frame, height=height)
        .mark_bar(color=BASE)
        .encode(
            x=alt.X("digit:N", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("images:Q", title="images"),
            tooltip=["digit:N", alt.Tooltip("images:Q", format=",")],
        )
    )
