"""The ``kendall`` index: Kendall's tau-b (the paper's KD) of the scores with accuracy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import zsbench
from zsbench_metrics._correlation import CorrelationMetric


def _kendalltau(x: np.ndarray, y: np.ndarray) -> Any:
    # a thin wrapper so that scipy is imported only when an index is computed
    from scipy import stats

    return stats.kendalltau(x, y)


class KendallMetric(CorrelationMetric):
    """Kendall's tau-b (the paper's KD) of the scores with accuracy; failed scores dropped, the proxy's direction applied."""

    name = "kendall"
    headline = True  # in the default result table
    order = 20
    description = "Kendall's tau-b (the paper's KD) of the scores with accuracy (failed archs dropped)"
    statistic = staticmethod(_kendalltau)


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``kendall`` index."""
    register(KendallMetric())
