"""mBR, the mean best rank under budget constraints (NAS-Bench-Zero, section 3.4).

For a budget kind (FLOPs, params or depth) the pool's cost range is cut by M evenly
spaced thresholds ``t_m = lo + m / M * (hi - lo)``, m = 1..M (20 %, 40 %, ..., 100 % of
the range for the default M = 5). For each threshold:

- ``S_m`` = the architectures whose cost is at most ``t_m``;
- the proxy picks its best-scored architecture of ``S_m`` (failed scores cannot be
  picked; tied best scores count as the mean over the tied architectures);
- ``r_m`` = how many architectures of ``S_m`` are strictly more accurate than the pick,
  ``BR_m = r_m / max(|S_m| - 1, 1)`` (0: the proxy found the best one, 1: the worst);
- when every score in ``S_m`` failed the proxy picks nothing there and ``BR_m = 1``
  (the worst), since it could have picked elsewhere.

A proxy whose every score failed picks nothing at all: mBR and every companion are NaN,
as for the correlations and the top-K indices. An architecture whose cost is unknown (NaN)
is in no budget: it can be neither picked nor counted as more accurate than a pick, and the
thresholds come from the known costs only; with no known cost mBR is NaN.

mBR is the mean of the ``BR_m``. Companions: ``<name>/br@<p>%`` (each ``BR_m``) and
``<name>/acc@<p>%``, the true accuracy of each pick (NaN when nothing was picked),
where ``<p>`` is the threshold's position in the range (``m / M * 100``).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import zsbench
from zsbench.ranking import oriented_scores, parse_positive_int, pool_mask, true_ranks

DEFAULT_BUDGETS = 5


class MeanBestRank(zsbench.Metric):
    """mBR for one budget kind (see the module docstring)."""

    higher_is_better = False
    group = "budget"
    companions = (("br@", "detail"), ("acc@", "pick"))
    options = (
        zsbench.MetricOption(
            "budgets", parse_positive_int, DEFAULT_BUDGETS, "number M of evenly spaced budget thresholds (at least 1)"
        ),
    )
    cost_column: ClassVar[str]

    def compute(self, data: zsbench.MetricInput) -> dict[str, float]:
        """mBR and its per-budget companions."""
        if data.costs is None or self.cost_column not in data.costs:
            raise ValueError(f"{self.name} needs the '{self.cost_column}' cost of every architecture")
        keep = pool_mask(data.accuracy)
        cost = np.asarray(data.costs[self.cost_column], dtype=float)[keep]
        accuracy = np.asarray(data.accuracy, dtype=float)[keep]
        scores = oriented_scores(data.scores, data.higher_is_better)[keep]
        m_total = parse_positive_int(data.options.get("budgets", DEFAULT_BUDGETS))
        placed = np.isfinite(cost)
        result: dict[str, float] = {}
        if not placed.any() or not np.isfinite(scores).any():
            return {self.name: float("nan")}
        lo, hi = float(cost[placed].min()), float(cost[placed].max())
        best_ranks = []
        for m in range(1, m_total + 1):
            threshold = lo + (hi - lo) * m / m_total
            # costs are integers or float sums; a relative tolerance keeps the top budget's
            # own maximum inside despite rounding in `lo + (hi - lo) * 1.0`
            in_budget = placed & (cost <= threshold + 1e-9 * max(1.0, abs(threshold)))
            br, picked_accuracy = self._budget_rank(scores[in_budget], accuracy[in_budget])
            label = f"{m * 100 / m_total:g}%"
            result[f"{self.name}/br@{label}"] = br
            result[f"{self.name}/acc@{label}"] = picked_accuracy
            best_ranks.append(br)
        return {self.name: float(np.mean(best_ranks)), **result}

    def compute_many(self, scores: np.ndarray, data: zsbench.MetricInput) -> dict[str, np.ndarray]:
        """mBR of every row of ``scores`` at once (the same values as :meth:`compute`): per
        budget, each row's best score, its tied picks, their mean true rank and accuracy."""
        if data.costs is None or self.cost_column not in data.costs:
            raise ValueError(f"{self.name} needs the '{self.cost_column}' cost of every architecture")
        matrix = np.atleast_2d(np.asarray(scores, dtype=float))
        keep = pool_mask(data.accuracy)
        cost = np.asarray(data.costs[self.cost_column], dtype=float)[keep]
        accuracy = np.asarray(data.accuracy, dtype=float)[keep]
        oriented = oriented_scores(matrix[:, keep], data.higher_is_better)
        m_total = parse_positive_int(data.options.get("budgets", DEFAULT_BUDGETS))
        placed = np.isfinite(cost)
        if not placed.any():
            return {self.name: np.full(len(matrix), np.nan)}
        lo, hi = float(cost[placed].min()), float(cost[placed].max())
        # columns in ascending cost: every budget is a prefix (a view, no copy)
        by_cost = np.flatnonzero(placed)[np.argsort(cost[placed], kind="stable")]
        ordered = oriented[:, by_cost]
        ordered_cost = cost[by_cost]
        ordered_accuracy = accuracy[by_cost]
        complete = bool(np.isfinite(ordered).all())
        rows = np.arange(len(matrix))
        result: dict[str, np.ndarray] = {}
        best_ranks = []
        for m in range(1, m_total + 1):
            threshold = lo + (hi - lo) * m / m_total
            end = int(np.searchsorted(ordered_cost, threshold + 1e-9 * max(1.0, abs(threshold)), side="right"))
            budget_scores = ordered[:, :end]
            budget_accuracy = ordered_accuracy[:end]
            ranks = true_ranks(budget_accuracy)
            denominator = max(budget_accuracy.size - 1, 1)
            if complete:
                # one pick per row, then the exact mean over the rows whose best score is tied
                pick = budget_scores.argmax(axis=1)
                best = budget_scores[rows, pick]
                tied = (budget_scores == best[:, None]).sum(axis=1)
                br = ranks[pick] / denominator
                picked_accuracy = budget_accuracy[pick].astype(float)
                several = np.flatnonzero(tied > 1)
                if several.size:
                    equal = (budget_scores[several] == best[several, None]).astype(float)
                    br[several] = (equal @ ranks) / tied[several] / denominator
                    picked_accuracy[several] = (equal @ budget_accuracy) / tied[several]
            else:
                scored = np.isfinite(budget_scores)
                best = np.where(scored, budget_scores, -np.inf).max(axis=1)
                picks = (scored & (budget_scores == best[:, None])).astype(float)
                count = picks.sum(axis=1)
                anything = count > 0
                with np.errstate(invalid="ignore", divide="ignore"):
                    br = np.where(anything, (picks @ ranks) / count / denominator, 1.0)
                    picked_accuracy = np.where(anything, (picks @ budget_accuracy) / count, np.nan)
            label = f"{m * 100 / m_total:g}%"
            result[f"{self.name}/br@{label}"] = br
            result[f"{self.name}/acc@{label}"] = picked_accuracy
            best_ranks.append(br)
        # a row whose every score failed picks nothing at all: NaN, as compute() says
        nothing = ~np.isfinite(oriented).any(axis=1)
        for values in result.values():
            values[nothing] = np.nan
        mean = np.mean(best_ranks, axis=0)
        mean[nothing] = np.nan
        return {self.name: mean, **result}

    @staticmethod
    def _budget_rank(scores: np.ndarray, accuracy: np.ndarray) -> tuple[float, float]:
        scored = np.isfinite(scores)
        if not scored.any():
            return 1.0, float("nan")
        best = scores[scored].max()
        picks = np.flatnonzero(scored & (scores == best))
        # r for each tied pick: how many in the budget are strictly more accurate
        ranks = np.array([(accuracy > accuracy[i]).sum() for i in picks], dtype=float)
        denominator = max(accuracy.size - 1, 1)
        return float(ranks.mean() / denominator), float(accuracy[picks].mean())

