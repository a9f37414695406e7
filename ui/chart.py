"""Every chart with its text alternatives (WCAG 1.1.1): ``chart`` instead of st.vega_lite_chart."""

from __future__ import annotations

import streamlit as st

from mnist_viz.view import chart_text
from mnist_viz.view.charts import clicked_unit


def chart(spec: dict, what: str, table: bool = False, **kwargs):
    """st.vega_lite_chart(spec, **kwargs), named for screen readers by ``what`` it shows and its
    numbers (a few are spoken in the name; more, or with ``table`` any, follow in a table only
    screen readers see)."""
    event = st.vega_lite_chart(spec, alt=chart_text.spoken(spec, what), **kwargs)
    if table := chart_text.table_html(spec, what, always=table):
        st.html(table)
    return event


def new_click(pick: str) -> tuple[int, int] | None:
    """The (row, column) clicked on the chart keyed ``pick`` (a ``charts.UNIT_SELECTION``), once:
    None when nothing is selected or this click was already taken. What was taken is forgotten
    when the selection is (Streamlit drops a chart's selection when the chart changes), so the
    same cell clicked again later counts."""
    state = st.session_state
    taken = f"{pick}_applied"
    clicked = clicked_unit(state.get(pick))
    if clicked is None:
        state.pop(taken, None)
        return None
    if clicked == state.get(taken):
        return None
    state[taken] = clicked
    return clicked
