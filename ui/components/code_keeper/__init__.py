"""The tab's copy of a joined student's resume code (``code_keeper.js``), for a page that
reconnected to a new session with an address that lost the code (a page switch in the moment a
replica restarted)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

KEEPER = "code_keeper"  # the component's key: its state holds the code the tab kept

_keeper = st.components.v2.component(
    "mnist_viz.code_keeper",
    html='<span class="code-keeper" aria-hidden="true"></span>',
    js=(Path(__file__).with_name("code_keeper.js")).read_text(encoding="utf-8"),
)


def keep_code_in_tab(code: str | None, forget: bool, on_kept: Callable[[], None]) -> None:
    """Store ``code`` in the tab (a joined student), forget it (after Leave), or else report the
    one the tab kept: ``on_kept`` runs, and ``kept_code()`` gives it."""
    _keeper(
        key=KEEPER,
        data={"code": code, "forget": forget},
        on_code_change=on_kept,
        width="content",
        height="content",
    )


def kept_code() -> str | None:
    """The code this tab reported, if any."""
    code = (st.session_state.get(KEEPER) or {}).get("code")
    return code if isinstance(code, str) and 8 <= len(code) <= 64 else None
