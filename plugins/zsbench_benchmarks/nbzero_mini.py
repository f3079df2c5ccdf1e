"""nbzero-mini: small NAS-Bench-Zero-style benchmarks that ship with zsbench, and local builds.

The tables under ``data/`` were made by ``zsbench build`` with the ``cpu`` recipe on the
JPEG copy of CIFAR-10, from pools of networks of at most 100 M MACs at 32x32 (see
``benchmarks/nbzero-mini.md`` for the exact commands, the recipe and how they were
measured). Registered benchmarks:

- ``nbzero-mini-r1``, ``nbzero-mini-r2``, ``nbzero-mini-mb``: one per search space;
- ``nbzero-mini``: the family's default table (by name; no longer the default of ``zsbench evaluate``):
  of the complete tables of both versions, the one whose networks trained twice rank most
  alike (highest noise ceiling, see ``benchmarks/nbzero-mini.md``; :func:`family_default`).
  Today that is version 2's MB table, ``nbzero-mini-v2-mb`` (ceiling 0.88; version 1's best is 0.72);
- ``nbzero-mini-v2-r1``, ``nbzero-mini-v2-r2``, ``nbzero-mini-v2-mb``: the second version,
  trained with the longer ``cpu-v2`` recipe and evaluated on the full test split (R1's
  accuracy the mean of two trainings, see :data:`RUNS`), registered
  as soon as its build has started (its description says ``PARTIAL: done/pool`` until every
  network is trained). The first version stays available by name; ``nbzero-mini`` moves to a
  second-version table once one is complete and its ceiling is the highest.

A table that is still being built loads with the networks trained so far and says so in
its description (``PARTIAL: done/pool``); one that has no network yet raises
:class:`zsbench.DataMissingError` naming the command that builds it.

Local builds: every ``NAME.meta.json`` with its ``NAME.csv`` in the folders listed in
``ZSBENCH_BUILDS`` (``os.pathsep``-separated) is registered as benchmark ``NAME``, so
``zsbench build NAME ... --out DIR`` followed by ``ZSBENCH_BUILDS=DIR zsbench evaluate
--benchmark NAME`` evaluates proxies on a freshly built table.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import zsbench
from zsbench.builds import BuiltBenchmark, discover_builds, read_meta

DATA_DIR = Path(__file__).parent / "data"
SPACES = {"r1": "R1", "r2": "R2", "mb": "MB"}
# What `nbzero-mini` names when no table's ceiling can be read (version 1's R2 has the highest
# of version 1: R2 0.72, MB 0.63, R1 0.23 Spearman over 30 networks trained with two seeds).
DEFAULT_SPACE = "r2"


# Version -> (file-stem prefix, recipe). Both versions train the same pools (150 networks
# of at most 100 M MACs at 32x32, pool seed 0, the first 30 also with seed 1).
VERSIONS = {1: ("nbzero-mini", "cpu"), 2: ("nbzero-mini-v2", "cpu-v2")}
# (version, space) -> trainings averaged per network, where not 1. Version 2's R1 networks
# differ too little for one training to rank them reliably (two seeds agree 0.76 over 30
# networks), so its table is the mean of seeds 0 and 1, and its repeats seeds 2 and 3.
RUNS = {(2, "r1"): 2}


def _build_command(key: str, version: int = 1) -> str:
    prefix, recipe = VERSIONS[version]
    runs = RUNS.get((version, key), 1)
    seeds = "--repeat-seed 1" if runs == 1 else f"--runs {runs} --repeat-seed {runs}"
    return (
        f"ZSBENCH_DATA=<data-root> zsbench build {prefix}-{key} --space {SPACES[key]} --pool 150 --seed 0 "
        f"--max-flops 1e8 --recipe {recipe} {seeds} --repeat-count 30 --out plugins/zsbench_benchmarks/data "
        "--threads 1"
    )


def shipped_benchmark(key: str, name: str | None = None, version: int = 1) -> BuiltBenchmark:
    """The shipped benchmark of space ``key`` (``r1``, ``r2``, ``mb``) in ``version`` (1 or
    2), registered as ``name``."""
    prefix, recipe = VERSIONS[version]
    stem = f"{prefix}-{key}"
    meta_path = DATA_DIR / f"{stem}.meta.json"
    meta = read_meta(meta_path) if meta_path.is_file() else {}
    meta.setdefault("space", SPACES[key])
    meta.setdefault("dataset", "cifar10")
    meta.setdefault("num_classes", 10)
    meta.setdefault("input_size", 16)
    meta.setdefault("recipe_name", recipe)
    meta.setdefault("networks_done", 0)
    meta.setdefault("pool_size", 150)
    meta["command"] = _build_command(key, version)  # the portable form, whatever the machine ran
    benchmark = BuiltBenchmark(name or stem, DATA_DIR / f"{stem}.csv", meta)
    if name is not None and name != stem:
        benchmark.description = f"the family's default table, the same as {stem}: {benchmark.description}"
    return benchmark


def family_default() -> tuple[str, int]:
    """``(space key, version)`` of the table ``nbzero-mini`` names: of the complete tables of
    every version, the one with the highest noise ceiling (Spearman between two trainings),
    the newer version on a tie. A partial build never becomes the default, however well its
    first networks agree: its ceiling rests on fewer networks than it will."""
    candidates = []  # (ceiling, version, key), in version and space order
    for version, (prefix, _) in VERSIONS.items():
        for key in SPACES:
            meta_path = DATA_DIR / f"{prefix}-{key}.meta.json"
            meta = read_meta(meta_path) if meta_path.is_file() else {}
            rho = (meta.get("noise_ceiling") or {}).get("spearman")
            if meta.get("complete") and rho is not None:
                candidates.append((float(rho), version, key))
    if not candidates:
        return DEFAULT_SPACE, 1
    _, version, key = max(candidates, key=lambda c: (c[0], c[1]))  # a tie within a version: the first listed
    return key, version


def local_builds() -> list[BuiltBenchmark]:
    """Benchmarks built into the folders named by ``ZSBENCH_BUILDS``."""
    found: list[BuiltBenchmark] = []
    for folder in filter(None, os.environ.get("ZSBENCH_BUILDS", "").split(os.pathsep)):
        try:
            found.extend(discover_builds(folder))
        except (OSError, ValueError, KeyError) as exc:  # one bad folder must not hide the others
            warnings.warn(f"ZSBENCH_BUILDS: skipped {folder}: {type(exc).__name__}: {exc}", stacklevel=2)
    return found


@zsbench.hookimpl
def register_benchmarks(register) -> None:
    """Register the shipped nbzero-mini benchmarks and any local builds."""
    shipped = {f"{prefix}-{key}" for prefix, _ in VERSIONS.values() for key in SPACES} | {"nbzero-mini"}
    key, version = family_default()
    register(shipped_benchmark(key, name="nbzero-mini", version=version))
    for key in SPACES:
        register(shipped_benchmark(key))
    for key in SPACES:  # the second version: only once its build has started
        if (DATA_DIR / f"{VERSIONS[2][0]}-{key}.meta.json").is_file():
            register(shipped_benchmark(key, version=2))
    for benchmark in local_builds():
        if benchmark.name not in shipped:
            register(benchmark)
