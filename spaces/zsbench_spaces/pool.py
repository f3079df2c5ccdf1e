"""Helpers to turn a pool of architectures into a table of costs and features.

Works with any :class:`zsbench.SearchSpace` (not only the first-party ones)::

    from zsbench_spaces.pool import describe_pool
    space = zsbench.get_host().spaces.get("R1")
    table = describe_pool(space, space.sample(1000, seed=0))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    import zsbench


def describe_pool(
    space: zsbench.SearchSpace,
    archs: Iterable[str],
    num_classes: int = 10,
    input_size: int | None = None,
    with_features: bool = True,
) -> pd.DataFrame:
    """One row per architecture: ``arch`` (canonical), ``flops`` (multiply-accumulates),
    ``params``, ``depth`` from ``space.cost``, then the columns of ``space.features``.

    Architectures without some feature get NaN there. Raises
    :class:`zsbench.InvalidArchitectureError` on the first invalid architecture.
    """
    import pandas as pd

    rows = []
    for arch in archs:
        canonical = space.canonical(arch)
        cost = space.cost(canonical, num_classes=num_classes, input_size=input_size)
        row: dict[str, object] = {"arch": canonical, "flops": cost.flops, "params": cost.params, "depth": cost.depth}
        if with_features:
            row.update(space.features(canonical))
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["arch", "flops", "params", "depth"])
