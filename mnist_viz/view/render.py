"""Pictures as numpy arrays: channel grids, colour maps, legends and annotated pixel grids.

Everything here returns a uint8 RGB array that ``st.image`` shows directly. One tiled image is
~100x faster to draw than a matplotlib figure with one axis per channel, and upscaling by
repetition keeps every pixel a crisp square in the browser instead of a blur.
"""

from __future__ import annotations

import base64
import html
import io
from functools import lru_cache

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SEQUENTIAL_CMAP = "magma"  # activations: >= 0 after ReLU, dark = silent, bright = strongly active
DIVERGING_CMAP = "RdBu_r"  # weights: blue negative, white zero, red positive
GRID_COLOUR = (128, 128, 128)  # mid-grey separates tiles in both the light and the dark theme
TILE_GAP = 2  # px between tiles


@lru_cache(maxsize=8)
def _lut(cmap: str) -> np.ndarray:
    """The colour map as a (256, 3) uint8 lookup table."""
    colours = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3]
    return np.round(colours * 255).astype(np.uint8)


def share_of_peak(values: np.ndarray) -> np.ndarray:
    """``values`` divided by their maximum (unchanged when that is 0): a map drawn for its shape,
    not its strength."""
    values = np.asarray(values, dtype=np.float64)
    return values / (values.max() or 1.0)


def log_shade(counts: np.ndarray) -> np.ndarray:
    """Counts on a log scale, log(1 + n), for a table's shading: a confusion matrix's diagonal
    is hundreds of times its other cells, so a linear shade would hide every mistake."""
    return np.log1p(np.asarray(counts, dtype=np.float64))


def colourise(values: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """Map ``values`` linearly from [vmin, vmax] onto ``cmap``; returns (..., 3) uint8."""
    span = vmax - vmin if vmax > vmin else 1.0
    index = np.clip((np.asarray(values, np.float32) - vmin) / span, 0.0, 1.0)
    return _lut(cmap)[np.round(index * 255).astype(np.uint8)]


def symmetric_limit(values: np.ndarray) -> float:
    """The largest absolute value, so a diverging map puts zero exactly at its centre (white)."""
    limit = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return limit if limit > 0 else 1.0


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: every pixel becomes a ``factor`` x ``factor`` square."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def tile(
    tiles: np.ndarray, columns: int, scale: int = 1, gap: int = TILE_GAP, colour=GRID_COLOUR
) -> np.ndarray:
    """Lay out RGB tiles (N, h, w, 3) in a grid with ``columns`` per row, separated by ``gap`` px.

    Each tile is first enlarged ``scale`` times. Empty cells of the last row stay background.
    Vectorised (one repeat, one pad, one reshape): a 64-channel grid takes about a millisecond.
    """
    tiles = np.asarray(tiles, np.uint8)
    n = tiles.shape[0]
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    h, w = tiles.shape[1:3]
    padded = np.empty((rows * columns, h + gap, w + gap, 3), np.uint8)
    padded[:] = colour
    padded[:n, :h, :w] = tiles
    grid = padded.reshape(rows, columns, h + gap, w + gap, 3).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * (h + gap), columns * (w + gap), 3)
    out = np.empty((grid.shape[0] + gap, grid.shape[1] + gap, 3), np.uint8)
    out[:] = colour
    out[gap:, gap:] = grid
    return out


def grid_columns(channels: int) -> int:
    """Tiles per row for a layer's channels: 8 (4 rows) for 32, 16 (4 rows) for 64."""
    return 8 if channels <= 32 else 16


def channel_grid(
    maps: np.ndarray,
    columns: int = 8,
    scale: int = 4,
    cmap: str = SEQUENTIAL_CMAP,
    per_channel: bool = False,
) -> np.ndarray:
    """Every channel of a layer's output (h, w, C) as one tiled, coloured image.

    By default all channels share one scale (0 to the layer's maximum), so brightness can be
    compared between channels; ``per_channel`` stretches each one to its own maximum instead.
    """
    maps = np.moveaxis(np.asarray(maps, np.float32), -1, 0)  # (C, h, w)
    if per_channel:
        peak = maps.max(axis=(1, 2), keepdims=True)
        lo = maps.min(axis=(1, 2), keepdims=True)
        scaled = (maps - lo) / np.where(peak > lo, peak - lo, 1.0)
        coloured = colourise(scaled, cmap, 0.0, 1.0)
    else:
        coloured = colourise(maps, cmap, min(0.0, float(maps.min())), float(maps.max()) or 1.0)
    return tile(coloured, columns, scale)


def kernel_grid(
    kernels: np.ndarray, columns: int = 8, scale: int = 12, limit: float | None = None
) -> np.ndarray:
    """Convolution kernels (N, k, k) in the diverging map, zero = white, shared +/- ``limit``."""
    limit = symmetric_limit(kernels) if limit is None else limit
    return tile(colourise(kernels, DIVERGING_CMAP, -limit, limit), columns, scale)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def colour_bar(
    cmap: str, vmin: float, vmax: float, width: int = 320, height: int = 14, fmt: str = "{:+.2f}"
) -> np.ndarray:
    """A horizontal legend for ``cmap`` with its two ends (and zero, when inside) labelled."""
    ramp = colourise(np.linspace(vmin, vmax, width)[None].repeat(height, 0), cmap, vmin, vmax)
    ticks = [
        (0.0, "0" if vmin == 0 else fmt.format(vmin)),
        (1.0, "0" if vmax == 0 else fmt.format(vmax)),
    ]
    if vmin < 0 < vmax:
        ticks.append((-vmin / (vmax - vmin), "0"))
    return legend(ramp, ticks)


def legend(ramp: np.ndarray, ticks: list[tuple[float, str]]) -> np.ndarray:
    """A colour ramp (height, width, 3) on white with labelled ticks below it, each at a
    fraction 0..1 of its width."""
    height, width = ramp.shape[:2]
    label_h = 16
    canvas = Image.new("RGB", (width + 80, height + label_h), (255, 255, 255))
    canvas.paste(Image.fromarray(np.asarray(ramp, np.uint8)), (40, 0))
    draw = ImageDraw.Draw(canvas)
    font = _font(12)
    for fraction, text in ticks:
        x = 40 + round(fraction * (width - 1))
        draw.line([(x, height), (x, height + 3)], fill=(0, 0, 0))
        draw.text((x, height + 3), text, fill=(0, 0, 0), font=font, anchor="mt")
    return np.asarray(canvas)


def pixel_grid_svg(image: np.ndarray, cell: int = 20) -> str:
    """The 28 x 28 input as an SVG grid of squares on a ``cell``-unit pitch (plus a 1-unit
    line), each inked square in its own grey with its value (0-255) written in it. Blank (0)
    squares come from one repeated pattern and carry no number. Text is black from 118 up and
    white below: both keep 4.5:1 against their square (WCAG AA)."""
    values = to_bytes(image)
    rows, cols = values.shape
    pitch = cell + 1
    width, height = cols * pitch + 1, rows * pitch + 1
    squares, numbers = [], []
    for r, c in zip(*np.nonzero(values), strict=True):
        v = int(values[r, c])
        x, y = int(c) * pitch + 1, int(r) * pitch + 1
        squares.append(
            f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="#{v:02x}{v:02x}{v:02x}"/>'
        )
        ink = "#000" if v >= 118 else "#fff"
        numbers.append(f'<text x="{x + cell / 2:g}" y="{y + cell / 2:g}" fill="{ink}">{v}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">'
        # on each text itself: not every renderer lets text inherit it from the group
        "<style>text{dominant-baseline:central}</style>"
        f'<defs><pattern id="p" width="{pitch}" height="{pitch}" patternUnits="userSpaceOnUse">'
        f'<rect x="1" y="1" width="{cell}" height="{cell}" fill="#000"/></pattern></defs>'
        f'<rect width="{width}" height="{height}" fill="#555"/>'
        f'<rect width="{width}" height="{height}" fill="url(#p)"/>{"".join(squares)}'
        f'<g font-family="ui-monospace,monospace" font-size="{cell * 2 // 5}" '
        f'text-anchor="middle">{"".join(numbers)}</g></svg>'
    )


def pixel_grid_html(image: np.ndarray, cell: int = 20, min_cell: int = 16) -> str:
    """The 28 x 28 input with every pixel's value written in its square (``pixel_grid_svg``),
    as one image.

    One image, not 784 HTML squares: the page redraws it after every stroke, and as elements
    the squares cost the browser about 30 ms more per answer and 1,600 more nodes (measured in
    Chromium 150). The grid shrinks with its column, from ``cell``-pixel squares down to
    ``min_cell`` (where three digits still read); on a narrower screen (a phone) it keeps that
    size and scrolls sideways inside its own box, so the page is never wider than the screen.
    """
    values = to_bytes(image)
    rows, cols = values.shape
    svg = base64.b64encode(pixel_grid_svg(values, cell).encode()).decode()
    largest, smallest = cols * (cell + 1) + 1, cols * (min_cell + 1) + 1
    style = (
        ".mv-pxbox{container-type:inline-size;overflow-x:auto;max-width:100%}"
        f".mv-px{{display:block;width:clamp({smallest}px,100cqw,{largest}px);height:auto}}"
    )
    inked = int(np.count_nonzero(values))
    alt = f"{rows} by {cols} pixel values; {inked} of {values.size} are above 0 (ink)" + (
        f", the largest {int(values.max())}" if inked else ""
    )
    return (
        f'<style>{style}</style><div class="mv-pxbox"><img class="mv-px" alt="{alt}" '
        f'src="data:image/svg+xml;base64,{svg}"></div>'
    )


def phone_answer_html(digit: int, confidence: float) -> str:
    """The answer in one line, for right under the drawing pad: shown on narrow screens, where
    the full answer sits below the fold, and read by screen readers on every screen
    (ui/style.css)."""
    return f'<p class="mv-phone-answer">Prediction: <b>{int(digit)}</b> ({confidence:.0%} sure)</p>'


def to_bytes(image: np.ndarray) -> np.ndarray:
    """uint8 images pass through; float images in [0, 1] become 0-255 as MNIST stores them."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def grey_image(image: np.ndarray, scale: int = 1) -> np.ndarray:
    """A [0, 1] or uint8 grey image as uint8 RGB, optionally enlarged (for crisp thumbnails)."""
    grey = to_bytes(image)
    rgb = np.stack([grey] * 3, axis=-1)
    return upscale(rgb, scale) if scale > 1 else rgb


def pad_square(image: np.ndarray) -> np.ndarray:
    """Pad a grey image with black to a square, centred, so tall and wide crops show alike."""
    image = np.asarray(image)
    h, w = image.shape[:2]
    side = max(h, w)
    out = np.zeros((side, side, *image.shape[2:]), image.dtype)
    y, x = (side - h) // 2, (side - w) // 2
    out[y : y + h, x : x + w] = image
    return out


def png(image: np.ndarray, compress_level: int = 1) -> bytes:
    """PNG bytes for ``st.image``: lossless (Streamlit would send an RGB array as JPEG, which
    smears crisp pixels and printed numbers), and fast (level 1 is ~4x quicker than the default
    and barely larger for these flat, enlarged images)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(
        buffer, format="PNG", compress_level=compress_level
    )
    return buffer.getvalue()


def data_url(image: np.ndarray) -> str:
    """A small image (grey [0, 1] / uint8, or RGB uint8) as an inline PNG data URL."""
    image = np.asarray(image)
    pixels = to_bytes(image) if image.ndim == 2 else np.asarray(image, np.uint8)
    return "data:image/png;base64," + base64.b64encode(png(pixels)).decode("ascii")


def figures_html(images: list[np.ndarray], captions: list[str], size: int = 150) -> str:
    """A row of images with captions as one HTML snippet, each image inline as PNG data.

    For images that change on every answer (the preprocessing stages): no media files for the
    server to keep and serve, no extra requests for the browser. Small images are enlarged by the
    browser with crisp square pixels (``image-rendering: pixelated``), as the network sees them.
    """
    figures = []
    for image, caption in zip(images, captions, strict=True):
        figures.append(
            f'<figure><img src="{data_url(image)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    # One class per size: st.html's styles are global, and a page may show several sizes.
    box = f"mv-figs-{size}"
    style = (
        f".{box}{{display:flex;flex-wrap:wrap;gap:1rem;margin:0}}"
        f".{box} figure{{margin:0;width:{size}px}}"
        f".{box} img{{width:{size}px;height:{size}px;object-fit:contain;background:#000;"
        "image-rendering:pixelated;display:block}"
        f".{box} figcaption{{font-size:0.8rem;opacity:0.8;margin-top:0.3rem;line-height:1.3}}"
    )
    return f'<style>{style}</style><div class="{box}">{"".join(figures)}</div>'


HEAT_CMAP = "inferno"  # maps >= 0: dark = none, yellow = the top of the scale
# Signed maps over the digit: red where positive, blue where negative, light enough to read on
# the digit's black background; strength grows with |value|, and zero leaves the digit as it is.
POSITIVE_COLOUR = (255, 92, 72)
NEGATIVE_COLOUR = (84, 164, 255)
MAP_ALPHA = 0.8


def _map_colours(values: np.ndarray, limit: float, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """(colour (..., 3) float, strength (...) in [0, 1]) of each value on the scale +/- limit."""
    values = np.asarray(values, np.float32)
    level = np.clip(np.abs(values) / limit if limit > 0 else 0 * values, 0.0, 1.0)
    if signed:
        colour = np.where(
            (values >= 0)[..., None],
            np.array(POSITIVE_COLOUR, np.float32),
            np.array(NEGATIVE_COLOUR, np.float32),
        )
    else:
        level = np.where(values > 0, level, 0.0)
        colour = colourise(level, HEAT_CMAP, 0.0, 1.0).astype(np.float32)
    return colour, level


def overlay(
    image: np.ndarray,
    heat: np.ndarray,
    limit: float,
    signed: bool = False,
    scale: int = 8,
    alpha: float = MAP_ALPHA,
) -> np.ndarray:
    """A map (28, 28) over the grey digit, both enlarged, on an absolute scale: each pixel is
    blended with its colour in proportion to |value| / ``limit`` (full colour at the limit, the
    digit alone at zero), never to the map's own maximum, so a weak map looks weak. Unsigned maps
    use ``HEAT_CMAP``; signed ones red where positive, blue where negative."""
    grey = grey_image(image).astype(np.float32)
    colour, level = _map_colours(heat, limit, signed)
    weight = alpha * level[..., None]
    blended = np.round(grey * (1 - weight) + colour * weight).astype(np.uint8)
    return upscale(blended, scale) if scale > 1 else blended


def overlay_legend(
    limit: float, signed: bool, ends: tuple[str, str], width: int = 200, height: int = 14
) -> np.ndarray:
    """The legend of ``overlay``: what a black background pixel becomes at each value of the
    scale, with the ends labelled ``ends`` (and zero in the middle of a signed scale)."""
    low = -limit if signed else 0.0
    values = np.linspace(low, limit, width, dtype=np.float32)[None].repeat(height, 0)
    ramp = overlay(np.zeros((height, width), np.float32), values, limit, signed, scale=1)
    ticks = [(0.0, ends[0]), (1.0, ends[1])]
    if signed:
        ticks.append((0.5, "0"))
    return legend(ramp, ticks)


def outline(
    rgb: np.ndarray, box: tuple[int, int, int, int], scale: int, colour=(228, 87, 46)
) -> np.ndarray:
    """Draw a 1-px rectangle around input pixels box = (top, left, bottom, right) on an image that
    was enlarged ``scale`` times (the box is clipped to the image)."""
    out = rgb.copy()
    h, w = out.shape[:2]
    top, left, bottom, right = box
    y0, x0 = max(0, top * scale), max(0, left * scale)
    y1, x1 = min(h - 1, (bottom + 1) * scale - 1), min(w - 1, (right + 1) * scale - 1)
    out[y0, x0 : x1 + 1] = colour
    out[y1, x0 : x1 + 1] = colour
    out[y0 : y1 + 1, x0] = colour
    out[y0 : y1 + 1, x1] = colour
    return out


def class_rows(
    images: np.ndarray, labels: np.ndarray, per_class: int, scale: int = 2
) -> np.ndarray:
    """One row per digit 0-9 of the first ``per_class`` images of that class, tiled as RGB."""
    picks = [np.flatnonzero(np.asarray(labels) == d)[:per_class] for d in range(10)]
    tiles = np.zeros((10 * per_class, *np.asarray(images).shape[1:3], 3), np.uint8)
    for d, chosen in enumerate(picks):
        for k, i in enumerate(chosen):
            tiles[d * per_class + k] = grey_image(images[i])
    return tile(tiles, per_class, scale=scale)


def grey_row(images: np.ndarray, scale: int = 2) -> np.ndarray:
    """Grey images ([0, 1] or uint8) side by side in one tiled row."""
    return tile(np.stack([grey_image(i) for i in images]), len(images), scale=scale)


def difference_row(first: np.ndarray, second: np.ndarray, scale: int = 2) -> np.ndarray:
    """``second - first`` image by image, red where the second has more ink, blue where less
    (one colour scale for the whole row, zero white)."""
    diff = np.asarray(second, np.float32) - np.asarray(first, np.float32)
    limit = symmetric_limit(diff)
    return tile(colourise(diff, DIVERGING_CMAP, -limit, limit), len(diff), scale=scale)
