"""The answer's ten probabilities as HTML bars with their numbers written beside them.

The Draw page shows them after every stroke. As a Vega-Lite chart they cost the browser about
80 ms of main-thread time per answer (parsing the spec, building the scenegraph, drawing it):
measured in Chromium 150, 263 ms per answer with the chart against 186 ms without. Ten rows of
HTML cost a few milliseconds, and the exact values are on screen instead of behind a hover, so a
learner on a touch screen (which never hovers) reads them too.

The accessible name speaks all ten numbers in the same words as the chart's did
(``chart_text.spoken`` of ``charts.probability_chart``), so the two cannot drift apart.
"""

from __future__ import annotations

import html
import math

import numpy as np

from mnist_viz.core.data import NUM_CLASSES
from mnist_viz.view import chart_text, charts

__all__ = ["probability_bars_html"]

# Both colours keep 3:1 against the light and the dark theme's background (WCAG 1.4.11); the
# answer's row is also bold and marked in words, so colour is not the only cue (WCAG 1.4.1).
_STYLE = (
    ".mv-bars{margin:0 0 0.5rem 0}"
    ".mv-bar{display:grid;grid-template-columns:1.4em 1fr 4.6em;align-items:center;"
    "gap:0.5em;height:1.45rem;font-variant-numeric:tabular-nums}"
    ".mv-bar-track{height:0.95rem;"
    "outline:1px solid color-mix(in srgb,currentColor 55%,transparent);outline-offset:-1px}"
    f".mv-bar-fill{{display:block;height:100%;background:{charts.BASE}}}"
    f".mv-bar.mv-top .mv-bar-fill{{background:{charts.HIGHLIGHT}}}"
    ".mv-bar.mv-top{font-weight:700}"
    ".mv-bar-value{text-align:right}"
    ".mv-bars figcaption{font-size:0.875rem;opacity:0.8;margin-top:0.25rem}"
)


def probability_bars_html(probabilities: np.ndarray, what: str, top: int | None = None) -> str:
    """One row per digit: the digit, a bar on a 0-100% track, and the probability (two decimals,
    as the chart's tooltip wrote it). The answer's row (``top``, by default the most probable
    digit) is highlighted and bold. ``what`` starts the figure's accessible name, which then
    lists all ten probabilities. A value that is not a number (a broken model) gets an empty
    track and says so, instead of a bar of undefined width."""
    p = np.asarray(probabilities, np.float64).reshape(NUM_CLASSES)
    top = int(np.nanargmax(p)) if top is None and not np.isnan(p).all() else top
    rows = []
    for digit, value in enumerate(p.tolist()):
        finite = math.isfinite(value)
        width = min(max(value, 0.0), 1.0) * 100 if finite else 0.0
        text = f"{value:.2%}" if finite else "not a number"
        rows.append(
            f'<div class="mv-bar{" mv-top" if digit == top else ""}">'
            f'<span class="mv-bar-digit">{digit}</span>'
            f'<span class="mv-bar-track"><span class="mv-bar-fill" style="width:{width:.2f}%">'
            f'</span></span><span class="mv-bar-value">{text}</span></div>'
        )
    name = chart_text.spoken(charts.probability_chart(p), what)
    caption = "Each track runs from 0% (empty) to 100% (full)" + (
        f"; the answer, {top}, is highlighted and bold." if top is not None else "."
    )
    return (
        f"<style>{_STYLE}</style>"
        f'<figure class="mv-bars" role="img" aria-label="{html.escape(name)}">'
        f'{"".join(rows)}<figcaption aria-hidden="true">{caption}</figcaption></figure>'
    )
