"""Synthetic handwriting: digits as pen strokes in many made-up people's styles.

These writers are generated, not real people: a proxy that is useful for development and for
load tests, never proof of how the app reads real handwriting (see ``bench/pen_digits.py`` for
real pen-drawn digits by writers the network never saw).

Each digit has several ways of writing it, drawn as smooth curves through hand-placed points in
a unit box, including the shapes MNIST's writers rarely used and learners often do: the crossed 7,
the flagged 1 with a base, the hooked 9, the narrow 6, the open 4, the looped 2, the flat-topped 3.
A ``Writer`` has habits (slant, width, size, which style of each digit), and each digit they write
varies a little more, with a tremor, as a hand would.

Used by the benchmarks to draw on the real canvas (``bench/classroom.py``) and, rendered as the
canvas renders them or as a pen tablet records them (``tablet``), as a set of drawn digits by
synthetic writers (``bench/drawn_digits.py``). These strokes are never used to train a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mnist_viz.core.strokes import CANVAS, PEN, render_canvas

Stroke = list[tuple[float, float]]

# (x, y) in a unit box, y downwards. Curves pass through every point; one list per stroke.
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
        [
            [
                (0.6, 0.06),
                (0.32, 0.12),
                (0.22, 0.5),
                (0.34, 0.9),
                (0.6, 0.95),
                (0.76, 0.6),
                (0.72, 0.2),
                (0.52, 0.04),
            ]
        ],
    ],
    1: [
        [[(0.55, 0.02), (0.5, 0.5), (0.45, 0.98)]],
        [[(0.3, 0.22), (0.58, 0.02), (0.52, 0.5), (0.48, 0.98)]],
        [[(0.35, 0.2), (0.58, 0.02), (0.52, 0.5), (0.48, 0.95)], [(0.28, 0.96), (0.72, 0.96)]],
        [[(0.5, 0.03), (0.5, 0.97)], [(0.3, 0.97), (0.7, 0.97)]],
    ],
    2: [
        [[(0.18, 0.28), (0.45, 0.04), (0.78, 0.18), (0.72, 0.45), (0.18, 0.95), (0.88, 0.93)]],
        [[(0.2, 0.25), (0.5, 0.03), (0.8, 0.25), (0.2, 0.93)], [(0.2, 0.93), (0.85, 0.93)]],
        [
            [
                (0.15, 0.25),
                (0.45, 0.03),
                (0.78, 0.2),
                (0.65, 0.5),
                (0.28, 0.82),
                (0.22, 0.95),
                (0.36, 0.86),
                (0.55, 0.9),
                (0.9, 0.92),
            ]
        ],
        [[(0.15, 0.1), (0.8, 0.1), (0.2, 0.92), (0.85, 0.92)]],
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
        [[(0.15, 0.08), (0.8, 0.08), (0.45, 0.45), (0.8, 0.62), (0.72, 0.92), (0.2, 0.88)]],
        [
            [(0.2, 0.1), (0.7, 0.05), (0.75, 0.3), (0.4, 0.48)],
            [(0.4, 0.48), (0.8, 0.65), (0.7, 0.95), (0.2, 0.9)],
        ],
    ],
    4: [
        [[(0.58, 0.03), (0.15, 0.62), (0.9, 0.62)], [(0.66, 0.3), (0.64, 0.98)]],
        [[(0.25, 0.03), (0.2, 0.55), (0.88, 0.55)], [(0.72, 0.05), (0.7, 0.98)]],
        [[(0.62, 0.98), (0.64, 0.03), (0.12, 0.65), (0.9, 0.65)]],
    ],
    5: [
        [
            [(0.3, 0.05), (0.25, 0.45), (0.6, 0.4), (0.82, 0.62), (0.65, 0.93), (0.2, 0.88)],
            [(0.3, 0.05), (0.82, 0.04)],
        ],
        [
            [
                (0.85, 0.05),
                (0.3, 0.06),
                (0.25, 0.45),
                (0.6, 0.4),
                (0.82, 0.62),
                (0.65, 0.93),
                (0.18, 0.88),
            ]
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
        [
            [
                (0.6, 0.04),
                (0.42, 0.35),
                (0.36, 0.7),
                (0.46, 0.96),
                (0.62, 0.82),
                (0.6, 0.56),
                (0.45, 0.52),
                (0.38, 0.66),
            ]
        ],  # narrow
        [
            [
                (0.6, 0.03),
                (0.3, 0.5),
                (0.28, 0.85),
                (0.5, 0.97),
                (0.72, 0.8),
                (0.6, 0.58),
                (0.32, 0.65),
            ]
        ],
    ],
    7: [
        [[(0.12, 0.06), (0.88, 0.06), (0.4, 0.97)]],
        [[(0.12, 0.06), (0.88, 0.06), (0.42, 0.97)], [(0.35, 0.52), (0.8, 0.5)]],  # crossed
        [[(0.12, 0.06), (0.88, 0.08), (0.6, 0.4), (0.48, 0.97)]],
        [[(0.1, 0.18), (0.15, 0.06), (0.88, 0.06), (0.42, 0.97)], [(0.38, 0.5), (0.82, 0.48)]],
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
        [
            [
                (0.66, 0.12),
                (0.5, 0.05),
                (0.34, 0.14),
                (0.5, 0.38),
                (0.82, 0.7),
                (0.5, 0.97),
                (0.18, 0.7),
                (0.5, 0.38),
                (0.68, 0.15),
            ]
        ],  # small top loop
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
        [
            [
                (0.76, 0.3),
                (0.55, 0.05),
                (0.25, 0.2),
                (0.3, 0.45),
                (0.6, 0.45),
                (0.76, 0.3),
                (0.74, 0.65),
                (0.65, 0.9),
                (0.45, 0.97),
                (0.3, 0.88),
            ]
        ],  # hooked
        [
            [
                (0.75, 0.25),
                (0.5, 0.05),
                (0.25, 0.22),
                (0.45, 0.45),
                (0.75, 0.3),
                (0.72, 0.75),
                (0.55, 0.97),
            ]
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


@dataclass
class Writer:
    """A person's habits: slant, proportions, size, and their way of writing each digit."""

    slant: float  # x shift per unit of height (negative: leaning right)
    width: float  # width / height of their digits (a 1 is narrower still)
    size: float  # digit height as a share of the canvas
    tremor: float  # pixels of hand shake
    styles: dict[int, int] = field(default_factory=dict)

    @classmethod
    def random(cls, rng: np.random.Generator) -> Writer:
        return cls(
            slant=float(rng.normal(-0.1, 0.1)),
            width=float(rng.uniform(0.5, 0.85)),
            size=float(rng.uniform(0.45, 0.8)),
            tremor=float(rng.uniform(0.4, 1.4)),
            styles={d: int(rng.integers(len(s))) for d, s in STYLES.items()},
        )


@dataclass(frozen=True)
class Drawing:
    digit: int
    strokes: list[list[tuple[float, float]]]  # canvas pixels


def digit_strokes(
    digit: int,
    rng: np.random.Generator,
    canvas: int = CANVAS,
    style: int | None = None,
    writer: Writer | None = None,
) -> Drawing:
    """One way of writing ``digit``, placed at random on a ``canvas`` x ``canvas`` pad: the
    writer's habits (a random writer if None), varied a little as each drawing is."""
    writer = writer or Writer.random(rng)
    styles = STYLES[digit]
    if style is None:
        # people mostly write a digit their way, now and then another
        style = writer.styles[digit] if rng.random() < 0.85 else int(rng.integers(len(styles)))
    chosen = styles[style]
    height = np.clip(writer.size * rng.uniform(0.85, 1.15), 0.3, 0.88) * canvas
    width = height * writer.width * rng.uniform(0.9, 1.1) * (0.55 if digit == 1 else 1.0)
    slant = writer.slant + rng.normal(0, 0.04)
    angle = np.deg2rad(rng.normal(0, 4))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    margin = 0.08 * canvas
    left = rng.uniform(margin, max(margin, canvas - margin - width))
    top = rng.uniform(margin, max(margin, canvas - margin - height))
    strokes = []
    for stroke in chosen:
        unit = _smooth(stroke, spacing=0.04)
        unit = unit + rng.normal(0, 0.015, unit.shape).cumsum(axis=0) * 0.3  # drift
        xy = np.column_stack([(unit[:, 0] - 0.5) * width, (unit[:, 1] - 0.5) * height])
        xy[:, 0] -= slant * xy[:, 1]
        xy = xy @ rotate.T + [left + width / 2, top + height / 2]
        xy += rng.normal(0, writer.tremor, xy.shape)
        xy = np.clip(xy, 2, canvas - 3)
        strokes.append([(float(x), float(y)) for x, y in xy])
    return Drawing(digit, strokes)


def next_digit(rng: np.random.Generator, previous_strokes: int | None) -> tuple[int, int]:
    """A digit and one of its styles whose stroke count differs from the previous drawing's (so
    an answer is told apart from the previous one by the stroke count printed with it)."""
    while True:
        digit = int(rng.integers(10))
        style = int(rng.integers(len(STYLES[digit])))
        if len(STYLES[digit][style]) != previous_strokes:
            return digit, style


def stroke_counts(digit: int) -> set[int]:
    """How many strokes the ways of writing ``digit`` take."""
    return {len(style) for style in STYLES[digit]}


def render(strokes: list[list[tuple[float, float]]], pen: int = PEN) -> np.ndarray:
    """The canvas as it looks after these strokes: white round-capped pen on opaque black,
    (280, 280, 4) RGBA like the canvas' own PNG (``mnist_viz.core.strokes.render_canvas``)."""
    return render_canvas(strokes, pen=pen)


def tablet(
    strokes: list[list[tuple[float, float]]], points: int = 8
) -> list[list[tuple[float, float]]]:
    """The strokes as a coarse pen tablet records them: each stroke resampled to ``points``
    positions evenly spaced along it, the pen lifted between strokes; drawn back, coarse
    polylines. (An earlier version joined all strokes into one 8-point path, drawing the pen's
    travel between strokes as ink, which no tablet or canvas does: it closed the top of a 5 into
    a 6.)"""
    out = []
    for stroke in strokes:
        path = np.asarray(stroke, np.float64)
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
        at = np.linspace(0.0, arc[-1], points)
        xs, ys = np.interp(at, arc, path[:, 0]), np.interp(at, arc, path[:, 1])
        out.append(list(zip(xs.tolist(), ys.tolist(), strict=True)))
    return out


def handwriting(writers: int, per_digit: int, seed: int = 0) -> list[Drawing]:
    """``writers`` people each writing every digit ``per_digit`` times."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(writers):
        writer = Writer.random(rng)
        for digit in range(10):
            out += [digit_strokes(digit, rng, writer=writer) for _ in range(per_digit)]
    return out
