"""Top-K indices: best rank among the proxy's top-K (BR@K) and precision at K (P@K)."""

from __future__ import annotations

import numpy as np

import zsbench
from zsbench.ranking import (
    DEFAULT_TOP_FRACTIONS,
    expected_min_of_subset,
    fraction_label,
    oriented_scores,
    parse_fractions,
    pool_mask,
    top_count,
    top_k_split,
    true_ranks,
)


class TopKMetric(zsbench.Metric):
    """Base of BR@K and P@K: K = ``f * N`` rounded half up (at least 1) for each fraction ``f`` of
    option ``k`` (default 0.1 % and 5 %); N counts every architecture with an accuracy,
    failed ones included (a proxy that fails cannot pick them).

    The first fraction's value is the entry ``self.name`` (``br_at_k``: K = 0.1 % by
    default), each further fraction's is the companion ``<name>/<f>%`` (``br_at_k/5%``), and
    ``<name>/K@<f>%`` is the K used for every fraction.

    A proxy whose every score failed picks nothing: every value is NaN (as for the
    correlations and mBR), not the worst value.
    """

    group = "top-k"
    companions = (("K@", "setting"), ("", "estimate"))
    options = (
        zsbench.MetricOption(
            "k", parse_fractions, DEFAULT_TOP_FRACTIONS, "fractions of N for K, comma-separated (each in (0, 1])"
        ),
    )

    def compute(self, data: zsbench.MetricInput) -> dict[str, float]:
        """Values for every requested fraction (see the class docstring)."""
        keep = pool_mask(data.accuracy)
        accuracy = np.asarray(data.accuracy, dtype=float)[keep]
        scores = oriented_scores(data.scores, data.higher_is_better)[keep]
        ranks = true_ranks(accuracy)
        n = accuracy.size
        result: dict[str, float] = {}
        any_score = bool(np.isfinite(scores).any())
        for position, fraction in enumerate(parse_fractions(data.options.get("k", DEFAULT_TOP_FRACTIONS))):
            if n == 0:
                value, k = float("nan"), 0
            elif not any_score:
                value, k = float("nan"), top_count(fraction, n)
                value, k = float("nan"), 0
            else:
                k = top_count(fraction, n)
                value = self.value_at(scores, ranks, k, n)
            label = fraction_label(fraction)
            result[self.name if position == 0 else f"{self.name}/{label}"] = value
            result[f"{self.name}/K@{label}"] = float(k)
        return result

    def value_at(self, scores: np.ndarray, ranks: np.ndarray, k: int, n: int) -> float:
        """The index for one K (``scores`` oriented, ``ranks`` true ranks, ``n`` pool size)."""
        raise NotImplementedError


class BestRankAtK(TopKMetric):
    """BR@K: the best true rank among the proxy's top-K architectures, divided by N."""

    name = "br_at_k"
    order = 40
    higher_is_better = False
    description = "best true rank among the proxy's top-K, / N (0 is best; K = 0.1 % and 5 % of N)"

    def value_at(self, scores: np.ndarray, ranks: np.ndarray, k: int, n: int) -> float:
        """Expected best rank (over tie-breaks at the cut-off) of the top-K, divided by ``n``."""
        sure, tied, slots = top_k_split(scores, k)
        if sure.size == 0 and slots == 0:
            return float("nan")  # every score failed: nothing was picked
        best_sure = ranks[sure].min() if sure.size else np.inf
        if slots == 0:
            return float(best_sure / n)
        tied_ranks = np.sort(ranks[tied])
        probs = expected_min_of_subset(tied_ranks, slots)
        expected = float(np.sum(probs * np.minimum(tied_ranks, best_sure)))
        return expected / n


class PrecisionAtK(TopKMetric):
    """P@K: the share of the proxy's top-K that are in the true top-K."""

    name = "p_at_k"
    order = 50
    higher_is_better = True
    description = "share of the proxy's top-K that are in the true top-K (K = 0.1 % and 5 % of N)"

    def value_at(self, scores: np.ndarray, ranks: np.ndarray, k: int, n: int) -> float:
        """Expected hits (over tie-breaks at the cut-off) divided by ``k``.

        An architecture is in the true top-K when fewer than K architectures are strictly
        more accurate, so accuracy ties at the border all count as inside. Places the proxy
        could not fill because its scores failed count as misses.
        """
        sure, tied, slots = top_k_split(scores, k)
        hits = float(np.sum(ranks[sure] < k))
        if slots:
            hits += slots * float(np.mean(ranks[tied] < k))
        return hits / k
