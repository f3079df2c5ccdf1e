"""Settings of the core that name a component: one place, overridable from the environment.

The core never names a first-party component in code; where the command line needs a
default component, it is a setting read here.

Environment variables:
    ZSBENCH_BENCHMARK: the benchmark ``zsbench evaluate`` uses when none is named.
    ZSBENCH_DEFAULT_SAMPLE: how many of its architectures the default run scores.
    ZSBENCH_NO_PACKS: set (to anything but ``0`` or empty) to compute every score instead of
        reading the score packs the plugins ship (the command lines' ``--no-packs``).
"""

from __future__ import annotations

import os

#: The benchmark ``zsbench evaluate`` uses when ``--benchmark`` is not given; any installed
#: benchmark may take its place through ``ZSBENCH_BENCHMARK``.
#: The shipped benchmark whose measured noise ceiling is highest: NAS-Bench-Macro's two
#: single trainings agree with Spearman 0.979 over 3,969 networks (nbzero-mini version 2:
#: R1 0.86, R2 0.83, MB 0.88 over 30 retrained networks each; NAS-Bench-201 publishes no
#: per-seed accuracies, so its ceiling is unknown). tests/test_default_run.py checks it stays the highest, judged by
#: the lower end of each ceiling's bootstrap interval.
DEFAULT_BENCHMARK_SETTING = "nasbench-macro-cifar10"
#: Architectures the default run scores (a seeded sample, seed 0, stated in the output): large
#: enough that params, flops and synflow, the weakest of which correlates about 0.3 on this
#: benchmark, get intervals that exclude 0. Computed from nothing with ``--proxies all`` it takes
#: about 70 minutes on a 2-core CPU with one worker (ntk, 37 s a network, is most of it), which
#: is why its scores ship precomputed.
DEFAULT_SAMPLE_SETTING = 100


def default_benchmark() -> str:
    """The benchmark used when none is named: ``ZSBENCH_BENCHMARK``, else :data:`DEFAULT_BENCHMARK_SETTING`."""
    return os.environ.get("ZSBENCH_BENCHMARK") or DEFAULT_BENCHMARK_SETTING


def default_sample() -> int:
    """Architectures scored by the default run: ``ZSBENCH_DEFAULT_SAMPLE``, else :data:`DEFAULT_SAMPLE_SETTING`."""
    value = os.environ.get("ZSBENCH_DEFAULT_SAMPLE")
    if not value:
        return DEFAULT_SAMPLE_SETTING
    try:
        sample = int(value)
    except ValueError:
        sample = 0
    if sample < 1:
        from zsbench.errors import UsageError

        raise UsageError(f"ZSBENCH_DEFAULT_SAMPLE must be a positive integer, got {value!r}")
    return sample


def use_packs() -> bool:
    """Whether scores are read from the installed score packs: yes unless ``ZSBENCH_NO_PACKS`` is set."""
    return os.environ.get("ZSBENCH_NO_PACKS", "") in ("", "0")
