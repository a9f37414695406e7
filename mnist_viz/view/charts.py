"""Interactive charts as Vega-Lite specs (plain dicts) for ``st.vega_lite_chart``, which themes
them for light and dark mode. Plain dicts, not Altair objects: Altair validates every spec
against the JSON schema, which cost ~80 ms per page run here; a dict costs nothing."""

from __future__ import annotations

import numpy as np

from mnist_viz.core.data import NUM_CLASSES

HIGHLIGHT = "#e4572e"  # the predicted class stands out in both themes
BASE = "#4c78a8"
GREY = "#9d9d9d"
Spec = dict


def _bars(values: list[dict], x: dict, y: dict, colour: dict, tooltip: list, height: int) -> Spec:
    return {
        "data": {"values": values},
        "mark": {"type": "bar", "tooltip": True},
        "height": height,
        "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip},
    }


def inline(spec: Spec) -> Spec:
    """The same chart with its rows inside a one-layer spec, where Streamlit passes them to the
    browser as they are. (Rows in the top-level ``data`` are converted through pandas to Arrow
    first: for the ten bars of an answer, about a quarter of the answer's server CPU.)"""
    spec = dict(spec)
    layer = {key: spec.pop(key) for key in ("data", "mark", "encoding") if key in spec}
    return {**spec, "layer": [layer]}


def _flag_colour(field: str, on: str, off: str) -> dict:
    return {"condition": {"test": f"datum['{field}']", "value": on}, "value": off}


def _digit_axis() -> dict:
    return {"field": "digit", "type": "nominal", "title": "digit", "axis": {"labelAngle": 0}}


def probability_chart(probabilities: np.ndarray, height: int = 220) -> Spec:
    """The 10 class probabilities as bars, the most probable one highlighted, exact values on hover."""
    p = np.asarray(probabilities, np.float64).reshape(NUM_CLASSES)
    values = [
        {"digit": str(d), "probability": float(p[d]), "predicted": bool(p[d] == p.max())}
        for d in range(NUM_CLASSES)
    ]
    y = {
        "field": "probability",
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "axis": {"format": "%"},
    }
    tooltip = [{"field": "digit"}, {"field": "probability", "format": ".2%"}]
    return _bars(
        values, _digit_axis(), y, _flag_colour("predicted", HIGHLIGHT, BASE), tooltip, height
    )


def values_chart(values: np.ndarray, labels: list[str], title: str, height: int = 200) -> Spec:
    """Bars for a short vector (e.g. the 10 logits), signed values allowed, exact values on hover."""
    rows = [
        {"name": n, "value": float(v), "positive": bool(v > 0)}
        for n, v in zip(labels, np.asarray(values, np.float64).ravel(), strict=True)
    ]
    x = {"field": "name", "type": "nominal", "title": None, "sort": None, "axis": {"labelAngle": 0}}
    y = {"field": "value", "type": "quantitative", "title": title}
    tooltip = [{"field": "name"}, {"field": "value", "format": ".3f"}]
    return _bars(rows, x, y, _flag_colour("positive", BASE, GREY), tooltip, height)


def unit_chart(order: np.ndarray, values: np.ndarray, highlight: int, height: int = 200) -> Spec:
    """Dense units sorted by activation; the ``highlight`` most active ones coloured."""
    rows = [
        {"rank": i + 1, "unit": int(u), "activation": float(v), "top": i < highlight}
        for i, (u, v) in enumerate(zip(order, np.asarray(values, np.float64), strict=True))
    ]
    x = {
        "field": "rank",
        "type": "ordinal",
        "title": "units, most active first",
        "axis": {"labels": False, "ticks": False},
    }
    y = {"field": "activation", "type": "quantitative", "title": "activation (after ReLU)"}
    tooltip = [{"field": "unit"}, {"field": "rank"}, {"field": "activation", "format": ".3f"}]
    return _bars(rows, x, y, _flag_colour("top", HIGHLIGHT, BASE), tooltip, height)


def history_chart(history: dict[str, list[float]], metric: str, height: int = 240) -> Spec:
    """``metric`` ("loss" or "accuracy") per epoch: training vs the held-out test set."""
    series = (
        ("training", history.get(metric, [])),
        ("test (held out)", history.get(f"test_{metric}", [])),
    )
    rows = [
        {"epoch": i + 1, "set": name, metric: float(v)}
        for name, values in series
        for i, v in enumerate(values)
    ]
    axis = {"format": "%"} if metric == "accuracy" else {}
    return {
        "data": {"values": rows},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "height": height,
        "encoding": {
            "x": {"field": "epoch", "type": "ordinal", "axis": {"labelAngle": 0}},
            "y": {
                "field": metric,
                "type": "quantitative",
                "scale": {"zero": False},
                "axis": axis,
            },
            "color": {
                "field": "set",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "bottom"},
                "scale": {"domain": [name for name, _ in series], "range": [BASE, HIGHLIGHT]},
            },
            "tooltip": [{"field": "epoch"}, {"field": "set"}, {"field": metric, "format": ".4f"}],
        },
    }


def live_training_chart(progress: list, height: int = 200) -> Spec:
    """Loss and accuracy while a network trains, against epochs (fractional), from its progress
    reports (``TrainingProgress``): Keras' running averages over the epoch so far, so each
    epoch's curve starts afresh."""
    rows = []
    for p in progress:
        if p.loss != p.loss:  # NaN: not read yet
            continue
        at = (p.epoch - 1) + p.batch / p.batches
        rows.append({"epoch": round(at, 4), "measure": "loss", "value": float(p.loss)})
        rows.append({"epoch": round(at, 4), "measure": "accuracy", "value": float(p.accuracy)})
    return {
        "data": {"values": rows},
        "mark": {"type": "line", "tooltip": True},
        "height": height,
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "epochs trained"},
            "y": {"field": "value", "type": "quantitative", "title": None},
            "color": {
                "field": "measure",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "bottom"},
                "scale": {"domain": ["loss", "accuracy"], "range": [HIGHLIGHT, BASE]},
            },
            "tooltip": [
                {"field": "epoch", "format": ".2f"},
                {"field": "measure"},
                {"field": "value", "format": ".4f"},
            ],
        },
    }


def class_count_chart(counts: np.ndarray, height: int = 200) -> Spec:
    """How many images each class 0-9 has."""
    rows = [{"digit": str(d), "images": int(c)} for d, c in enumerate(counts)]
    y = {"field": "images", "type": "quantitative", "title": "images"}
    tooltip = [{"field": "digit"}, {"field": "images", "format": ","}]
    return _bars(rows, _digit_axis(), y, {"value": BASE}, tooltip, height)


def source_count_chart(counts: dict[str, np.ndarray], height: int = 200) -> Spec:
    """How many training images of each class 0-9 each source gives, side by side."""
    names = list(counts)
    rows = [
        {"digit": str(d), "source": name, "images": int(c[d])}
        for name, c in counts.items()
        for d in range(NUM_CLASSES)
    ]
    return {
        "data": {"values": rows},
        "mark": {"type": "bar", "tooltip": True},
        "height": height,
        "encoding": {
            "x": _digit_axis(),
            "xOffset": {"field": "source", "sort": names},
            "y": {"field": "images", "type": "quantitative", "title": "images"},
            "color": {
                "field": "source",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "bottom"},
                "scale": {"domain": names, "range": [BASE, HIGHLIGHT, GREY][: len(names)]},
            },
            "tooltip": [
                {"field": "digit"},
                {"field": "source"},
                {"field": "images", "format": ","},
            ],
        },
    }


def compare_probabilities_chart(
    clean: np.ndarray, adversarial: np.ndarray, height: int = 220
) -> Spec:
    """The 10 probabilities before and after an attack, side by side for each digit."""
    rows = [
        {"digit": str(d), "image": name, "probability": float(p[d])}
        for name, p in (("original", np.ravel(clean)), ("adversarial", np.ravel(adversarial)))
        for d in range(NUM_CLASSES)
    ]
    return {
        "data": {"values": rows},
        "mark": {"type": "bar", "tooltip": True},
        "height": height,
        "encoding": {
            "x": _digit_axis(),
            "xOffset": {"field": "image", "sort": ["original", "adversarial"]},
            "y": {
                "field": "probability",
                "type": "quantitative",
                "scale": {"domain": [0, 1]},
                "axis": {"format": "%"},
            },
            "color": {
                "field": "image",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "bottom"},
                "scale": {"domain": ["original", "adversarial"], "range": [BASE, HIGHLIGHT]},
            },
            "tooltip": [
                {"field": "digit"},
                {"field": "image"},
                {"field": "probability", "format": ".2%"},
            ],
        },
    }


def epsilon_ruler(
    epsilon: float, flips: dict[str, float | None], max_epsilon: float = 0.5, height: int = 56
) -> Spec:
    """The slider's range 0 to ``max_epsilon`` with the current epsilon (a dot) and, for each
    attack, the smallest epsilon that flips the prediction (a labelled tick)."""
    marks = [
        {"epsilon": float(v), "label": f"{name} flips at {v:.3f}"}
        for name, v in flips.items()
        if v is not None
    ]
    x = {
        "field": "epsilon",
        "type": "quantitative",
        "scale": {"domain": [0, max_epsilon]},
        "axis": {"title": None, "tickCount": 10, "grid": False},
    }
    return {
        "height": height,
        "layer": [
            {
                "data": {"values": [{"epsilon": float(epsilon)}]},
                "mark": {
                    "type": "point",
                    "filled": True,
                    "size": 120,
                    "color": BASE,
                    "tooltip": True,
                },
                "encoding": {"x": x},
            },
            {
                "data": {"values": marks},
                "mark": {"type": "tick", "thickness": 3, "color": HIGHLIGHT, "tooltip": True},
                "encoding": {"x": x, "tooltip": [{"field": "label"}]},
            },
            {
                "data": {"values": marks},
                "mark": {"type": "text", "dy": -16, "color": HIGHLIGHT, "fontSize": 11},
                "encoding": {"x": x, "text": {"field": "label"}},
            },
        ],
    }


def _accuracy_lines(
    rows: list[dict], x: dict, y_title: str, tooltip: list, height: int, **encoding
) -> Spec:
    """Accuracy (0-100%) against ``x``, one coloured line per model."""
    return {
        "data": {"values": rows},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "height": height,
        "encoding": {
            "x": x,
            "y": {
                "field": "accuracy",
                "type": "quantitative",
                "scale": {"domain": [0, 1]},
                "axis": {"format": "%"},
                "title": y_title,
            },
            "color": {"field": "model", "type": "nominal", "legend": {"orient": "bottom"}},
            **encoding,
            "tooltip": tooltip,
        },
    }


def robustness_chart(rows: list[dict], height: int = 300) -> Spec:
    """Accuracy against epsilon: one line per (model, attack); rows hold model, attack, epsilon,
    accuracy."""
    return _accuracy_lines(
        rows,
        {"field": "epsilon", "type": "quantitative", "title": "epsilon (L-infinity)"},
        "test accuracy under attack",
        [
            {"field": "model"},
            {"field": "attack"},
            {"field": "epsilon", "format": ".2f"},
            {"field": "accuracy", "format": ".2%"},
        ],
        height,
        strokeDash={"field": "attack", "type": "nominal", "legend": {"orient": "bottom"}},
    )


def probe_chart(
    values, predicted, confidence, original_probability, unit: str, height: int = 200
) -> Spec:
    """One invariance probe: the probability of the original answer along the axis (line), and
    the class predicted at each step (labels; red where it is no longer the original)."""
    original = int(predicted[int(np.argmax(original_probability))])
    rows = [
        {
            "value": float(v),
            "original": float(po),
            "predicted": str(int(c)),
            "confidence": float(p),
            "changed": bool(int(c) != original),
        }
        for v, c, p, po in zip(values, predicted, confidence, original_probability, strict=True)
    ]
    x = {"field": "value", "type": "quantitative", "title": unit}
    return {
        "data": {"values": rows},
        "height": height,
        "layer": [
            {
                "mark": {"type": "line", "point": True, "tooltip": True, "color": BASE},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "original",
                        "type": "quantitative",
                        "scale": {"domain": [0, 1.15]},
                        "axis": {"format": "%"},
                        "title": f"probability of {original}",
                    },
                    "tooltip": [
                        {"field": "value"},
                        {"field": "predicted", "title": "predicted"},
                        {"field": "confidence", "format": ".1%"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "y": 8, "fontSize": 12, "fontWeight": "bold"},
                "encoding": {
                    "x": x,
                    "text": {"field": "predicted"},
                    "color": _flag_colour("changed", HIGHLIGHT, GREY),
                },
            },
        ],
    }


def tuning_chart(orientations, responses: np.ndarray, height: int = 220) -> Spec:
    """A tuning curve: response against stimulus orientation (degrees)."""
    rows = [
        {"orientation": float(o), "response": float(r)}
        for o, r in zip(orientations, responses, strict=True)
    ]
    return {
        "data": {"values": rows},
        "mark": {"type": "line", "point": True, "tooltip": True, "color": BASE},
        "height": height,
        "encoding": {
            "x": {
                "field": "orientation",
                "type": "quantitative",
                "title": "orientation (degrees)",
                "scale": {"domain": [0, 180]},
            },
            "y": {"field": "response", "type": "quantitative", "title": "mean response"},
            "tooltip": [{"field": "orientation"}, {"field": "response", "format": ".3f"}],
        },
    }


def polar_chart(orientations, responses: np.ndarray, height: int = 240) -> Spec:
    """The tuning curve as a polar plot: distance from the centre = response, angle = orientation,
    drawn over the full circle (an orientation and the one 180 degrees away are the same)."""
    angles = np.deg2rad(
        np.concatenate([orientations, np.asarray(orientations) + 180, orientations[:1]])
    )
    r = np.concatenate([responses, responses, responses[:1]])
    rows = [
        {"order": i, "x": float(v * np.cos(a)), "y": float(v * np.sin(a))}
        for i, (a, v) in enumerate(zip(angles, r, strict=True))
    ]
    limit = float(max(np.max(r), 1e-9)) * 1.05
    axis = {"domain": [-limit, limit]}
    return {
        "data": {"values": rows},
        "mark": {"type": "line", "point": True, "color": HIGHLIGHT},
        "width": height,
        "height": height,
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "scale": axis, "title": None},
            "y": {"field": "y", "type": "quantitative", "scale": axis, "title": None},
            "order": {"field": "order"},
        },
    }


def histogram_chart(
    labels: list[str], counts, x_title: str, y_title: str = "units", height: int = 200
) -> Spec:
    """Bars for precomputed counts."""
    rows = [{"bin": b, "count": int(c)} for b, c in zip(labels, counts, strict=True)]
    return {
        "data": {"values": rows},
        "mark": {"type": "bar", "tooltip": True, "color": BASE},
        "height": height,
        "encoding": {
            "x": {
                "field": "bin",
                "type": "ordinal",
                "sort": None,
                "title": x_title,
                "axis": {"labelAngle": 0},
            },
            "y": {"field": "count", "type": "quantitative", "title": y_title},
        },
    }


def similarity_chart(
    matrix: np.ndarray, rows: list[str], columns: list[str], row_title: str, column_title: str
) -> Spec:
    """A heatmap of layer-by-layer similarities (Spearman correlations of RDMs), labelled."""
    values = [
        {row_title: r, column_title: c, "similarity": round(float(matrix[i, j]), 4)}
        for i, r in enumerate(rows)
        for j, c in enumerate(columns)
    ]
    return {
        "data": {"values": values},
        "height": 32 * len(rows),
        "layer": [
            {
                "mark": {"type": "rect", "tooltip": True},
                "encoding": {
                    "color": {
                        "field": "similarity",
                        "type": "quantitative",
                        "scale": {"scheme": "blues", "domain": [0, 1]},
                        "legend": {"orient": "bottom", "title": "RDM correlation"},
                    }
                },
            },
            {
                "mark": {"type": "text", "fontSize": 11},
                "encoding": {
                    "text": {"field": "similarity", "type": "quantitative", "format": ".2f"},
                    "color": {
                        "condition": {"test": "datum.similarity > 0.6", "value": "white"},
                        "value": "black",
                    },
                },
            },
        ],
        "encoding": {
            "y": {"field": row_title, "type": "nominal", "sort": rows},
            "x": {
                "field": column_title,
                "type": "nominal",
                "sort": columns,
                "axis": {"labelAngle": 0},
            },
        },
    }


def shift_accuracy_chart(rows: list[dict], height: int = 260) -> Spec:
    """Accuracy against a horizontal shift, one line per network; rows hold model, shift,
    accuracy."""
    return _accuracy_lines(
        rows,
        {"field": "shift", "type": "quantitative", "title": "shift (pixels)"},
        "test digits read right",
        [{"field": "model"}, {"field": "shift"}, {"field": "accuracy", "format": ".1%"}],
        height,
    )


UNIT_SELECTION = "unit"  # the selection parameter a click on ``unit_picker_chart`` sets


def unit_picker_chart(
    feature_map: np.ndarray, selected: tuple[int, int], height: int = 260
) -> Spec:
    """One feature map as a clickable heatmap (row 0 at the top, as in the image): a click
    selects one unit (``UNIT_SELECTION``, fields row and column); ``selected`` is outlined."""
    rows, columns = feature_map.shape
    values = [
        {"row": r, "column": c, "value": round(float(feature_map[r, c]), 4)}
        for r in range(rows)
        for c in range(columns)
    ]
    top = max(float(feature_map.max()), 1e-6)
    chosen = f"datum.row == {int(selected[0])} && datum.column == {int(selected[1])}"
    axis = {
        "type": "ordinal",
        "axis": {"values": list(range(0, max(rows, columns), 5)), "grid": False, "labelAngle": 0},
    }
    return {
        "data": {"values": values},
        "height": height,
        "width": height * columns / rows,
        "params": [
            {"name": UNIT_SELECTION, "select": {"type": "point", "fields": ["row", "column"]}}
        ],
        "mark": {"type": "rect", "tooltip": True, "cursor": "pointer"},
        "encoding": {
            "y": {"field": "row", **axis},
            "x": {"field": "column", **axis},
            "color": {
                "field": "value",
                "type": "quantitative",
                "scale": {"scheme": "magma", "domain": [min(0.0, float(feature_map.min())), top]},
                "legend": None,  # the same colours as the feature maps above, with their colour bar
            },
            "stroke": {"condition": {"test": chosen, "value": "#00e5ff"}, "value": None},
            "strokeWidth": {"condition": {"test": chosen, "value": 3}, "value": 0},
        },
    }


def clicked_unit(event: object) -> tuple[int, int] | None:
    """The (row, column) a click on ``unit_picker_chart`` selected, from the chart's selection
    event (``st.vega_lite_chart(..., on_select="rerun")``); None when nothing is selected."""
    try:
        points = event["selection"][UNIT_SELECTION]  # type: ignore[index]
        point = points[0]
        return int(point["row"]), int(point["column"])
    except (KeyError, IndexError, TypeError, ValueError, OverflowError):  # (int(Infinity))
        return None
