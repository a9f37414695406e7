"""The site-wide stylesheet (``style.css``): readable captions, a visible focus, screen-reader
text; and one guard against a memory leak in Streamlit's frontend. The router applies both on
every run, before any page draws."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

GUARD_KEY = "mv-page-guard"  # its container is hidden by style.css (.st-key-mv-page-guard)
# React Aria, in Streamlit 1.67's frontend, keeps each element whose CSS transition starts in a
# module-level Map until the transition ends or is cancelled. An element removed in the middle of
# a transition of several properties (an expander's four border colours, a text input's) stays in
# it until React Aria next waits for a transition (rare with a mouse), and with it the whole
# detached answer it belonged to: measured on the Draw page, 390 detached DOM nodes after eight
# drawings (react-spectrum issue 7326). Stopping `transitionrun` on its way to the document keeps
# that Map empty; the transitions themselves still run, and React Aria's after-transition
# callbacks (a focus move, in screen-reader modality) run at once instead of after an animation.
# In 1.67 React Aria is the only listener for this event in the page; an iframe has its own.
_GUARD = """<script>
if (!window.__mvTransitionGuard) {
  window.__mvTransitionGuard = true;
  window.addEventListener("transitionrun", (event) => event.stopPropagation(), true);
}
</script>"""


@cache
def _css() -> str:
    return Path(__file__).with_name("style.css").read_text(encoding="utf-8")


def apply_style() -> None:
    """Add the stylesheet (st.html of a lone <style> takes no space) and the guard (in a hidden
    container) to the page."""
    st.html(f"<style>{_css()}</style>")
    with st.container(key=GUARD_KEY):
        st.html(_GUARD, unsafe_allow_javascript=True)
