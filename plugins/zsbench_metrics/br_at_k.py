"""The ``br_at_k`` index: best true rank among the proxy's top-K, divided by N."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zsbench
from zsbench_metrics._topk import BestRankAtK


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``br_at_k`` index."""
    register(BestRankAtK())
