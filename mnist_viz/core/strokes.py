"""Pen strokes drawn as the app's canvas draws them.

The drawing pad (streamlit-drawable-canvas, fabric.js's pencil brush) turns the pointer positions
of one stroke into a smooth path: a quadratic curve from the midpoint of each pair of positions to
the next, bent towards the position between them, drawn with a round-capped, round-jointed pen
of the chosen width in white on black. A mouse or a finger reports a position every few pixels; a
1990s pen tablet kept one every 100 ms, a coarse polyline. Both are drawn here the same way, so a
recorded trajectory looks as it would if it had been drawn on the canvas.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

CANVAS = 280  # the drawing pad's side, in CSS pixels
PEN = 18  # the pad's default pen width
CURVE_STEP = 2.0  # pixels between the points a curve is drawn through

Stroke = np.ndarray  # float (n, 2): x, y in pixels, y downward


def fabric_path(points: np.ndarray, step: float = CURVE_STEP) -> np.ndarray:
    """The path fabric.js's pencil brush draws through ``points`` (getSmoothPathFromPoints):
    a straight start to the first midpoint, then a quadratic Bezier from each midpoint to the
    next with the position between them as its control point, and a straight end to the last
    position; sampled about every ``step`` pixels."""
    p = np.asarray(points, np.float64)
    keep = np.concatenate([[True], np.any(np.diff(p, axis=0) != 0, axis=1)])
    p = p[keep]  # the brush skips a position equal to the last one
    if len(p) < 3:
        return p
    mids = (p[:-1] + p[1:]) / 2
    a, c, b = mids[:-1], p[1:-1], mids[1:]  # each curve: from a, bent towards c, to b
    length = np.linalg.norm(c - a, axis=1) + np.linalg.norm(b - c, axis=1)
    n = int(np.clip(np.ceil(length.max() / step), 2, 64))  # one sampling for all: vectorised
    t = np.linspace(0.0, 1.0, n + 1)[1:, None, None]
    curves = (1 - t) ** 2 * a + 2 * (1 - t) * t * c + t**2 * b  # (n, curves, 2)
    return np.concatenate([p[:1], mids[:1], curves.transpose(1, 0, 2).reshape(-1, 2), p[-1:]])


def catmull_rom(points: np.ndarray, step: float = CURVE_STEP) -> np.ndarray:
    """A Catmull-Rom curve through every one of ``points``, sampled about every ``step``
    pixels: a dense pen path between sparse recorded positions, as a mouse would report it."""
    p = np.asarray(points, np.float64)
    keep = np.concatenate([[True], np.any(np.diff(p, axis=0) != 0, axis=1)])
    p = p[keep]
    if len(p) < 3:
        return p
    q = np.vstack([p[0], p, p[-1]])
    p0, p1, p2, p3 = q[:-3], q[1:-2], q[2:-1], q[3:]  # one curve piece per pair of positions
    n = int(np.clip(np.ceil(np.linalg.norm(p2 - p1, axis=1).max() / step), 1, 64))
    t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None, None]  # one sampling for all pieces
    pieces = 0.5 * (
        2 * p1
        + (p2 - p0) * t
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
        + (3 * p1 - p0 - 3 * p2 + p3) * t**3
    )
    return np.concatenate([pieces.transpose(1, 0, 2).reshape(-1, 2), p[-1:]])


def _corners(path: np.ndarray, degrees: float) -> np.ndarray:
    """The inner points of ``path`` where it turns by more than ``degrees``."""
    d = np.diff(path, axis=0)
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    turn = np.einsum("ij,ij->i", d[:-1], d[1:])
    return path[1:-1][turn < np.cos(np.deg2rad(degrees))]


def draw_strokes(
    strokes: list[np.ndarray],
    pen: float,
    size: tuple[int, int],
    smooth: bool = True,
    step: float = CURVE_STEP,
) -> np.ndarray:
    """Grey levels (uint8, ``size`` = (width, height)) of ``strokes`` drawn in white on black
    with a round pen ``pen`` pixels wide; ``smooth`` draws each as the canvas's brush path
    through its positions (sampled every ``step`` pixels), otherwise as straight lines between
    them."""
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    r = pen / 2
    for stroke in strokes:
        path = fabric_path(stroke, step) if smooth else np.asarray(stroke, np.float64)
        if len(path) > 1:
            draw.line(path.ravel().tolist(), fill=255, width=max(1, round(pen)))
        # Round joins where the path turns (Pillow's own round joins cost a Python loop per
        # point; where a densely sampled curve turns by a few degrees the gap is invisible),
        # round caps at both ends, and a dot for a stroke that never moved.
        dots = (
            np.concatenate([path[:1], _corners(path, 12.0), path[-1:]]) if len(path) > 2 else path
        )
        for x, y in dots.tolist():
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    # Pillow draws a wide line as one polygon per segment, and neighbouring polygons leave
    # one-pixel cracks inside the stroke (a canvas's path has none): dozens per digit, enough to
    # double the stroke's measured boundary. A 3 x 3 closing fills them.
    return ndi.grey_closing(np.asarray(image), size=(3, 3))


def render_canvas(
    strokes: list[np.ndarray] | list[list[tuple[float, float]]],
    pen: float = PEN,
    canvas: int = CANVAS,
    smooth: bool = True,
) -> np.ndarray:
    """The canvas's own picture of ``strokes`` (canvas pixels): (canvas, canvas, 4) RGBA, white
    ink on opaque black, like the PNG the pad sends."""
    grey = draw_strokes([np.asarray(s, np.float64) for s in strokes], pen, (canvas, canvas), smooth)
    rgba = np.empty((canvas, canvas, 4), np.uint8)
    rgba[..., :3] = grey[..., None]
    rgba[..., 3] = 255
    return rgba
