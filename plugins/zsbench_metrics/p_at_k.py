"""The ``p_at_k`` index: share of the proxy's top-K that are in the true top-K."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zsbench
from zsbench_metrics._topk import PrecisionAtK


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``p_at_k`` index."""
    register(PrecisionAtK())
