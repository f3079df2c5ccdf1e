"""Correlation indices (Pearson, Kendall, Spearman) shared by three plugins."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import ClassVar

import numpy as np

import zsbench
from zsbench.ranking import oriented_scores, spearman_rows


class CorrelationMetric(zsbench.Metric):
    """Correlation between the oriented raw scores and the accuracy.

    Architectures whose score failed (NaN) are dropped; the companion entry
    ``<name>/n`` says how many pairs were used. Fewer than 3 pairs, or a constant score,
    give NaN.
    """

    higher_is_better = True
    group = "correlation"
    companions = (("n", "detail"),)
    statistic: ClassVar[Callable[[np.ndarray, np.ndarray], object]]
    #: how :meth:`compute_many` vectorises the statistic: ``"pearson"`` (of the values),
    #: ``"spearman"`` (Pearson of the average ranks), or ``None`` (one ``compute`` per row)
    vectorised: ClassVar[str | None] = None

    def compute(self, data: zsbench.MetricInput) -> dict[str, float]:
        """The correlation (``self.name``) and the number of pairs used (``<name>/n``)."""
        from scipy import stats

        scores = oriented_scores(data.scores, data.higher_is_better)
        accuracy = np.asarray(data.accuracy, dtype=float)
        keep = np.isfinite(scores) & np.isfinite(accuracy)
        x, y = scores[keep], accuracy[keep]
        value = float("nan")
        if x.size >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", stats.ConstantInputWarning)
                value = float(type(self).statistic(x, y).statistic)
        return {self.name: value, f"{self.name}/n": float(x.size)}

    def compute_many(self, scores: np.ndarray, data: zsbench.MetricInput) -> dict[str, np.ndarray]:
        """The correlation of every row of ``scores`` with the accuracy at once (the same
        values as :meth:`compute`); rows with a failed score fall back to :meth:`compute`."""
        matrix = np.atleast_2d(np.asarray(scores, dtype=float))
        if type(self).vectorised is None:
            return super().compute_many(matrix, data)
        accuracy = np.asarray(data.accuracy, dtype=float)
        keep = np.isfinite(accuracy)
        x = oriented_scores(matrix[:, keep], data.higher_is_better)
        y = accuracy[keep]
        complete = np.isfinite(x).all(axis=1)
        values = np.full(len(matrix), np.nan)
        counts = np.full(len(matrix), float(y.size))
        if complete.any() and y.size >= 3 and np.ptp(y) > 0:
            rows = x[complete]
            if type(self).vectorised == "spearman":
                correlation = spearman_rows(rows, y)
            else:
                centred = rows - rows.mean(axis=1, keepdims=True)
                target = y - y.mean()
                spread = np.sqrt((centred**2).sum(axis=1)) * np.sqrt((target**2).sum())
                with np.errstate(invalid="ignore", divide="ignore"):
                    correlation = (centred @ target) / spread
            # a constant row has no correlation (compute gives NaN too)
            correlation[np.ptp(rows, axis=1) == 0] = np.nan
            values[complete] = np.clip(correlation, -1.0, 1.0)
        for row in np.flatnonzero(~complete):
            single = self.compute(zsbench.MetricInput(matrix[row], accuracy, data.higher_is_better, data.costs, data.options))
            values[row] = single[self.name]
            counts[row] = single[f"{self.name}/n"]
        return {self.name: values, f"{self.name}/n": counts}
