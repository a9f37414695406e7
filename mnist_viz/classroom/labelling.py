"""Which drawing a joined student's label panel labels, if any.

A student's saved drawing or upload gets a panel under its answer: one tap says whether the
network was right, or what the digit was. A teacher's push then replaces the answer in view.
Until now the panel vanished with it, and a tap sent in that moment (the push's answer was on
its way to the browser while the old panel was still under the finger) went nowhere, silently:
the server no longer knew the widget. So under a pushed digit the panel of the student's own
drawing stays, worded as theirs, and a tap still labels the drawing it was meant for.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_viz.inputs.digit import DRAWING, PUSHED, UPLOAD

__all__ = ["LabelTarget", "OpenDrawing", "drawing_to_update", "label_target", "open_after_clear"]


@dataclass(frozen=True)
class OpenDrawing:
    """The student's latest saved drawing or upload: its pixels' key, its id, what was read, and
    where it came from (only a drawing is continued by the next stroke)."""

    key: str
    drawing_id: int
    predicted: int
    source: str = DRAWING


@dataclass(frozen=True)
class LabelTarget:
    """The drawing a panel's tap labels, and whether it is the student's own kept under a push."""

    drawing_id: int
    predicted: int
    under_push: bool


def label_target(
    in_view_key: str, in_view_source: str, own_key: str | None, open_drawing: OpenDrawing | None
) -> LabelTarget | None:
    """The panel for the digit in view: its own when it is the student's saved drawing or upload;
    the student's own saved drawing when a pushed digit covers it; otherwise none (test digits,
    a push over a test digit, anything not saved)."""
    if open_drawing is None:
        return None
    if in_view_source in (DRAWING, UPLOAD) and in_view_key == open_drawing.key:
        return LabelTarget(open_drawing.drawing_id, open_drawing.predicted, under_push=False)
    if in_view_source == PUSHED and own_key == open_drawing.key:
        return LabelTarget(open_drawing.drawing_id, open_drawing.predicted, under_push=True)
    return None


def drawing_to_update(opened: OpenDrawing | None, source: str) -> int | None:
    """The saved drawing that a new answer of ``source`` updates: the open drawing, when this
    is a further stroke of it; None for a new one (an upload, a drawing after an upload: a
    stroke must never overwrite the photo saved before it)."""
    if source == DRAWING and opened is not None and opened.source == DRAWING:
        return opened.drawing_id
    return None


def open_after_clear(opened: OpenDrawing | None) -> OpenDrawing | None:
    """What stays open when the pad is cleared (or holds another drawing): an upload, which the
    pad never held and whose answer may still be the one in view (closing it saved the same
    photo again as a new drawing, its label reset); a drawing is closed, so the next stroke
    starts a new saved drawing."""
    return opened if opened is not None and opened.source != DRAWING else None
