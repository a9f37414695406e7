"""Charts' text alternatives are read from the charts' own specs: every number drawn is spoken."""

import numpy as np

from mnist_viz.view import chart_text, charts


def test_the_probability_chart_speaks_all_ten_probabilities_as_its_tooltip_writes_them():
    p = np.array([0.001, 0.002, 0.9, 0.05, 0.01, 0.01, 0.007, 0.01, 0.005, 0.005])
    spec = charts.inline(charts.probability_chart(p))  # the Draw page's layered form
    text = chart_text.spoken(spec, "The probability of each digit")
    assert text.startswith("The probability of each digit: digit 0, probability 0.10%;")
    for d, value in enumerate(p):
        assert f"digit {d}, probability {100 * value:.2f}%" in text
    assert chart_text.table_html(spec, "x") == ""  # spoken in full: no table needed


def test_a_large_chart_gets_a_table_of_every_value_up_to_the_limit():
    values = np.arange(26 * 26, dtype=np.float64).reshape(26, 26) / 1000
    spec = charts.unit_picker_chart(values, (3, 4))
    assert (
        chart_text.spoken(spec, "map 3") == "map 3: 676 values; a table of them follows the chart."
    )
    table = chart_text.table_html(spec, "map 3")
    assert table.count("<tr>") == 1 + chart_text.TABLE_ROWS
    assert "(the first 400 of 676)" in table and 'class="mv-sr"' in table
    # the cell at row 1, column 0 holds values[1, 0]
    assert "<tr><td>0</td><td>1</td><td>0.026</td></tr>" in table


def test_history_speaks_both_sets_every_epoch():
    spec = charts.history_chart({"loss": [0.5, 0.25], "test_loss": [0.4, 0.3]}, "loss")
    text = chart_text.spoken(spec, "Loss by epoch")
    for epoch, value, kind in [(1, 0.5, "training"), (2, 0.3, "test (held out)")]:
        assert f"epoch {epoch}, loss {value:.4f}, set {kind}" in text


def test_a_small_chart_gets_its_table_when_asked():
    spec = charts.probability_chart(np.full(10, 0.1))
    table = chart_text.table_html(spec, "p", always=True)
    assert table.count("<tr>") == 11 and "<td>10.00%</td>" in table
