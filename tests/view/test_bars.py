"""The answer's probability bars: each row's width and number are the probability's, read back
from the HTML by a parser, and the spoken name lists the same ten numbers."""

import re
from html.parser import HTMLParser

import numpy as np

from mnist_viz.view.bars import probability_bars_html


class _Rows(HTMLParser):
    """Each row's (classes, digit, fill width in %, value text), and the figure's aria-label."""

    def __init__(self):
        super().__init__()
        self.rows, self.label, self._row, self._field = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "figure":
            self.label = a.get("aria-label")
        if "mv-bar" in classes:
            self._row = {"classes": classes}
            self.rows.append(self._row)
        elif "mv-bar-fill" in classes:
            self._row["width"] = float(re.fullmatch(r"width:([\d.]+)%", a["style"]).group(1))
        elif "mv-bar-digit" in classes or "mv-bar-value" in classes:
            self._field = classes[0]

    def handle_data(self, data):
        if self._field:
            self._row[self._field] = data
            self._field = None


def _parse(html: str) -> _Rows:
    parser = _Rows()
    parser.feed(html)
    return parser


def test_each_bar_is_as_long_as_its_probability_and_says_it():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(10))
    page = _parse(probability_bars_html(p, "Prediction"))
    assert [r["mv-bar-digit"] for r in page.rows] == [str(d) for d in range(10)]
    for d, row in enumerate(page.rows):
        assert abs(row["width"] - 100 * p[d]) < 0.005  # on a 0-100% track, no stretching
        assert row["mv-bar-value"] == f"{100 * p[d]:.2f}%"


def test_only_the_answer_is_highlighted_and_named_in_words():
    p = np.full(10, 0.02)
    p[7] = 0.82
    html = probability_bars_html(p, "Prediction: 7")
    page = _parse(html)
    assert [("mv-top" in r["classes"]) for r in page.rows] == [d == 7 for d in range(10)]
    assert "the answer, 7, is highlighted" in html


def test_the_name_speaks_all_ten_probabilities_as_the_bars_write_them():
    p = np.linspace(1, 10, 10) / 55
    page = _parse(probability_bars_html(p, "Prediction: 9 (18% sure)"))
    spoken = re.findall(r"digit (\d), probability ([\d.]+)%", page.label)
    assert [(int(d), v) for d, v in spoken] == [(d, f"{100 * p[d]:.2f}") for d in range(10)]
    assert page.label.startswith("Prediction: 9 (18% sure)")


def test_a_certain_answer_fills_its_track_and_leaves_the_others_empty():
    p = np.zeros(10)
    p[0] = 1.0
    page = _parse(probability_bars_html(p, "x"))
    assert [r["width"] for r in page.rows] == [100.0] + [0.0] * 9


def test_the_highlighted_row_is_the_answer_given():
    # two digits tie: the page's verdict names one, and that is the row marked
    p = np.zeros(10)
    p[3] = p[8] = 0.5
    html = probability_bars_html(p, "Prediction: 8", top=8)
    page = _parse(html)
    assert [("mv-top" in r["classes"]) for r in page.rows] == [d == 8 for d in range(10)]
    assert "the answer, 8, is highlighted" in html


def test_a_value_that_is_not_a_number_gets_an_empty_track_and_says_so():
    p = np.full(10, 0.1)
    p[4] = np.nan
    page = _parse(probability_bars_html(p, "x"))
    assert page.rows[4]["width"] == 0.0 and page.rows[4]["mv-bar-value"] == "not a number"
    assert [r["width"] for r in page.rows if r["mv-bar-digit"] != "4"] == [10.0] * 9
