"""The ``mbr_params`` index: mean best rank under params budgets (see ``_mbr``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zsbench
from zsbench_metrics._mbr import MeanBestRank


class MeanBestRankParams(MeanBestRank):
    """mBR with budgets on params."""

    name = "mbr_params"
    order = 70
    cost_column = "params"
    description = "mean best rank under params budgets (0 is best, 1 is worst)"


@zsbench.hookimpl
def register_metrics(register: Callable[[Any], None]) -> None:
    """Provide the ``mbr_params`` index."""
    register(MeanBestRankParams())
