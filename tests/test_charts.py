"""The chart specs carry the right data (what the browser draws is Vega-Lite's job)."""

import json

import numpy as np
import pytest

from mnist_viz import charts


def chart_values(spec) -> list[dict]:
    json.dumps(spec)  # plain JSON: what Streamlit sends to the browser as is
    return spec["data"]["values"]


def test_probability_chart_highlights_only_the_predicted_class():
    p = np.full(10, 0.02)
    p[3] = 0.82
    values = chart_values(charts.probability_chart(p))
    assert [v["digit"] for v in values] == [str(d) for d in range(10)]
    assert [v["predicted"] for v in values] == [d == 3 for d in range(10)]
    assert sum(v["probability"] for v in values) == pytest.approx(1.0)


def test_history_chart_has_training_and_test_series():
    history = {"accuracy": [0.9, 0.95], "test_accuracy": [0.97, 0.98]}
    values = chart_values(charts.history_chart(history, "accuracy"))
    assert {(v["epoch"], v["set"]) for v in values} == {
        (1, "training"),
        (2, "training"),
        (1, "test (held out)"),
        (2, "test (held out)"),
    }


def test_unit_chart_marks_the_top_units():
    values = chart_values(charts.unit_chart(np.array([7, 2, 0]), np.array([3.0, 1.0, 0.0]), 2))
    assert [v["unit"] for v in values] == [7, 2, 0] and [v["top"] for v in values] == [
        True,
        True,
        False,
    ]


def test_live_training_chart_places_each_report_at_its_fraction_of_the_epochs():
    from mnist_viz.charts import live_training_chart
    from mnist_viz.training import TrainingProgress

    reports = [
        TrainingProgress(1, 2, 10, 100, float("nan"), float("nan")),  # not read yet: left out
        TrainingProgress(1, 2, 50, 100, 0.9, 0.7),
        TrainingProgress(2, 2, 100, 100, 0.4, 0.95),
    ]
    rows = live_training_chart(reports)["data"]["values"]
    assert [(r["epoch"], r["measure"], r["value"]) for r in rows] == [
        (0.5, "loss", 0.9),
        (0.5, "accuracy", 0.7),
        (2.0, "loss", 0.4),
        (2.0, "accuracy", 0.95),
    ]


def test_similarity_chart_has_one_cell_per_pair_of_layers():
    import numpy as np

    from mnist_viz.charts import similarity_chart

    m = np.array([[1.0, 0.2, 0.1], [0.3, 0.9, 0.4]])
    spec = similarity_chart(m, ["conv1", "dense"], ["dense", "logits", "x"], "A", "B")
    cells = {(v["A"], v["B"]): v["similarity"] for v in spec["data"]["values"]}
    assert len(cells) == 6 and cells[("dense", "logits")] == 0.9 and cells[("conv1", "x")] == 0.1
    assert spec["encoding"]["y"]["sort"] == ["conv1", "dense"]


def test_shift_accuracy_chart_keeps_every_point():
    from mnist_viz.charts import shift_accuracy_chart

    rows = [{"model": "mlp", "shift": s, "accuracy": 1 - abs(s) / 10} for s in (-2, 0, 2)]
    assert shift_accuracy_chart(rows)["data"]["values"] == rows
