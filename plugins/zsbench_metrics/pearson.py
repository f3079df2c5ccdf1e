"""The ``pearson`` index: Pearson's linear correlation (the paper's LC) of the scores with accuracy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import zsbench
from zsbench_metrics._correlation import CorrelationMetric


def _pearsonr(x: np.ndarray, y: np.ndarray) -> Any:
    # a thin wrapper so that scipy is imported only when an index is computed
    from scipy import stats

    return stats.pearsonr(x, y)


class PearsonMetric(CorrelationMetric):
    """Pearson's linear correlation (the paper's LC) of the scores with accuracy; failed scores dropped, the proxy's direction applied."""

    name = "pearson"
    order = 10
    description = "Pearson's linear correlation (the paper's LC) of the scores with accuracy (failed archs dropped)"
    vectorised = "pearson"
    statistic = staticmethod(_pearsonr)


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``pearson`` index."""
    register(PearsonMetric())
