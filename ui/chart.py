"""Every chart with its text alternatives (WCAG 1.1.1): ``chart`` instead of st.vega_lite_chart."""

from __future__ import annotations

import streamlit as st

from mnist_viz.view import chart_text


def chart(spec: dict, what: str, table: bool = False, **kwargs):
    """st.vega_lite_chart(spec, **kwargs), named for screen readers by ``what`` it shows and its
    numbers (a few are spoken in the name; more, or with ``table`` any, follow in a table only
    screen readers see)."""
    event = st.vega_lite_chart(spec, alt=chart_text.spoken(spec, what), **kwargs)
    if table := chart_text.table_html(spec, what, always=table):
        st.html(table)
    return event
