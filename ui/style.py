"""The site-wide stylesheet (``style.css``): readable captions, a visible focus, screen-reader
text. The router applies it on every run, before any page draws."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st


@cache
def _css() -> str:
    return Path(__file__).with_name("style.css").read_text(encoding="utf-8")


def apply_style() -> None:
    """Add the stylesheet to the page (st.html of a lone <style> takes no space)."""
    st.html(f"<style>{_css()}</style>")
