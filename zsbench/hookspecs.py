"""Hook specifications of zsbench (pluggy project name ``"zsbench"``).

Each hook receives a ``register`` callback; the plugin calls it once per component it
provides, passing an instance. The host records which plugin provided what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("zsbench")


@hookspec
def register_proxies(register: Callable[[Any], None]) -> None:
    """Register zero-shot proxies: call ``register(proxy_instance)`` for each one."""


@hookspec
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register search spaces: call ``register(space_instance)`` for each one."""


@hookspec
def register_metrics(register: Callable[[Any], None]) -> None:
    """Register indices (metrics): call ``register(metric_instance)`` for each one."""


@hookspec
def register_benchmarks(register: Callable[[Any], None]) -> None:
    """Register ground-truth benchmarks: call ``register(benchmark_instance)`` for each one."""


@hookspec
def register_packs(register: Callable[[Any], None]) -> None:
    """Register score packs: call ``register(zsbench.ScorePack(name, path))`` for each pack file
    the plugin ships (its proxies' scores on any benchmark, or any proxies' on its benchmarks)."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to the ``zsbench`` command line: ``cli`` is its typer app, so
    ``@cli.command("name")`` adds ``zsbench name``. The built-in commands cannot be replaced."""
