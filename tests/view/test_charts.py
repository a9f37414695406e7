"""The chart specs carry the right data (what the browser draws is Vega-Lite's job)."""

import json

import numpy as np
import pytest

from mnist_viz.view import charts


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
    from mnist_viz.core.training import TrainingProgress
    from mnist_viz.view.charts import live_training_chart

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

    from mnist_viz.view.charts import similarity_chart

    m = np.array([[1.0, 0.2, 0.1], [0.3, 0.9, 0.4]])
    spec = similarity_chart(m, ["conv1", "dense"], ["dense", "logits", "x"], "A", "B")
    cells = {(v["A"], v["B"]): v["similarity"] for v in spec["data"]["values"]}
    assert len(cells) == 6 and cells[("dense", "logits")] == 0.9 and cells[("conv1", "x")] == 0.1
    assert spec["encoding"]["y"]["sort"] == ["conv1", "dense"]


def test_shift_accuracy_chart_keeps_every_point():
    from mnist_viz.view.charts import shift_accuracy_chart

    rows = [{"model": "mlp", "shift": s, "accuracy": 1 - abs(s) / 10} for s in (-2, 0, 2)]
    assert shift_accuracy_chart(rows)["data"]["values"] == rows


def test_values_chart_colours_the_positive_values():
    import numpy as np

    from mnist_viz.view.charts import values_chart

    rows = values_chart(np.array([1.5, -2.0, 0.0]), ["a", "b", "c"], "logit")["data"]["values"]
    assert [(r["name"], r["value"], r["positive"]) for r in rows] == [
        ("a", 1.5, True),
        ("b", -2.0, False),
        ("c", 0.0, False),
    ]


def test_class_counts_and_paired_probabilities_keep_every_class():
    import numpy as np

    from mnist_viz.view.charts import class_count_chart, compare_probabilities_chart

    counts = np.arange(10) * 3
    rows = class_count_chart(counts)["data"]["values"]
    assert [r["images"] for r in rows] == list(counts) and rows[4]["digit"] == "4"
    clean, adv = np.eye(10)[3], np.eye(10)[5]
    rows = compare_probabilities_chart(clean, adv)["data"]["values"]
    assert len(rows) == 20
    top = {r["image"]: r["digit"] for r in rows if r["probability"] == 1.0}
    assert top == {"original": "3", "adversarial": "5"}


def test_epsilon_ruler_marks_only_the_attacks_that_flip():
    from mnist_viz.view.charts import epsilon_ruler

    spec = epsilon_ruler(0.12, {"FGSM": 0.2, "PGD": None})
    dot, ticks, _ = spec["layer"]
    assert dot["data"]["values"] == [{"epsilon": 0.12}]
    assert ticks["data"]["values"] == [{"epsilon": 0.2, "label": "FGSM flips at 0.200"}]


def test_probe_chart_flags_the_steps_where_the_answer_changed():
    import numpy as np

    from mnist_viz.view.charts import probe_chart

    predicted = np.array([2, 7, 7, 7, 1])
    original = np.array([0.2, 0.6, 0.99, 0.7, 0.1])  # the answer at the neutral step is 7
    spec = probe_chart([-2, -1, 0, 1, 2], predicted, np.full(5, 0.9), original, "pixels")
    rows = spec["data"]["values"]
    assert [r["changed"] for r in rows] == [True, False, False, False, True]
    assert spec["layer"][0]["encoding"]["y"]["title"] == "probability of 7"


def test_polar_chart_puts_each_response_at_its_angle_and_the_opposite_one():
    import numpy as np

    from mnist_viz.view.charts import polar_chart, tuning_chart

    orientations, responses = np.array([0.0, 90.0]), np.array([2.0, 1.0])
    rows = polar_chart(orientations, responses)["data"]["values"]
    points = [(round(r["x"], 6), round(r["y"], 6)) for r in rows]
    # 0 deg at (2, 0), 90 at (0, 1), then the same orientations 180 deg on, then closed
    assert points == [(2.0, 0.0), (0.0, 1.0), (-2.0, 0.0), (0.0, -1.0), (2.0, 0.0)]
    tuning = tuning_chart(orientations, responses)["data"]["values"]
    assert tuning == [{"orientation": 0.0, "response": 2.0}, {"orientation": 90.0, "response": 1.0}]


def test_robustness_and_histogram_charts_keep_their_rows():
    from mnist_viz.view.charts import histogram_chart, robustness_chart

    rows = [{"model": "m", "attack": "FGSM", "epsilon": 0.1, "accuracy": 0.5}]
    assert robustness_chart(rows)["data"]["values"] == rows
    spec = histogram_chart(["0-1", "1-2"], [3, 4], "selectivity")
    assert spec["data"]["values"] == [{"bin": "0-1", "count": 3}, {"bin": "1-2", "count": 4}]
    assert spec["encoding"]["x"]["title"] == "selectivity"


def test_unit_picker_has_every_unit_where_the_map_has_it_and_a_click_selects_one():
    feature_map = np.arange(12, dtype=np.float32).reshape(3, 4)
    spec = charts.unit_picker_chart(feature_map, (2, 1))
    values = chart_values(spec)
    assert len(values) == 12
    for v in values:
        assert v["value"] == feature_map[v["row"], v["column"]]
    # a click selects the row and column of one cell
    (param,) = spec["params"]
    assert param["name"] == charts.UNIT_SELECTION
    assert param["select"] == {"type": "point", "fields": ["row", "column"]}
    # exactly the chosen unit is outlined
    test = spec["encoding"]["stroke"]["condition"]["test"]
    outlined = [v for v in values if eval(test.replace("&&", "and"), {}, {"datum": Datum(v)})]
    assert [(v["row"], v["column"]) for v in outlined] == [(2, 1)]


class Datum:
    def __init__(self, values: dict):
        self.__dict__.update(values)


def test_a_click_event_names_its_unit_and_no_click_names_none():
    event = {"selection": {charts.UNIT_SELECTION: [{"row": 4, "column": 7}]}}
    assert charts.clicked_unit(event) == (4, 7)
    assert charts.clicked_unit({"selection": {charts.UNIT_SELECTION: []}}) is None
    assert charts.clicked_unit({"selection": {}}) is None
    assert charts.clicked_unit(None) is None


def test_source_count_chart_puts_each_source_beside_the_other():
    spec = charts.source_count_chart({"MNIST": np.arange(10) + 1, "pen": np.full(10, 7)})
    values = chart_values(spec)
    assert len(values) == 20
    assert {(v["digit"], v["source"], v["images"]) for v in values} >= {
        ("0", "MNIST", 1),
        ("9", "MNIST", 10),
        ("4", "pen", 7),
    }
    assert spec["encoding"]["xOffset"]["sort"] == ["MNIST", "pen"]


def test_inline_keeps_the_chart_and_its_rows_in_one_layer():
    spec = charts.probability_chart(np.full(10, 0.1))
    inlined = charts.inline(spec)
    assert "data" not in inlined  # Streamlit would convert top-level rows through pandas
    assert inlined["layer"] == [
        {"data": spec["data"], "mark": spec["mark"], "encoding": spec["encoding"]}
    ]
    assert inlined["height"] == spec["height"]
