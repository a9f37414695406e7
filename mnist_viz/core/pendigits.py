"""Real pen-drawn digits: the UCI pen-based digits' original trajectories, by 30 writers.

Alpaydin, E. & Alimoglu, F. (1996), Pen-Based Recognition of Handwritten Digits, UCI Machine
Learning Repository, doi:10.24432/C5MG6K, licence CC BY 4.0. Recorded on a WACOM PL-100V tablet:
the pen's position every 100 ms, in tablet units (0-500, y growing upward).

A compressed copy of the training writers' file (``pendigits-orig.tra``, 7,494 digits) ships in
``mnist_viz/assets`` so the app trains offline. The collection's writer-independent test split (14
other writers) is not here, on purpose: it is kept for independent checks.

The file is UNIPEN-like text: ``.SEGMENT DIGIT n ? "d"`` starts digit d, ``.COMMENT d w s`` names
its writer w and sample s, and each ``.PEN_DOWN`` ... ``.PEN_UP`` block is one stroke of ``x y``
lines. A malformed file raises one ``DataError`` naming the file, the line and the problem.
"""

from __future__ import annotations

import gzip
import itertools
import lzma
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_viz.core.errors import DataError

PEN_DATA_ENV_VAR = "MNIST_VIZ_PEN_DATA"
SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "pendigits-orig.tra.xz"
NUM_CLASSES = 10
MAX_COORDINATE = 10_000  # tablet units are 0-500; anything far beyond is not a pen position
MAX_POINTS = 5_000  # per digit; the file's longest has 185
CITATION = (
    "UCI Pen-Based Recognition of Handwritten Digits (Alpaydin & Alimoglu 1996, "
    "doi:10.24432/C5MG6K), CC BY 4.0"
)
# Directives this format may hold besides the ones read below; their content is not needed.
_IGNORED = {".INCLUDE", ".LEXICON", ".HIERARCHY", ".DT", ".VERSION", ".DATA_SOURCE", ".X_DIM"}


@dataclass(frozen=True, eq=False)
class PenDigits:
    """Pen trajectories with their labels and writers.

    ``strokes[i]`` is digit i's list of strokes, each a float32 (n, 2) array of (x, y) with y
    growing downward (as on a screen), in the tablet's units.
    """

    strokes: list[list[np.ndarray]]
    labels: np.ndarray  # uint8, 0-9
    writers: np.ndarray  # int32, as the file numbers them (1-30 for the training file)
    location: str

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, keep: np.ndarray) -> PenDigits:
        """The digits where the boolean mask ``keep`` is true (or at the given indices)."""
        index = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        return PenDigits(
            [self.strokes[i] for i in index], self.labels[index], self.writers[index], self.location
        )

    def without_writers(self, writers: Iterable[int]) -> PenDigits:
        """Every digit except those by ``writers``."""
        return self.subset(~np.isin(self.writers, list(writers)))

    def of_writers(self, writers: Iterable[int]) -> PenDigits:
        """Only the digits by ``writers``."""
        return self.subset(np.isin(self.writers, list(writers)))

    def describe(self) -> str:
        """One sentence for the app and the CLI."""
        return (
            f"{len(self):,} pen-drawn digits by {len(np.unique(self.writers))} writers "
            "(UCI pen-based digits)"
        )


def _points_error(where: str, text: str) -> DataError:
    return DataError(f"{where}: expected a pen position 'x y' (two integers), found {text!r}")


def parse(text: str, location: str = "<text>") -> PenDigits:
    """Read the UNIPEN-like text of the pen-based digits; ``DataError`` names the line at fault."""
    strokes: list[list[np.ndarray]] = []
    labels: list[int] = []
    writers: list[int] = []
    points: list[tuple[int, int]] | None = None  # the stroke being read, between PEN_DOWN/UP
    segment_line = 0
    commented = True

    def close_segment(line_no: int) -> None:
        if not strokes:
            return
        if not strokes[-1]:
            raise DataError(f"{location}, line {segment_line}: digit with no pen strokes")
        if not commented:
            raise DataError(f"{location}, line {segment_line}: digit without its .COMMENT line")
        if sum(len(s) for s in strokes[-1]) > MAX_POINTS:
            raise DataError(f"{location}, line {segment_line}: more than {MAX_POINTS:,} points")

    for line_no, raw in enumerate(text.splitlines(), start=1):
        where = f"{location}, line {line_no}"
        fields = raw.split()
        if not fields:
            continue
        head = fields[0]
        if not head.startswith("."):
            if points is None:
                raise DataError(f"{where}: pen position outside a .PEN_DOWN ... .PEN_UP block")
            if len(fields) != 2:
                raise _points_error(where, raw.strip())
            try:
                x, y = int(fields[0]), int(fields[1])
            except ValueError:
                raise _points_error(where, raw.strip()) from None
            if not (
                -MAX_COORDINATE <= x <= MAX_COORDINATE and -MAX_COORDINATE <= y <= MAX_COORDINATE
            ):
                raise DataError(f"{where}: pen position ({x}, {y}) is far outside the tablet")
            points.append((x, y))
        elif points is not None and head != ".PEN_UP":
            raise DataError(f"{where}: {head} inside a stroke (missing .PEN_UP)")
        elif head == ".SEGMENT":
            close_segment(line_no)
            label = fields[-1].strip('"') if len(fields) >= 3 else ""
            if len(fields) < 3 or fields[1] != "DIGIT" or label not in "0123456789" or not label:
                raise DataError(f'{where}: expected .SEGMENT DIGIT n ? "d", found {raw.strip()!r}')
            strokes.append([])
            labels.append(int(label))
            writers.append(0)
            segment_line, commented = line_no, False
        elif head == ".COMMENT":
            if not strokes:
                continue  # a comment on the whole file
            try:
                digit, writer = int(fields[1]), int(fields[2])
            except (IndexError, ValueError):
                raise DataError(
                    f"{where}: expected .COMMENT digit writer sample, found {raw.strip()!r}"
                ) from None
            if digit != labels[-1]:
                raise DataError(
                    f"{where}: the comment says digit {digit}, its segment says {labels[-1]}"
                )
            writers[-1], commented = writer, True
        elif head == ".PEN_DOWN":
            if not strokes:
                raise DataError(f"{where}: .PEN_DOWN before any .SEGMENT")
            points = []
        elif head == ".PEN_UP":
            if points is None:
                raise DataError(f"{where}: .PEN_UP without .PEN_DOWN")
            if not points:
                raise DataError(f"{where}: a stroke with no pen positions")
            xy = np.asarray(points, np.float32)
            xy[:, 1] = -xy[:, 1]  # the tablet's y grows upward; a screen's grows downward
            strokes[-1].append(xy)
            points = None
        elif head not in _IGNORED:
            raise DataError(f"{where}: unknown directive {head}")
    if points is not None:
        raise DataError(f"{location}: the file ends inside a stroke (missing .PEN_UP)")
    close_segment(0)
    if not strokes:
        raise DataError(f"{location}: holds no digits")
    return PenDigits(strokes, np.asarray(labels, np.uint8), np.asarray(writers, np.int32), location)


def read_text(path: str | Path) -> str:
    """The text of a pen-digit file, plain or compressed (.xz, .gz)."""
    path = Path(path)
    opener = {".xz": lzma.open, ".gz": gzip.open}.get(path.suffix, open)
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(f"{path}: cannot be read or decompressed ({exc})") from None
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not a text file of pen positions") from None


def load_pen_digits(path: str | Path | None = None) -> PenDigits:
    """The pen-drawn digits: from ``path``, ``$MNIST_VIZ_PEN_DATA``, or the copy in the package."""
    path = Path(path or os.environ.get(PEN_DATA_ENV_VAR) or SHIPPED)
    return parse(read_text(path), str(path))


def writer_folds(writers: np.ndarray, folds: int = 5, seed: int = 0) -> list[np.ndarray]:
    """The distinct writers shuffled and dealt into ``folds`` groups, for leaving writers out."""
    order = np.random.default_rng(seed).permutation(np.unique(writers))
    return [np.sort(order[i::folds]) for i in range(folds)]


# -- drawn as the app reads a drawing ---------------------------------------------------------

# How the training renderings vary (measured on writers left out, see bench/pen_digits.py).
LONGER_SIDE = (90.0, 250.0)  # the digit's longer side on the 280-px canvas, pixels
PEN_WIDTH = (8.0, 36.0)  # the pen, pixels (the pad offers 6-40, 18 by default), log-uniform
PEN_RATIO = (0.045, 0.22)  # pen width / longer side, kept within what people draw
# Share of renderings drawn with the canvas's brush through the recorded positions (a pen whose
# positions came 100 ms apart), through a dense curve between them (a mouse's or a finger's many
# positions), and as a bare polyline (a tablet's recording drawn back with straight lines).
SAMPLING = {"brush": 0.4, "dense": 0.4, "polyline": 0.2}
# The app's preprocessing crops to the ink and shrinks its longer side to 20 px, so a digit drawn
# 200 px tall with an 18-px pen reads almost the same as one drawn 96 px tall with a 9-px pen
# (tests/core/test_pendigits.py measures how close): the renderings are drawn about this small, 3x
# faster than at the canvas's size. Smaller (64 px) lost up to 10% of the ink.
WORKING_SIDE = 96.0
PARALLEL_FROM = 4000  # renderings; fewer are drawn in this process


def placed(strokes: list[np.ndarray], longer_side: float, margin: float) -> list[np.ndarray]:
    """``strokes`` scaled so the digit's longer side is ``longer_side`` pixels, its box starting
    at ``margin`` pixels from the top left."""
    allxy = np.concatenate(strokes)
    low = allxy.min(axis=0)
    extent = float(np.max(allxy.max(axis=0) - low)) or 1.0
    return [(s - low) * (longer_side / extent) + margin for s in strokes]


def render_digit(
    strokes: list[np.ndarray],
    longer_side: float,
    pen: float,
    sampling: str = "brush",
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """One pen digit drawn as the canvas would draw it with its longer side ``longer_side``
    pixels and a ``pen``-pixel pen (grey, uint8): on a board just big enough for it, and scaled
    down to about ``WORKING_SIDE`` (see there) with a whole-pixel pen."""
    from mnist_viz.core.strokes import catmull_rom, draw_strokes

    small_pen = max(2, round(pen * WORKING_SIDE / longer_side))
    side = longer_side * small_pen / pen
    margin = small_pen + 2.0
    xy = [s + np.asarray(offset) for s in placed(strokes, side, margin)]
    if sampling == "dense":
        xy = [catmull_rom(s, step=1.0) for s in xy]
    board = int(np.ceil(float(np.concatenate(xy).max()) + margin))
    return draw_strokes(xy, small_pen, (board, board), sampling != "polyline", step=1.0)


def with_slash(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """A 0's strokes plus a slash through it, from below its left side to above its right, as
    one more stroke drawn after the ring (how a slashed zero is written)."""
    allxy = np.concatenate(strokes)
    (left, top), (right, bottom) = allxy.min(axis=0), allxy.max(axis=0)
    height, width = bottom - top, right - left
    over = rng.uniform(-0.1, 0.2, 2) * height  # stopping inside the ring, or beyond it
    start = (left + rng.uniform(0.0, 0.25) * width, bottom + over[0])
    end = (right - rng.uniform(0.0, 0.25) * width, top - over[1])
    slash = np.linspace(start, end, 6).astype(np.float32)  # positions along it, as recorded
    return [*strokes, slash]


def _render_range(job: tuple) -> np.ndarray:
    strokes, sides, pens, modes, offsets = job
    from mnist_viz.core.preprocess import to_mnist

    out = np.zeros((len(strokes), 28, 28), np.uint8)
    for k, digit in enumerate(strokes):
        grey = render_digit(digit, sides[k], pens[k], modes[k], tuple(offsets[k]))
        out[k] = np.round(to_mnist(grey) * 255).astype(np.uint8)
    return out


def render_for_training(
    pen_digits: PenDigits,
    copies: int,
    seed: int,
    workers: int | None = None,
    slashed_zeros: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` renderings of every digit, each with its own size, pen width and sampling,
    read through ``to_mnist`` exactly as the app reads a drawing: (uint8 (N, 28, 28), labels).
    ``slashed_zeros`` of the 0s' renderings get a slash (``with_slash``). The same ``seed`` gives
    the same images whatever the number of ``workers`` (processes)."""
    rng = np.random.default_rng(seed)
    n = len(pen_digits) * copies
    labels = np.tile(pen_digits.labels, copies)
    modes = np.array(list(SAMPLING))[rng.choice(len(SAMPLING), size=n, p=list(SAMPLING.values()))]
    sides = rng.uniform(*LONGER_SIDE, n)
    pens = np.exp(rng.uniform(np.log(PEN_WIDTH[0]), np.log(PEN_WIDTH[1]), n))
    pens = np.clip(pens, PEN_RATIO[0] * sides, PEN_RATIO[1] * sides)
    offsets = rng.uniform(0.0, 1.0, (n, 2))
    strokes = [pen_digits.strokes[k % len(pen_digits)] for k in range(n)]
    slash = (labels == 0) & (rng.random(n) < slashed_zeros)
    for k in np.flatnonzero(slash):
        strokes[k] = with_slash(strokes[k], rng)
    workers = workers or (min(2, os.cpu_count() or 1) if n >= PARALLEL_FROM else 1)
    bounds = np.linspace(0, n, workers + 1).astype(int)
    jobs = [
        (strokes[a:b], sides[a:b], pens[a:b], modes[a:b], offsets[a:b])
        for a, b in itertools.pairwise(bounds)
    ]
    if workers == 1:
        return _render_range(jobs[0]), labels
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the caller may hold TensorFlow's threads, which a fork would break
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return np.concatenate(list(pool.map(_render_range, jobs))), labels


def sample_renderings(
    pen_digits: PenDigits, per_class: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``per_class`` digits of each class, rendered as training renders them (one copy
    each): for showing what the network learned from, cheaply."""
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [
            np.sort(rng.permutation(np.flatnonzero(pen_digits.labels == d))[:per_class])
            for d in range(NUM_CLASSES)
        ]
    )
    return render_for_training(pen_digits.subset(chosen), 1, seed, workers=1)
