"""Shared helpers of the ranking indices: score direction, masks, true ranks, top-K picks.

Conventions used by every index of this package:

- A proxy's raw scores are *oriented* by its declared direction (multiplied by -1 when
  lower is better) so that larger always means "the proxy prefers it". No other
  transform (log, abs) is applied.
- An architecture whose score is NaN failed; it is never picked and is dropped where an
  index needs paired values. Architectures whose accuracy is not finite are not part of
  the pool at all.
- The *true rank* of an architecture is the number of architectures in the pool with a
  strictly higher accuracy (0 = best; ties share the better rank).
- Ties in the proxy's score are broken uniformly at random *in expectation*: an index
  reports its expected value over all tie-breaks (for a single pick that is the mean over
  the tied architectures), so the value never depends on row order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

#: The paper reports BR@K and P@K for the top 0.1 % and the top 5 % of the pool.
DEFAULT_TOP_FRACTIONS: tuple[float, ...] = (0.001, 0.05)


def oriented_scores(scores: Any, higher_is_better: bool) -> np.ndarray:
    """Scores as floats, multiplied by -1 for a lower-is-better proxy (NaN stays NaN)."""
    values = np.asarray(scores, dtype=float)
    return values if higher_is_better else -values


def true_ranks(accuracy: np.ndarray) -> np.ndarray:
    """For each entry, how many entries have a strictly higher accuracy (0 = best)."""
    acc = np.asarray(accuracy, dtype=float)
    ordered = np.sort(acc)
    return (acc.size - np.searchsorted(ordered, acc, side="right")).astype(float)


def top_count(fraction: float, n: int) -> int:
    """K for "top ``fraction`` of ``n``": ``fraction * n`` rounded half up, at least 1, at most ``n``."""
    if not 0 < fraction <= 1:
        raise ValueError(f"top-K fraction must be in (0, 1], got {fraction!r}")
    return max(1, min(n, math.floor(fraction * n + 0.5)))


def fraction_label(fraction: float) -> str:
    """``0.05 -> "5%"``, ``0.001 -> "0.1%"``: the suffix of companion keys."""
    return f"{fraction * 100:g}%"


def top_fractions(options: dict[str, Any] | Any) -> tuple[float, ...]:
    """The ``k`` option as a tuple of fractions (a single number or a sequence)."""
    value = options.get("k", DEFAULT_TOP_FRACTIONS) if options else DEFAULT_TOP_FRACTIONS
    if isinstance(value, (int, float)):
        return (float(value),)
    fractions = tuple(float(v) for v in value)
    if not fractions:
        raise ValueError("option 'k' needs at least one fraction")
    return fractions


def top_k_split(oriented: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The proxy's top ``k`` among finite ``oriented`` scores, with ties at the cut-off.

    Returns:
        ``(sure, tied, slots)``: indices certainly in the top ``k`` (strictly above the
        k-th best score), indices tied at the k-th best score, and how many of the tied
        ones the top ``k`` takes. With fewer than ``k`` finite scores every finite one is
        ``sure`` and ``slots`` is 0.
    """
    finite = np.flatnonzero(np.isfinite(oriented))
    if finite.size <= k:
        return finite, np.empty(0, dtype=int), 0
    values = oriented[finite]
    cut = np.sort(values)[::-1][k - 1]
    sure = finite[values > cut]
    tied = finite[values == cut]
    return sure, tied, k - sure.size


def expected_min_of_subset(sorted_values: Sequence[float], size: int) -> np.ndarray:
    """Probability that the minimum of a uniformly drawn ``size``-subset of ``sorted_values``
    (ascending) is the j-th value, for every j."""
    t = len(sorted_values)
    probs = np.zeros(t)
    if size <= 0 or t == 0:
        return probs
    # P(min is the j-th smallest) = C(t-1-j, size-1) / C(t, size), j counted from 0.
    log_total = _log_comb(t, size)
    for j in range(t - size + 1):
        probs[j] = math.exp(_log_comb(t - 1 - j, size - 1) - log_total)
    return probs


def _log_comb(n: int, r: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(r + 1) - math.lgamma(n - r + 1)


def pool_mask(accuracy: np.ndarray) -> np.ndarray:
    """Architectures that belong to the pool: those with a finite accuracy."""
    return np.isfinite(np.asarray(accuracy, dtype=float))


def as_float_dict(items: Iterable[tuple[str, float]]) -> dict[str, float]:
    """A result mapping with plain Python floats (JSON-friendly)."""
    return {key: float(value) for key, value in items}
