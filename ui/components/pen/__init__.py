"""The drawing pad: streamlit-drawable-canvas plus pen tools that make it answer at once.

See ``pen.js``: each stroke is sent the moment the pen lifts (instead of 200 ms later), and
"Clear" empties the canvas in the browser, so neither waits for the server; "Undo" takes back
the last stroke. The canvas's own toolbar is hidden: unseen, it lay over the canvas's top-right
corner and swallowed strokes begun there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_viz.core.errors import ImageError
from mnist_viz.core.image_input import check_canvas_png
from ui.session import STARTED_OVER

CANVAS_SIZE = 280  # 10x MNIST's 28 px: room to draw, and a round factor for the eye
# The pad's picture arrives over the websocket, past the uploader's type filter and nginx's body
# limit: it must be a PNG no bigger than the canvas at a high-density screen's 4 device pixels
# per CSS pixel, in a data URL of at most a few megabytes.
MAX_CANVAS_SIDE = 4 * CANVAS_SIZE + 80
MAX_DATA_URL_CHARS = 4 * 2**20
_FALLBACK_CLEARS = "pen_fallback_clears"

_pen_tools = st.components.v2.component(
    "mnist_viz.pen_tools",
    html=(
        '<div class="pen-row">'
        '<button class="pen-undo" type="button" title="Take back the last stroke" hidden>Undo'
        "</button>"
        '<button class="pen-clear" type="button" title="Empty the canvas">Clear</button>'
        "</div>"
    ),
    css="""
    .pen-row { display: flex; gap: 0.5rem; }
    .pen-row button {
      font: inherit; font-size: 0.95rem; cursor: pointer;
      padding: 0.3rem 0.9rem; min-height: 2.4rem;
      color: var(--st-text-color, #31333f);
      background: var(--st-background-color, #fff);
      border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2));
      border-radius: var(--st-button-radius, 0.5rem);
    }
    .pen-row button:hover:not(:disabled) { border-color: var(--st-primary-color, #ff4b4b);
                                            color: var(--st-primary-color, #ff4b4b); }
    .pen-row button:focus-visible { outline: 2px solid currentColor; outline-offset: 2px; }
    .pen-row button:disabled { cursor: not-allowed; opacity: 0.45; }
    .pen-row button[hidden] { display: none; }
    """,
    js=(Path(__file__).with_name("pen.js")).read_text(encoding="utf-8"),
)


def _server_clear() -> None:
    # Only used when the browser-side reset is unavailable: a new initial drawing re-creates it.
    st.session_state[_FALLBACK_CLEARS] = st.session_state.get(_FALLBACK_CLEARS, 0) + 1


@dataclass(frozen=True)
class Drawing:
    """What is on the canvas: its PNG (None before the first stroke) and how many strokes."""

    png: bytes | None
    strokes: int
    # a fingerprint of each stroke, in order: a drawing that does not extend (or undo back to) the
    # last one is a new drawing, even when the canvas' clear and the next stroke reach the server
    # together (a busy server coalesces them, and the empty canvas is never seen)
    stroke_keys: tuple[str, ...] = ()

    def continues(self, earlier: tuple[str, ...]) -> bool:
        """Whether this drawing is ``earlier`` with strokes added or undone."""
        n = min(len(earlier), len(self.stroke_keys))
        return n > 0 and earlier[:n] == self.stroke_keys[:n]


def drawing_pad(
    stroke_width: int, on_change: Callable[[], None] | None = None, key: str = "canvas"
) -> None:
    """A 280 x 280 black canvas with white ink, and Undo and Clear buttons. ``on_change`` runs when a
    stroke or a clear reaches the server; read the drawing with ``drawing_in_state``."""
    if st.session_state.pop(STARTED_OVER, False):
        # A page that started over (reloaded, or its replica restarted) begins with an empty
        # pad: the browser may have re-mounted the pad empty while the first request still
        # carried its last drawing, and the page then answered a drawing no longer on the pad.
        st.session_state.pop(key, None)
        _server_clear()
    st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=CANVAS_SIZE,
        height=CANVAS_SIZE,
        drawing_mode="freedraw",
        initial_drawing={"objects": [], "clears": st.session_state.get(_FALLBACK_CLEARS, 0)},
        return_image_data=True,
        on_change=on_change,
        key=key,
    )
    _pen_tools(key=f"{key}_tools", on_clear_change=_server_clear)


def drawing_in_state(key: str = "canvas") -> Drawing:
    """The canvas' latest drawing, from session state: usable in callbacks, before the canvas is
    drawn again (the component keeps {"drawing": {"raw": fabric JSON, "data": PNG data URL}})."""
    value = st.session_state.get(key) or {}
    drawing = value.get("drawing") or {}
    objects = (drawing.get("raw") or {}).get("objects") or []
    paths = [o for o in objects if isinstance(o, dict) and o.get("type") in ("path", "Path")]
    strokes = len(paths)
    keys = tuple(
        hashlib.sha1(json.dumps(o.get("path"), separators=(",", ":")).encode()).hexdigest()[:12]
        for o in paths
    )
    url = drawing.get("data")
    png = None
    if (
        isinstance(url, str)
        and len(url) <= MAX_DATA_URL_CHARS
        and url.startswith("data:image/png;base64,")
    ):
        try:
            png = check_canvas_png(
                base64.b64decode(url.split(";base64,", 1)[1], validate=True), MAX_CANVAS_SIDE
            )
        except (binascii.Error, ValueError, ImageError):
            png = None  # not what the pad sends: read as no drawing
    return Drawing(png, strokes, keys)
