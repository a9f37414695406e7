"""Tell a student when their page started over: reloaded, or reconnected to another replica after
the one holding their session went away (a Streamlit session lives in one server's memory)."""

from __future__ import annotations

import secrets
import time

import streamlit as st

_MARKER = "session_marker"  # session state: this session's marker
PARAM = "session"  # the URL's query parameter: the marker of the session the page last had
STARTED_OVER = (
    "started_over"  # session state: the drawing pad starts empty (ui/components/pen/__init__.py)
)
_NOTICE_UNTIL = "started_over_notice_until"  # session state: time.monotonic() to show it until
NOTICE_S = 60.0


def session_notice() -> None:
    """On a session's first run: if the URL carries an earlier session's marker, the page started
    over; then put this session's marker in the URL. The notice stays on the page's full runs
    for ``NOTICE_S``: a first run may be cut short (st.rerun) before anyone saw it."""
    state = st.session_state
    if _MARKER not in state:
        earlier = st.query_params.get(PARAM)
        marker = secrets.token_hex(4)
        state[_MARKER] = marker
        st.query_params[PARAM] = marker
        if earlier:
            state[STARTED_OVER] = True
            state[_NOTICE_UNTIL] = time.monotonic() + NOTICE_S
    elif st.query_params.get(PARAM) != state[_MARKER]:  # a page switch cleared it
        st.query_params[PARAM] = state[_MARKER]
    if time.monotonic() < state.get(_NOTICE_UNTIL, 0.0):
        st.info(
            "**This page started over.** It was reloaded, or its connection to the server was "
            "lost and it reconnected (perhaps to another of the class's servers), so what you "
            "drew or chose may be gone. Draw again and carry on.",
            icon=":material/sync_problem:",
        )
