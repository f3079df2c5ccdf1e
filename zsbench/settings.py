"""Settings of the core that name a component: one place, overridable from the environment.

The core never names a first-party component in code; where the command line needs a
default component, it is a setting read here.

Environment variables:
    ZSBENCH_BENCHMARK: the benchmark ``zsbench evaluate`` uses when none is named.
"""

from __future__ import annotations

import os

#: The benchmark ``zsbench evaluate`` uses when ``--benchmark`` is not given; any installed
#: benchmark may take its place through ``ZSBENCH_BENCHMARK``.
DEFAULT_BENCHMARK_SETTING = "nbzero-mini"


def default_benchmark() -> str:
    """The benchmark used when none is named: ``ZSBENCH_BENCHMARK``, else :data:`DEFAULT_BENCHMARK_SETTING`."""
    return os.environ.get("ZSBENCH_BENCHMARK") or DEFAULT_BENCHMARK_SETTING
