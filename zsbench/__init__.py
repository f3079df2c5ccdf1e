"""zsbench: evaluate zero-shot (training-free) NAS proxies on real search spaces.

The public API a plugin author codes against:

- :data:`hookimpl`, the pluggy marker for the ``zsbench`` project; plugins are found
  through the ``zsbench`` entry-point group.
- :class:`Batch`, :class:`Proxy`, :class:`SearchSpace`, :class:`Metric`,
  :class:`Benchmark` (and :class:`Cost`, :class:`MetricInput`, :class:`MetricOption`).
- :mod:`zsbench.ranking`: the ranking conventions and helpers every index shares.
- :func:`get_host` for the loaded registries.
- :func:`evaluate` and its option groups :class:`PoolOptions`, :class:`ScoringOptions`,
  :class:`RunOptions`, :class:`IndexOptions` (loaded on first use).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from zsbench.errors import (
    AmbiguousComponentError,
    DataMissingError,
    InvalidArchitectureError,
    UnknownComponentError,
    UsageError,
    ZsbenchError,
)
from zsbench.interfaces import (
    Batch,
    Benchmark,
    Cost,
    Metric,
    MetricInput,
    MetricOption,
    PassRequest,
    Proxy,
    ScorePack,
    SearchSpace,
    SharedPass,
)
from zsbench.plugins import ENTRY_POINT_GROUP, PluginHost, get_host, hookimpl, set_host

try:
    __version__ = version("zsbench")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "AmbiguousComponentError",
    "Batch",
    "Benchmark",
    "Cost",
    "DataMissingError",
    "InvalidArchitectureError",
    "Metric",
    "MetricInput",
    "MetricOption",
    "PassRequest",
    "PluginHost",
    "Proxy",
    "ScorePack",
    "SearchSpace",
    "SharedPass",
    "UnknownComponentError",
    "UsageError",
    "ZsbenchError",
    "__version__",
    "get_host",
    "hookimpl",
    "set_host",
]


#: Names served by :mod:`zsbench.engine.evaluation`, imported on first use (it loads pandas and torch).
_EVALUATION_NAMES = ("evaluate", "EvaluationResult", "PoolOptions", "ScoringOptions", "RunOptions", "IndexOptions")


def __getattr__(name: str) -> Any:
    # Heavy entry points (torch, pandas) load only when asked for.
    if name in _EVALUATION_NAMES:
        from zsbench.engine import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'zsbench' has no attribute {name!r}")
