"""How an attribution map is read: in its own unit, signed where it can be negative, on one colour
scale shared by all ten classes, with its range in numbers and a word when nothing in it matters.

A map drawn to its own maximum turns rounding noise into a confident picture: occlusion for a
class at 0% may change that class's probability by 0.0005 at most, and would be drawn as brightly
as the predicted class's 0.4. Here each method has one scale per digit, the largest magnitude any
class reaches (never below the method's negligible level), so maps of two classes can be compared
by eye, and a map whose largest effect is below that level is announced as negligible in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Unit:
    """What a map's numbers are, and how they are written."""

    name: str  # "drop in the class's probability"
    symbol: str  # "pp"
    factor: float = 1.0  # written value = value x factor (a probability as percentage points)
    places: int = 3
    negligible: float = 0.0  # in the map's own numbers: a largest effect below this is noise

    def number(self, value: float, signed: bool = False) -> str:
        """``value`` as a number in this unit: "+9.6" (signed), "0.042"."""
        shown = value * self.factor
        if abs(shown) < 0.5 * 10**-self.places:
            shown = 0.0  # no "-0.0"
        return f"{shown:+.{self.places}f}" if signed and shown != 0 else f"{shown:.{self.places}f}"

    def text(self, value: float, signed: bool = False) -> str:
        """``value`` as the page writes it: "+9.6 pp", "0.042 logit"."""
        return f"{self.number(value, signed)} {self.symbol}"


@dataclass(frozen=True)
class Reading:
    """One class's map as the page shows it."""

    class_index: int
    values: np.ndarray  # (28, 28) in the unit's numbers
    limit: float  # the colour scale runs to +/- limit (signed) or 0..limit; same for every class
    signed: bool
    unit: Unit

    @property
    def low(self) -> float:
        return float(self.values.min())

    @property
    def high(self) -> float:
        return float(self.values.max())

    @property
    def peak(self) -> float:
        """The largest magnitude in the map."""
        return float(np.abs(self.values).max())

    @property
    def negligible(self) -> bool:
        """Its largest effect is below the unit's negligible level."""
        return self.peak < self.unit.negligible

    def range_text(self) -> str:
        """ "from -9.6 pp to +0.1 pp" (signed) or "from 0.000 to 0.042 logit"."""
        if self.signed:
            return f"from {self.unit.text(self.low, True)} to {self.unit.text(self.high, True)}"
        return f"from {self.unit.text(self.low)} to {self.unit.text(self.high)}"

    def scale_ends(self) -> tuple[str, str]:
        """The colour scale's two ends as numbers in the unit: ("-9.6", "+9.6") or ("0", "0.042")."""
        low = self.unit.number(-self.limit, True) if self.signed else "0"
        return low, self.unit.number(self.limit, self.signed)

    def scale_text(self) -> str:
        """ "colour scale -9.6 to +9.6 pp, the same for all ten classes"."""
        low, high = self.scale_ends()
        return f"colour scale {low} to {high} {self.unit.symbol}, the same for all ten classes"

    def verdict(self) -> str | None:
        """A sentence when the map is negligible (nothing in it is drawn as if it mattered)."""
        if not self.negligible:
            return None
        return (
            f"Negligible for {self.class_index}: nowhere does it reach "
            f"{self.unit.text(self.unit.negligible)} of {self.unit.name}."
        )


def shared_limit(maps: np.ndarray, unit: Unit) -> float:
    """The colour scale's end for a method's maps of all ten classes (10, 28, 28): the largest
    magnitude among them, and at least the unit's negligible level, so that noise is never
    stretched to full colour even when every class's map is negligible."""
    largest = float(np.abs(maps).max()) if np.size(maps) else 0.0
    return max(largest, unit.negligible, np.finfo(np.float32).tiny)


def read(maps: np.ndarray, class_index: int, unit: Unit, signed: bool) -> Reading:
    """Class ``class_index``'s map out of a method's maps for all ten classes, on their scale."""
    maps = np.asarray(maps)
    return Reading(int(class_index), maps[int(class_index)], shared_limit(maps, unit), signed, unit)
