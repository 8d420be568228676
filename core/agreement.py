"""Inter-rater agreement: Krippendorff's alpha for interval data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction


def _squared_differences(values: Sequence[int | float | Fraction]) -> Fraction:
    """Sum of (a - b)^2 over every ordered pair of distinct positions: 2(m·Σv² − (Σv)²)."""
    exact = [Fraction(v) for v in values]
    total = sum(exact, Fraction(0))
    squares = sum((v * v for v in exact), Fraction(0))
    return 2 * (len(exact) * squares - total * total)


def interval_alpha(units: Iterable[Sequence[int | float]]) -> float | None:
    """Krippendorff's alpha with the interval metric (a squared difference).

    Each unit lists the values different raters gave it; units with fewer than two values are
    not pairable and are left out. Returns None when nothing is pairable or every pairable value
    is the same (the expected disagreement is zero, so alpha is undefined).
    """
    pairable = [list(u) for u in units if len(u) >= 2]
    n = sum(len(u) for u in pairable)
    if n < 2:
        return None
    everything = [v for u in pairable for v in u]
    expected = _squared_differences(everything)
    if expected == 0:
        return None
    observed = sum((_squared_differences(u) / (len(u) - 1) for u in pairable), Fraction(0))
    return float(1 - (n - 1) * observed / expected)
