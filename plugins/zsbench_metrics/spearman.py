"""The ``spearman`` index: Spearman's rank correlation (the paper's SR) of the scores with accuracy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import zsbench
from zsbench_metrics._correlation import CorrelationMetric


def _spearmanr(x: np.ndarray, y: np.ndarray) -> Any:
    # a thin wrapper so that scipy is imported only when an index is computed
    from scipy import stats

    return stats.spearmanr(x, y)


class SpearmanMetric(CorrelationMetric):
    """Spearman's rank correlation (the paper's SR) of the scores with accuracy; failed scores dropped, the proxy's direction applied."""

    name = "spearman"
    headline = True  # in the default result table
    order = 30
    description = "Spearman's rank correlation (the paper's SR) of the scores with accuracy (failed archs dropped)"
    vectorised = "spearman"
    statistic = staticmethod(_spearmanr)


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``spearman`` index."""
    register(SpearmanMetric())
