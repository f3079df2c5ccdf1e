"""The ``mbr_flops`` index: mean best rank under FLOPs budgets (see ``_mbr``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zsbench
from zsbench_metrics._mbr import MeanBestRank


class MeanBestRankFlops(MeanBestRank):
    """mBR with budgets on FLOPs."""

    name = "mbr_flops"
    headline = True  # in the default result table
    order = 60
    cost_column = "flops"
    description = "mean best rank under FLOPs budgets (0 is best, 1 is worst)"


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``mbr_flops`` index."""
    register(MeanBestRankFlops())
