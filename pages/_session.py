"""Tell a student when their page started over: reloaded, or reconnected to another replica after
the one holding their session went away (a Streamlit session lives in one server's memory)."""

from __future__ import annotations

import secrets

import streamlit as st

_MARKER = "session_marker"  # session state: this session's marker
PARAM = "session"  # the URL's query parameter: the marker of the session the page last had
STARTED_OVER = "started_over"  # session state: the drawing pad starts empty (pages/_pen.py)


def session_notice() -> None:
    """On a session's first run: if the URL carries an earlier session's marker, say that the
    page started over; then put this session's marker in the URL."""
    if _MARKER in st.session_state:
        if st.query_params.get(PARAM) != st.session_state[_MARKER]:  # a page switch cleared it
            st.query_params[PARAM] = st.session_state[_MARKER]
        return
    earlier = st.query_params.get(PARAM)
    marker = secrets.token_hex(4)
    st.session_state[_MARKER] = marker
    st.query_params[PARAM] = marker
    if earlier:
        st.session_state[STARTED_OVER] = True
        st.info(
            "**This page started over.** It was reloaded, or its connection to the server was "
            "lost and it reconnected (perhaps to another of the class's servers), so what you "
            "drew or chose may be gone. Draw again and carry on.",
            icon=":material/sync_problem:",
        )
