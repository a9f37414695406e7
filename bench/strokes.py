"""Pen strokes of handwritten-looking digits, for driving the real canvas in a browser.

Each digit has a few ways of writing it (one or several strokes: a 4 in two strokes, a 7 with or
without its bar, a 1 with a base), drawn as smooth curves through hand-placed points in a unit
box. ``digit_strokes`` places one at a random size, position, slant and rotation on the canvas
and adds a little tremor, as a person's hand would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Stroke = list[tuple[float, float]]

# (x, y) in a unit box, y downwards. Curves pass through every point.
STYLES: dict[int, list[list[Stroke]]] = {
    0: [
        [
            [
                (0.5, 0.03),
                (0.2, 0.2),
                (0.12, 0.5),
                (0.22, 0.82),
                (0.5, 0.97),
                (0.78, 0.82),
                (0.88, 0.5),
                (0.8, 0.18),
                (0.5, 0.03),
                (0.4, 0.1),
            ]
        ],
    ],
    1: [
        [[(0.55, 0.02), (0.5, 0.5), (0.45, 0.98)]],
        [[(0.3, 0.22), (0.58, 0.02), (0.52, 0.5), (0.48, 0.98)]],
        [[(0.35, 0.2), (0.58, 0.02), (0.52, 0.5), (0.48, 0.95)], [(0.28, 0.96), (0.72, 0.96)]],
    ],
    2: [
        [[(0.18, 0.28), (0.45, 0.04), (0.78, 0.18), (0.72, 0.45), (0.18, 0.95), (0.88, 0.93)]],
        [[(0.2, 0.25), (0.5, 0.03), (0.8, 0.25), (0.2, 0.93)], [(0.2, 0.93), (0.85, 0.93)]],
    ],
    3: [
        [
            [
                (0.18, 0.12),
                (0.6, 0.03),
                (0.8, 0.22),
                (0.45, 0.47),
                (0.82, 0.7),
                (0.62, 0.96),
                (0.18, 0.88),
            ]
        ],
    ],
    4: [
        [[(0.58, 0.03), (0.15, 0.62), (0.9, 0.62)], [(0.66, 0.3), (0.64, 0.98)]],
        [[(0.25, 0.03), (0.2, 0.55), (0.88, 0.55)], [(0.72, 0.05), (0.7, 0.98)]],
    ],
    5: [
        [
            [(0.3, 0.05), (0.25, 0.45), (0.6, 0.4), (0.82, 0.62), (0.65, 0.93), (0.2, 0.88)],
            [(0.3, 0.05), (0.82, 0.04)],
        ],
    ],
    6: [
        [
            [
                (0.72, 0.04),
                (0.35, 0.35),
                (0.18, 0.7),
                (0.42, 0.96),
                (0.75, 0.82),
                (0.72, 0.56),
                (0.42, 0.5),
                (0.22, 0.68),
            ]
        ],
    ],
    7: [
        [[(0.12, 0.06), (0.88, 0.06), (0.4, 0.97)]],
        [[(0.12, 0.06), (0.88, 0.06), (0.42, 0.97)], [(0.35, 0.52), (0.8, 0.5)]],
    ],
    8: [
        [
            [
                (0.72, 0.14),
                (0.5, 0.03),
                (0.26, 0.16),
                (0.5, 0.45),
                (0.8, 0.72),
                (0.5, 0.97),
                (0.2, 0.72),
                (0.5, 0.45),
                (0.74, 0.18),
            ]
        ],
        [
            [(0.5, 0.03), (0.25, 0.22), (0.5, 0.45), (0.75, 0.22), (0.5, 0.03)],
            [(0.5, 0.45), (0.2, 0.72), (0.5, 0.97), (0.8, 0.72), (0.5, 0.45)],
        ],
    ],
    9: [
        [
            [
                (0.76, 0.3),
                (0.55, 0.05),
                (0.25, 0.2),
                (0.3, 0.45),
                (0.6, 0.45),
                (0.76, 0.3),
                (0.74, 0.6),
                (0.68, 0.98),
            ]
        ],
        [
            [(0.75, 0.22), (0.5, 0.04), (0.25, 0.22), (0.5, 0.45), (0.75, 0.3)],
            [(0.76, 0.15), (0.7, 0.98)],
        ],
    ],
}


def _smooth(points: Stroke, spacing: float) -> np.ndarray:
    """A Catmull-Rom curve through ``points``, sampled every ``spacing`` units or so."""
    p = np.asarray(points, np.float64)
    p = np.vstack([p[0], p, p[-1]])
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        n = max(2, int(np.linalg.norm(p2 - p1) / spacing))
        for t in np.linspace(0, 1, n, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(
                0.5
                * (
                    2 * p1
                    + (p2 - p0) * t
                    + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                    + (3 * p1 - p0 - 3 * p2 + p3) * t3
                )
            )
    out.append(p[-2])
    return np.asarray(out)


@dataclass(frozen=True)
class Drawing:
    digit: int
    strokes: list[list[tuple[float, float]]]  # canvas pixels


def digit_strokes(
    digit: int, rng: np.random.Generator, canvas: int = 280, style: int | None = None
) -> Drawing:
    """One way of writing ``digit``, placed at random on a ``canvas`` x ``canvas`` pad."""
    styles = STYLES[digit]
    chosen = styles[int(rng.integers(len(styles))) if style is None else style]
    height = rng.uniform(0.45, 0.8) * canvas
    width = height * rng.uniform(0.55, 0.8)
    if digit == 1:
        width = height * rng.uniform(0.3, 0.5)
    slant = rng.uniform(-0.25, 0.1)  # x shift per unit of height: most people lean right
    angle = np.deg2rad(rng.uniform(-8, 8))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    margin = 0.08 * canvas
    left = rng.uniform(margin, max(margin, canvas - margin - width))
    top = rng.uniform(margin, max(margin, canvas - margin - height))
    strokes = []
    for stroke in chosen:
        unit = _smooth(stroke, spacing=0.04)
        xy = np.column_stack([(unit[:, 0] - 0.5) * width, (unit[:, 1] - 0.5) * height])
        xy[:, 0] -= slant * xy[:, 1]
        xy = xy @ rotate.T + [left + width / 2, top + height / 2]
        xy += rng.normal(0, 0.8, xy.shape)  # tremor
        xy = np.clip(xy, 2, canvas - 3)
        strokes.append([(float(x), float(y)) for x, y in xy])
    return Drawing(digit, strokes)


def stroke_counts(digit: int) -> set[int]:
    """How many strokes the ways of writing ``digit`` take."""
    return {len(style) for style in STYLES[digit]}
