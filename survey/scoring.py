"""Scoring: NPS, the 0..10 distribution, Likert statements, free-text share.

Pure functions over counts and values, exactly as the counties report them:
NPS = share of 9-10 minus share of 0-6 in percentage points, one decimal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: float, places: int) -> float:
    """Round as reports do (83.25 -> 83.3), not to even."""
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP))


def distribution(values: Iterable[int], low: int = 0, high: int = 10) -> list[int]:
    """Counts of each value low..high; values outside the range are an error."""
    counts = [0] * (high - low + 1)
    for v in values:
        if not low <= v <= high:
            raise ValueError(f"value {v} outside {low}..{high}")
        counts[v - low] += 1
    return counts


@dataclass(frozen=True)
class NpsSummary:
    """The main table's figures for one group (counts are of answers 0..10)."""

    n: int
    counts: tuple[int, ...]
    shares: tuple[float, ...]  # percent, one decimal
    mean: float | None  # two decimals
    nps: float | None  # percentage points, one decimal
    promoters: int
    passives: int
    detractors: int


def nps_from_counts(counts: Sequence[int]) -> float | None:
    """NPS of an 11-bucket distribution (answers 0..10), one decimal; None when empty."""
    if len(counts) != 11:
        raise ValueError("an NPS distribution has 11 counts (0..10)")
    n = sum(counts)
    if n == 0:
        return None
    promoters = counts[9] + counts[10]
    detractors = sum(counts[0:7])
    return round_half_up((promoters - detractors) * 100 / n, 1)


def nps_summary(counts: Sequence[int]) -> NpsSummary:
    """Counts, shares, mean and NPS of an 11-bucket distribution."""
    if len(counts) != 11 or any(c < 0 for c in counts):
        raise ValueError("an NPS distribution has 11 non-negative counts (0..10)")
    n = sum(counts)
    shares = tuple(round_half_up(c * 100 / n, 1) if n else 0.0 for c in counts)
    mean = round_half_up(sum(i * c for i, c in enumerate(counts)) / n, 2) if n else None
    return NpsSummary(
        n=n, counts=tuple(counts), shares=shares, mean=mean, nps=nps_from_counts(counts),
        promoters=counts[9] + counts[10], passives=counts[7] + counts[8],
        detractors=sum(counts[0:7]),
    )


@dataclass(frozen=True)
class LikertSummary:
    """One statement: mean on 1-5 (two decimals), n, the share agreeing (4-5), the share of
    fives (the counties' target measure) and the share of each answer 1..5."""

    n: int
    counts: tuple[int, ...]
    mean: float | None
    agree_share: float | None  # percent, one decimal
    top_share: float | None = None  # percent of 5s, one decimal
    shares: tuple[float, ...] = ()  # percent of each answer 1..5, one decimal


def likert_summary(counts: Sequence[int]) -> LikertSummary:
    """Summary of a 5-bucket distribution (answers 1..5)."""
    if len(counts) != 5 or any(c < 0 for c in counts):
        raise ValueError("a Likert distribution has 5 non-negative counts (1..5)")
    n = sum(counts)
    if n == 0:
        return LikertSummary(0, tuple(counts), None, None)
    mean = round_half_up(sum((i + 1) * c for i, c in enumerate(counts)) / n, 2)
    agree = round_half_up((counts[3] + counts[4]) * 100 / n, 1)
    shares = tuple(round_half_up(c * 100 / n, 1) for c in counts)
    return LikertSummary(n, tuple(counts), mean, agree, shares[4], shares)


def text_share(with_text: int, total: int) -> float | None:
    """Percent of responses that have free text, one decimal; None when there are none."""
    if total == 0:
        return None
    if not 0 <= with_text <= total:
        raise ValueError("with_text must be between 0 and total")
    return round_half_up(with_text * 100 / total, 1)
