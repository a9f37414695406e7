"""Text alternatives for the app's images: what each picture shows, in words a screen reader
speaks (WCAG 1.1.1). Each says what is drawn and the one or two facts a sighted learner reads
from it, computed from the same numbers the picture is drawn from."""

from __future__ import annotations

import numpy as np

__all__ = [
    "attribution",
    "attribution_scale",
    "change_numbers",
    "colour_scale",
    "feature_maps",
    "hot_spot",
    "kernels",
    "listing",
    "map_change",
    "strongest",
]


def listing(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def strongest(values: np.ndarray, count: int = 2) -> list[int]:
    """The indices of the ``count`` largest values, largest first (ties: lower index first)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(-values, kind="stable")
    return [int(i) for i in order[: min(count, len(values))]]


def feature_maps(layer: str, maps: np.ndarray, subject: str) -> str:
    """ "conv1's 32 feature maps for your drawing of a 7; the brightest are maps 5 and 12."

    ``maps``: (height, width, channels) activations; brightest by mean activation."""
    maps = np.asarray(maps)
    channels = maps.shape[-1]
    means = maps.reshape(-1, channels).mean(axis=0)
    if not np.any(means > 0):
        return f"{layer}'s {channels} feature maps for {subject}; all are dark (no response)."
    top = [i for i in strongest(means) if means[i] > 0]
    word = "map" if len(top) == 1 else "maps"
    return (
        f"{layer}'s {channels} feature maps for {subject}, {maps.shape[0]} x {maps.shape[1]} "
        f"each; the brightest {'is' if len(top) == 1 else 'are'} {word} {listing(top)}."
    )


def change_numbers(before: np.ndarray, after: np.ndarray, limit: float) -> str:
    """ "colour scale -4.00 to +4.00; changes from -2.00 to +1.00, the largest in maps 4 and 1"
    for a layer's maps (h, w, C) before and after, drawn on +/- ``limit``."""
    change = np.asarray(after, np.float64) - np.asarray(before, np.float64)
    size = np.abs(change)
    scale = f"colour scale -{limit:.2f} to +{limit:.2f}"
    if not np.any(size > 0):
        return f"{scale}; not at all"
    most = strongest(size.reshape(-1, size.shape[-1]).sum(axis=0))
    return (
        f"{scale}; changes from {change.min():+.2f} to {change.max():+.2f}, the largest in maps "
        f"{listing(most)}"
    )


def map_change(layer: str, before: np.ndarray, after: np.ndarray, limit: float) -> str:
    """How a layer's maps changed between two inputs, drawn on +/- ``limit``: the scale, the range
    of the change and which maps changed most (summed |change|)."""
    channels = np.asarray(after).shape[-1]
    return (
        f"How {layer}'s {channels} maps changed, adversarial minus original (blue less, red "
        f"more): {change_numbers(before, after, limit)}."
    )


def kernels(what: str, weights: np.ndarray) -> str:
    """ "conv1's 32 filters, each a 3 x 3 grid of weights (red positive, blue negative); weights
    run from -0.52 to 0.61, and filter 7 has the largest." ``weights``: (n, k, k)."""
    weights = np.asarray(weights)
    n, size = weights.shape[0], " x ".join(str(s) for s in weights.shape[1:])
    energy = np.abs(weights.reshape(n, -1)).sum(axis=1)
    return (
        f"{what}: {n} grid{'s' if n != 1 else ''} of {size} weights, red positive, blue "
        f"negative, white zero; weights run from {float(weights.min()):.2f} to "
        f"{float(weights.max()):.2f}, and number {strongest(energy, 1)[0]} has the largest."
    )


def colour_scale(what: str, low: float, high: float, colours: str, fmt: str = "{:.2f}") -> str:
    """ "Colour scale for weight: blue at -0.42, white at 0, red at 0.42." """
    return f"Colour scale for {what}, from {fmt.format(low)} to {fmt.format(high)}: {colours}."


def _third(index: float, size: int, words: tuple[str, str, str]) -> str:
    return words[min(2, int(3 * index / size))]


def hot_spot(heat: np.ndarray, window: int = 5) -> str:
    """Where a map is strongest, in words: "rows 8-12, columns 14-18 (top right)": the
    ``window`` x ``window`` square with the largest sum."""
    heat = np.asarray(heat, dtype=np.float64)
    if not np.any(heat > 0):
        return "nowhere (the map is empty)"
    h, w = heat.shape
    k = min(window, h, w)
    sums = np.lib.stride_tricks.sliding_window_view(heat, (k, k)).sum(axis=(2, 3))
    top, left = (int(i) for i in np.unravel_index(np.argmax(sums), sums.shape))
    row = _third(top + k / 2, h, ("top", "middle", "bottom"))
    col = _third(left + k / 2, w, ("left", "centre", "right"))
    place = "centre" if (row, col) == ("middle", "centre") else f"{row} {col}"
    return f"rows {top}-{top + k - 1}, columns {left}-{left + k - 1} ({place})"


def attribution_scale(title: str, reading) -> str:
    """The text alternative of an attribution map's legend: its unit, ends and colours."""
    colours = (
        "blue below zero, the digit alone at zero, red above"
        if reading.signed
        else "the digit alone at zero, through red, to yellow at the top"
    )
    return f"Colour scale for {title}, in {reading.unit.name}: {reading.scale_text()}; {colours}."


def attribution(title: str, reading) -> str:
    """The text alternative of an attribution map (``explain.reading.Reading``) drawn over the
    digit: what it is for, its range and scale in numbers, where it is strongest (for a signed
    map, strongest each way), and the verdict when it is negligible."""
    unit = reading.unit
    text = (
        f"{title} for the score of {reading.class_index}, drawn over the digit, in "
        f"{unit.name}: {reading.range_text()} ({reading.scale_text()})."
    )
    if reading.negligible:
        return f"{text} {reading.verdict()}"
    if reading.signed:
        parts = []
        if reading.high > 0:
            parts.append(f"red, strongest at {hot_spot(np.maximum(reading.values, 0))}")
        if reading.low < 0:
            parts.append(f"blue, strongest at {hot_spot(np.maximum(-reading.values, 0))}")
        said = listing(parts)
        return f"{text} {said[0].upper()}{said[1:]}."
    return f"{text} Strongest at {hot_spot(reading.values)}."
