"""The ``mbr_depth`` index: mean best rank under depth budgets (see ``_mbr``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zsbench
from zsbench_metrics._mbr import MeanBestRank


class MeanBestRankDepth(MeanBestRank):
    """mBR with budgets on depth."""

    name = "mbr_depth"
    order = 80
    cost_column = "depth"
    description = "mean best rank under depth budgets (0 is best, 1 is worst)"


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``mbr_depth`` index."""
    register(MeanBestRankDepth())
