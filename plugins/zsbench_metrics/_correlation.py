"""Correlation indices (Pearson, Kendall, Spearman) shared by three plugins."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import ClassVar

import numpy as np

import zsbench
from zsbench.ranking import oriented_scores


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
