"""Training digits varied the way people's handwriting varies: the default recipe's augmentation.

MNIST's writers were census staff and students in 1990s America; learners today write differently,
and a network trained on MNIST alone misreads them in predictable ways (measured on 3,498 digits by
14 other writers: hooked 9s read as 3, crossed 7s as 2, flagged 1s as 7, narrow 6s as 1). So:

1. **Shapes MNIST rarely has**, added to a share of its own digits once per training run: a bar
   across the stem of a 7, a hook at the foot of a 9, a flag (sometimes with a base) on a 1.
2. **Affine distortions** per batch (LeCun et al. 1998; Simard, Steinkraus and Platt 2003):
   rotation, slant, independent width and height scaling (narrow and wide writers), shifts.
3. **Elastic distortions** (Simard et al. 2003): a smooth random displacement field, the
   wobble of a hand, which they found the single most useful augmentation for MNIST. Here the
   field is a coarse grid of random displacements, bicubically interpolated, rather than
   Gaussian-smoothed noise: the same kind of field, and Gaussian smoothing by convolution cost
   30 s per training epoch on 2 cores.
4. **Pen width**: strokes thickened or thinned.
5. **Pen-tablet recordings**: a share of the digits redrawn as a tablet (or a hurried finger on a
   screen) records them: the digit's skeleton traced as one pen path, kept as 8 to 12 points
   evenly spaced along it (the UCI pen-based digits keep 8; Alimoglu and Alpaydin 1996), drawn
   back as straight strokes: coarse, angular digits of the kind MNIST never shows.

2, 3 and 4 are one resampling of part of each batch in TensorFlow (in the input pipeline, beside
training); 1 and 5 are numpy, once per training run (5 takes a few seconds). Since recipe 4 the
default leaves 5 out: real pen-tablet digits (``mnist_viz.core.pendigits``) do its job better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

SIZE = 28
UPSAMPLE = 4  # shape edits are drawn at 4x and shrunk: anti-aliased like MNIST's strokes


@dataclass(frozen=True)
class Augmentation:
    """How strongly training digits are varied; the defaults are the tested recipe."""

    shapes: float = 0.3  # share of the 1s, 7s and 9s given a flag, a bar or a hook
    slashed_zeros: float = 0.15  # share of the 0s given a slash, as many programmers write them
    share: float = 0.4  # share of each batch that is distorted (the rest stays as written)
    # Share of MNIST's digits redrawn as synthetic tablet recordings (5. above). Recipe 3 used 20%;
    # since recipe 4 real pen-drawn digits (mnist_viz.core.data_mix) take their place. Judged on real
    # writers left out (bench/pen_digits.py, 5 folds): without them 98.6% of the pen digits and
    # 99.38% of MNIST were read right, with them 98.4% and 99.20%, and they cost 3.5 s a training.
    tablet: float = 0.0
    rotation: float = 12.0  # degrees, either way
    slant: float = 0.3  # shear: x shift per unit of height, either way
    width: tuple[float, float] = (0.7, 1.15)  # horizontal scale range
    height: tuple[float, float] = (0.85, 1.15)  # vertical scale range
    shift: float = 2.0  # pixels, either way
    # Elastic: a smooth random displacement field of up to this standard deviation, in pixels
    # (Simard et al.'s alpha 34 and sigma 4 give about 1.4 px), varying over about 4 px (a
    # 7 x 7 grid of random displacements, smoothly interpolated).
    elastic: float = 1.4
    elastic_grid: int = 7
    thickness: float = 0.6  # blend up to this far towards a 1-px thicker or thinner stroke


# -- 1. shapes --------------------------------------------------------------------------------


def _stroke_width(ink: np.ndarray) -> float:
    """Typical pen width of a digit: 2 x area / boundary (clipped to MNIST's usual range)."""
    from scipy import ndimage as ndi

    mask = ink > 128
    boundary = np.count_nonzero(mask & ~ndi.binary_erosion(mask))
    return float(np.clip(2.0 * np.count_nonzero(mask) / max(boundary, 1), 1.5, 3.5))


def _draw(image: np.ndarray, lines: list[list[tuple[float, float]]], width: float) -> np.ndarray:
    """Add anti-aliased strokes (pixel coordinates, centres at .5) to a uint8 digit."""
    big = Image.new("L", (SIZE * UPSAMPLE, SIZE * UPSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    for points in lines:
        scaled = [(x * UPSAMPLE, y * UPSAMPLE) for x, y in points]
        draw.line(scaled, fill=255, width=max(1, round(width * UPSAMPLE)), joint="curve")
    small = np.asarray(big.resize((SIZE, SIZE), Image.Resampling.BOX))
    return np.maximum(image, small)


def _ink_columns(image: np.ndarray, rows: slice) -> np.ndarray:
    return np.flatnonzero((image[rows] > 128).any(axis=0))


def cross_seven(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bar across the stem of a 7, a little below its middle, as much of Europe writes it."""
    rows = np.flatnonzero((image > 128).any(axis=1))
    if len(rows) < 8:
        return image
    r = int(rows[0] + rng.uniform(0.45, 0.65) * (rows[-1] - rows[0]))
    cols = _ink_columns(image, slice(r, r + 2))
    if len(cols) == 0:
        return image
    c, y = float(cols.mean()) + 0.5, r + 0.5
    bar = [(c - rng.uniform(2.5, 4.5), y + rng.normal(0, 0.4)), (c + rng.uniform(2.5, 4.5), y)]
    return _draw(image, [bar], _stroke_width(image))


def hook_nine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A curl at the foot of a 9's stem, turning left."""
    rows = np.flatnonzero((image > 128).any(axis=1))
    if len(rows) < 8:
        return image
    b = int(rows[-1])
    cols = _ink_columns(image, slice(b - 1, b + 1))
    if len(cols) == 0:
        return image
    c, y = float(cols.mean()) + 0.5, b + 0.5
    down = min(SIZE - 1.0, y + rng.uniform(0.5, 1.5))
    hook = [
        (c, y),
        (c - rng.uniform(1.5, 3.0), down),
        (c - rng.uniform(3.5, 5.5), y - rng.uniform(0, 1.5)),
    ]
    return _draw(image, [hook], _stroke_width(image))


def flag_one(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A flag at the top of a 1, and half the time a base at its foot."""
    rows = np.flatnonzero((image > 128).any(axis=1))
    if len(rows) < 8:
        return image
    t, b = int(rows[0]), int(rows[-1])
    top_cols, foot_cols = (
        _ink_columns(image, slice(t, t + 2)),
        _ink_columns(image, slice(b - 1, b + 1)),
    )
    if len(top_cols) == 0 or len(foot_cols) == 0:
        return image
    c, y = float(top_cols.mean()) + 0.5, t + 0.5
    lines = [[(c, y), (c - rng.uniform(3.0, 5.0), y + rng.uniform(2.0, 4.0))]]
    if rng.random() < 0.5:
        cb, yb = float(foot_cols.mean()) + 0.5, b + 0.5
        lines.append([(cb - rng.uniform(2.5, 4.0), yb), (cb + rng.uniform(2.5, 4.0), yb)])
    return _draw(image, lines, _stroke_width(image))


def slash_zero(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slash through a 0, from below its left side to above its right (a slashed zero)."""
    rows = np.flatnonzero((image > 128).any(axis=1))
    cols = np.flatnonzero((image > 128).any(axis=0))
    if len(rows) < 8 or len(cols) < 4:
        return image
    top, bottom, left, right = rows[0] + 0.5, rows[-1] + 0.5, cols[0] + 0.5, cols[-1] + 0.5
    over = rng.uniform(-0.1, 0.2, 2) * (bottom - top)  # inside the ring, or beyond it
    start = (left + rng.uniform(0.0, 0.25) * (right - left), bottom + over[0])
    end = (right - rng.uniform(0.0, 0.25) * (right - left), top - over[1])
    return _draw(image, [[start, end]], _stroke_width(image))


SHAPE_EDITS: dict[int, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    1: flag_one,
    7: cross_seven,
    9: hook_nine,
}


def add_shapes(
    images: np.ndarray, labels: np.ndarray, share: float, seed: int, slashed_zeros: float = 0.0
) -> np.ndarray:
    """A copy of ``images`` (uint8, N x 28 x 28) where ``share`` of the 1s, 7s and 9s have their
    flag, bar or hook, and ``slashed_zeros`` of the 0s a slash; the labels do not change."""
    if share <= 0 and slashed_zeros <= 0:
        return images
    rng = np.random.default_rng(seed)
    out = images.copy()
    edits = [(d, edit, share) for d, edit in SHAPE_EDITS.items()] + [(0, slash_zero, slashed_zeros)]
    for digit, edit, fraction in edits:
        members = np.flatnonzero(labels == digit)
        for i in rng.choice(members, size=int(fraction * len(members)), replace=False):
            out[i] = edit(out[i], rng)
    return out


# -- 2-4. per-batch distortions ---------------------------------------------------------------


def _bilinear(images: tf.Tensor, ys: tf.Tensor, xs: tf.Tensor) -> tf.Tensor:
    """Sample (B, H, W, 1) images at real coordinates (B, H, W); black outside the image."""
    b = tf.shape(images)[0]
    flat = tf.reshape(images, [b, SIZE * SIZE])
    y0, x0 = tf.floor(ys), tf.floor(xs)
    out = tf.zeros_like(ys)
    for dy in (0.0, 1.0):
        for dx in (0.0, 1.0):
            yy, xx = y0 + dy, x0 + dx
            weight = (1.0 - tf.abs(ys - yy)) * (1.0 - tf.abs(xs - xx))
            inside = (yy >= 0) & (yy <= SIZE - 1) & (xx >= 0) & (xx <= SIZE - 1)
            index = tf.cast(
                tf.clip_by_value(yy, 0, SIZE - 1) * SIZE + tf.clip_by_value(xx, 0, SIZE - 1),
                tf.int32,
            )
            values = tf.gather(flat, tf.reshape(index, [b, SIZE * SIZE]), batch_dims=1)
            out += tf.where(inside, weight * tf.reshape(values, tf.shape(ys)), 0.0)
    return out[..., None]


def make_distorter(config: Augmentation, seed: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """A batch transform (B, 28, 28, 1) -> same: affine + elastic warp, then pen width."""
    rng = tf.random.Generator.from_seed(seed)
    centre = (SIZE - 1) / 2.0
    grid_y, grid_x = tf.meshgrid(
        tf.range(SIZE, dtype=tf.float32), tf.range(SIZE, dtype=tf.float32), indexing="ij"
    )

    def uniform(shape, low, high):
        return rng.uniform(shape, low, high)

    def distort(batch: tf.Tensor) -> tf.Tensor:
        # Batches arrive shuffled: distorting the first part distorts a random share, and only
        # that part costs anything.
        k = tf.cast(tf.round(config.share * tf.cast(tf.shape(batch)[0], tf.float32)), tf.int32)
        return tf.concat([warp(batch[:k]), batch[k:]], axis=0)

    def warp(x: tf.Tensor) -> tf.Tensor:
        b = tf.shape(x)[0]
        one = [b, 1, 1]
        # Output -> input mapping around the centre: rotate, slant, scale, shift.
        angle = uniform(one, -1.0, 1.0) * np.deg2rad(config.rotation)
        shear = uniform(one, -config.slant, config.slant)
        sx = tf.exp(uniform(one, np.log(config.width[0]), np.log(config.width[1])))
        sy = tf.exp(uniform(one, np.log(config.height[0]), np.log(config.height[1])))
        tx = uniform(one, -config.shift, config.shift)
        ty = uniform(one, -config.shift, config.shift)
        u, v = grid_x - centre, grid_y - centre
        u, v = u / sx, v / sy
        u = u + shear * v
        cos, sin = tf.cos(angle), tf.sin(angle)
        xs = cos * u - sin * v + centre - tx
        ys = sin * u + cos * v + centre - ty
        # Elastic: random displacements on a coarse grid, smoothly interpolated (Simard et al.
        # smooth white noise with a Gaussian; this is the same kind of field for ~1% of the cost).
        g = config.elastic_grid
        field = tf.image.resize(rng.normal([b, g, g, 2]), [SIZE, SIZE], method="bicubic")
        field = field * uniform([b, 1, 1, 1], 0.0, config.elastic)
        warped = _bilinear(x, ys + field[..., 1], xs + field[..., 0])
        amount = uniform([b, 1, 1, 1], -config.thickness, config.thickness)
        return tf.clip_by_value(vary_thickness(warped, amount), 0.0, 1.0)

    return distort


def vary_thickness(x: tf.Tensor, amount: tf.Tensor) -> tf.Tensor:
    """Grey-scale dilation (amount > 0) or erosion (< 0) by a 3 x 3 window, blended in by
    |amount| per image: thicker and thinner pens."""
    thicker = tf.nn.max_pool2d(x, 3, 1, "SAME")
    thinner = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    target = tf.where(amount > 0, thicker, thinner)
    return x + tf.abs(amount) * (target - x)


# -- 5. pen-tablet recordings ----------------------------------------------------------------


def _thinning_tables() -> tuple[np.ndarray, np.ndarray]:
    """Zhang and Suen's (1984) two deletion rules for every 8-neighbourhood (code 0-255, bit i =
    neighbour P(i+2) clockwise from north): delete a border pixel whose removal keeps the shape
    connected, alternating the south-east and the north-west side."""
    codes = np.arange(256)
    p = [(codes >> i) & 1 for i in range(8)]  # P2 ... P9
    neighbours = sum(p)
    transitions = sum((p[i] == 0) & (p[(i + 1) % 8] == 1) for i in range(8))
    common = (neighbours >= 2) & (neighbours <= 6) & (transitions == 1)
    p2, p4, p6, p8 = p[0], p[2], p[4], p[6]
    first = common & (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
    second = common & (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
    return first, second


_THIN_FIRST, _THIN_SECOND = _thinning_tables()


def thin(masks: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of boolean images (N, H, W) to 1-px skeletons, vectorised over the
    batch: each pass reads every pixel's neighbourhood code and looks up its rule."""
    img = np.pad(np.asarray(masks, np.uint8), ((0, 0), (1, 1), (1, 1)))
    changed = True
    while changed:
        changed = False
        for table in (_THIN_FIRST, _THIN_SECOND):
            # P2..P9: north, north-east, east, south-east, south, south-west, west, north-west
            code = (
                img[:, :-2, 1:-1]
                | img[:, :-2, 2:] << 1
                | img[:, 1:-1, 2:] << 2
                | img[:, 2:, 2:] << 3
                | img[:, 2:, 1:-1] << 4
                | img[:, 2:, :-2] << 5
                | img[:, 1:-1, :-2] << 6
                | img[:, :-2, :-2] << 7
            )
            remove = (img[:, 1:-1, 1:-1] == 1) & table[code]
            if remove.any():
                img[:, 1:-1, 1:-1][remove] = 0
                changed = True
    return img[:, 1:-1, 1:-1].astype(bool)


_STEPS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def pen_path(skeleton: np.ndarray) -> np.ndarray | None:
    """The skeleton as one pen path (x, y), in pixel coordinates: start at the topmost line end,
    follow the line (straight on at crossings), and lift the pen to the nearest part not yet
    drawn when the line runs out, as a writer would."""
    ys_np, xs_np = np.nonzero(skeleton)
    n = len(ys_np)
    if n < 2:
        return None
    ys, xs = ys_np.tolist(), xs_np.tolist()  # plain ints: this loop runs for every pixel
    index = {(y, x): i for i, (y, x) in enumerate(zip(ys, xs, strict=True))}
    # neighbours with their step: (pixel, dy, dx, step length penalty)
    near = [
        [
            (index[(y + dy, x + dx)], dy, dx, 0.01 * (abs(dy) + abs(dx)))
            for dy, dx in _STEPS
            if (y + dy, x + dx) in index
        ]
        for y, x in zip(ys, xs, strict=True)
    ]
    ends = [i for i in range(n) if len(near[i]) == 1] or list(range(n))
    current = min(ends, key=lambda i: (ys[i], xs[i]))
    visited = [False] * n
    visited[current] = True
    order = [current]
    hy, hx = 1.0, 0.0  # heading: writers start downwards
    while len(order) < n:
        best, best_score = -1, -9.0
        for j, dy, dx, penalty in near[current]:
            # straight on; on a tie the side step rather than the diagonal, so corners are drawn
            if not visited[j] and (score := dy * hy + dx * hx - penalty) > best_score:
                best, best_score = j, score
        if best < 0:  # pen lift: on to the nearest pixel not yet drawn
            left = np.flatnonzero(~np.array(visited))
            dist = (ys_np[left] - ys[current]) ** 2 + (xs_np[left] - xs[current]) ** 2
            best = int(left[np.argmin(dist)])
        dy, dx = ys[best] - ys[current], xs[best] - xs[current]
        length = (dy * dy + dx * dx) ** 0.5
        hy, hx = dy / length, dx / length
        current = best
        visited[current] = True
        order.append(current)
    return np.column_stack([xs_np[order], ys_np[order]]).astype(np.float64) + 0.5


def record(path: np.ndarray, points: int) -> list[tuple[float, float]]:
    """A pen path as a tablet database stores it: ``points`` points evenly spaced along it (the
    UCI pen-based digits keep 8)."""
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    at = np.linspace(0.0, arc[-1], points)
    return list(zip(np.interp(at, arc, path[:, 0]), np.interp(at, arc, path[:, 1]), strict=True))


def _draw_many(polylines: list[list[tuple[float, float]]], widths: np.ndarray) -> np.ndarray:
    """Draw each polyline as one 28 x 28 anti-aliased digit (uint8, N x 28 x 28): many at a time
    on one 4x canvas, shrunk once (one image per digit cost twice as long)."""
    per_row, cell = 20, SIZE * UPSAMPLE
    out = np.zeros((len(polylines), SIZE, SIZE), np.uint8)
    for start in range(0, len(polylines), per_row * per_row):
        chunk = polylines[start : start + per_row * per_row]
        rows = -(-len(chunk) // per_row)
        canvas = Image.new("L", (per_row * cell, rows * cell), 0)
        draw = ImageDraw.Draw(canvas)
        for k, line in enumerate(chunk):
            ox, oy = (k % per_row) * cell, (k // per_row) * cell
            width = max(1, round(widths[start + k] * UPSAMPLE))
            # a pen-width margin keeps each digit's strokes inside its own cell
            scaled = [
                (
                    ox + min(max(x * UPSAMPLE, width), cell - width),
                    oy + min(max(y * UPSAMPLE, width), cell - width),
                )
                for x, y in line
            ]
            draw.line(scaled, fill=255, width=width, joint="curve")
        small = np.asarray(canvas.resize((per_row * SIZE, rows * SIZE), Image.Resampling.BOX))
        tiles = (
            small.reshape(rows, SIZE, per_row, SIZE).transpose(0, 2, 1, 3).reshape(-1, SIZE, SIZE)
        )
        out[start : start + len(chunk)] = tiles[: len(chunk)]
    return out


def tablet_recordings(images: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A copy of ``images`` where ``share`` of the digits are redrawn as a pen tablet records
    them: each digit's skeleton traced as a pen path, kept as 8 to 12 points along it, drawn
    back as straight strokes. MNIST's own writers, in the coarse, angular form in which pen-based
    digit sets (and people drawing quickly on a screen) give digits."""
    if share <= 0:
        return images
    rng = np.random.default_rng(seed)
    out = images.copy()
    chosen = rng.choice(len(images), size=int(share * len(images)), replace=False)
    paths = [pen_path(s) for s in thin(images[chosen] > 100)]
    kept = [i for i, path in enumerate(paths) if path is not None]
    lines = [record(paths[i], int(rng.integers(8, 13))) for i in kept]
    out[chosen[kept]] = _draw_many(lines, rng.uniform(2.2, 3.2, len(lines)))
    return out
