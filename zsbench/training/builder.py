"""Build a benchmark: draw a pool of architectures, train each one, write the table.

:func:`build_pool` is resumable by construction: every finished network is appended to
``NAME.jsonl`` (see :mod:`zsbench.training.store`) before the next one is looked at, and
a rerun trains only the networks whose record is missing, so a build killed at any
moment loses at most the networks in flight. The table and metadata (see
:mod:`zsbench.builds`) are rewritten after every network, atomically.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.builds import (
    make_table,
    noise_ceiling,
    table_columns,
    table_paths,
    write_atomic,
    write_table,
)
from zsbench.data import NATIVE_SIZE, NUM_CLASSES, canonical_dataset_name
from zsbench.engine.progress import Progress
from zsbench.errors import UsageError
from zsbench.training.recipes import Recipe, get_recipe
from zsbench.training.store import ResultStore
from zsbench.training.tasks import TrainTask, TrainWork, cuda_count, failure_record, resolve_space

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from zsbench.engine.executors import Executor
    from zsbench.interfaces import SearchSpace

# Fields that define a build: a rerun under the same name must agree on all of them.
_IDENTITY = (
    "space",
    "dataset",
    "recipe_hash",
    "pool_size",
    "pool_seed",
    "pool_max_flops",
    "train_seed",
    "repeat_seed",
    "repeat_count",
    "runs",
)
# What a field means when an older build's metadata lacks it.
_IDENTITY_DEFAULTS = {"runs": 1}


@dataclass
class BuildReport:
    """What one :func:`build_pool` call did.

    Attributes:
        name: the build's name.
        total: tasks in the build (pool plus repeats).
        skipped: tasks already finished before this call (not trained again).
        trained: keys of the tasks this call trained successfully, in completion order.
        failed: ``(arch, seed, reason)`` of the tasks that failed in this call.
        seconds: wall time of the call.
        results_path: the JSONL file of records.
        table_path: the CSV table.
        meta_path: the metadata JSON.
        noise: the noise ceiling (see :func:`~zsbench.builds.noise_ceiling`).
    """

    name: str
    total: int
    skipped: int
    trained: list[str] = field(default_factory=list)
    failed: list[tuple[str, int, str]] = field(default_factory=list)
    seconds: float = 0.0
    results_path: Path | None = None
    table_path: Path | None = None
    meta_path: Path | None = None
    noise: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """Tasks finished after this call (earlier ones included)."""
        return self.skipped + len(self.trained)


def build_tasks(
    space: SearchSpace,
    archs: list[str],
    dataset: str,
    recipe: Recipe,
    *,
    train_seed: int,
    repeat_seed: int | None,
    repeat_count: int,
    data_root: str | None,
    device: str,
    space_ref: str | SearchSpace,
    runs: int = 1,
) -> list[TrainTask]:
    """The tasks of a build, in training order: the first ``repeat_count`` architectures
    with both seed sets (so a partial build already measures its noise ceiling), then the
    rest. A seed set is ``runs`` consecutive seeds from ``train_seed`` (``repeat_seed``)."""
    tasks = []
    repeated = archs[:repeat_count] if repeat_seed is not None else []
    train_seeds = [train_seed + i for i in range(runs)]
    repeat_seeds = [repeat_seed + i for i in range(runs)] if repeat_seed is not None else []

    def task(arch: str, seed: int) -> TrainTask:
        return TrainTask(space_ref, arch, dataset, recipe, seed=seed, data_root=data_root, device=device)

    for arch in repeated:
        tasks.extend(task(arch, seed) for seed in train_seeds + repeat_seeds)
    tasks.extend(task(arch, seed) for arch in archs[len(repeated) :] for seed in train_seeds)
    return tasks


@dataclass(frozen=True)
class BuildOptions:
    """How :func:`build_pool` draws, trains and records a pool (every field but ``limit`` and
    what follows it is part of the build's identity, which a rerun under the same name must keep).

    Attributes:
        pool_seed: seed of the draw.
        max_flops: draw only architectures of at most this many FLOPs (MACs at the space's
            default input size, 32x32 for the macro spaces), e.g. to keep a CPU build
            affordable; ``None`` draws from the whole space.
        dataset: ``cifar10``, ``cifar100`` or ``ImageNet16-120``.
        recipe: a recipe, a built-in recipe name or a JSON file.
        out_dir: folder of the three files.
        train_seed: training seed of every network (its initial weights and data order).
        repeat_seed: a second training seed for the noise ceiling (``None``: no repeats).
        repeat_count: how many architectures (the first of the pool) get the second seed.
        runs: trainings per network whose test accuracies the table averages, with seeds
            ``train_seed`` to ``train_seed + runs - 1``; the repeated architectures are trained
            ``runs`` more times from ``repeat_seed``, so the noise ceiling compares two means.
            Averaging makes the ranking less noisy where networks differ little.
        limit: run at most this many trainings in this call (the rest stays pending).
        executor: where to train (default: :func:`default_executor`).
        data_root: the data root (``None``: ``ZSBENCH_DATA``).
        device: ``auto``, ``cpu`` or ``cuda``.
        progress: show a rich progress bar on stderr.
        console: the console for the progress bar (default: stderr).
        command: the command line to record in the metadata (how to resume).
        on_result: called with every ``(task, record)`` right after it is written.
    """

    pool_seed: int = 0
    max_flops: float | None = None
    dataset: str = "cifar10"
    recipe: str | Recipe = "cpu"
    out_dir: str | Path = "zsbench-builds"
    train_seed: int = 0
    repeat_seed: int | None = None
    repeat_count: int = 0
    runs: int = 1
    limit: int | None = None
    executor: Executor | None = None
    data_root: str | Path | None = None
    device: str = "auto"
    progress: bool = True
    console: Console | None = None
    command: str | None = None
    on_result: Callable[[TrainTask, dict[str, Any]], None] | None = None


def build_pool(
    name: str, space: str | SearchSpace, pool_size: int, options: BuildOptions | None = None, **changes: Any
) -> BuildReport:
    """Train every architecture of a pool and write the benchmark table.

    Args:
        name: the build's name (file stem of its results, table and metadata).
        space: a search-space name or object.
        pool_size: architectures drawn with ``space.sample(pool_size, pool_seed)``.
        options: how to draw, train and record (:class:`BuildOptions`; default: its defaults).
        changes: fields of :class:`BuildOptions` that replace those of ``options``.

    Raises:
        UsageError: the folder holds a build of that name with another space, dataset,
            recipe, pool, seeds or runs; the two seed sets overlap.
    """
    from zsbench.devices import check_device
    from zsbench.engine.executors import RayExecutor

    started = time.perf_counter()
    o = replace(options or BuildOptions(), **changes)
    # a Ray cluster's workers may have the GPU the driver lacks: check the spelling only
    check_device(o.device, allow_auto=True, here=not isinstance(o.executor, RayExecutor))
    recipe = get_recipe(o.recipe)
    dataset = canonical_dataset_name(o.dataset)
    space_obj = resolve_space(space)
    identity = _identity(o, space_obj.name, dataset, recipe, pool_size)
    paths = table_paths(o.out_dir, name)
    _check_identity(paths[2], identity, name)

    archs = [space_obj.canonical(a) for a in draw_pool(space_obj, pool_size, o.pool_seed, o.max_flops)]
    tasks = build_tasks(
        space_obj,
        archs,
        dataset,
        recipe,
        train_seed=o.train_seed,
        repeat_seed=o.repeat_seed,
        repeat_count=identity["repeat_count"],
        data_root=None if o.data_root is None else str(o.data_root),
        device=o.device,
        space_ref=space if isinstance(space, str) else space_obj,
        runs=o.runs,
    )
    store = ResultStore(paths[0])
    finished = store.finished()
    pending = [t for t in tasks if t.key not in finished]
    report = BuildReport(
        name=name, total=len(tasks), skipped=len(tasks) - len(pending),
        results_path=paths[0], table_path=paths[1], meta_path=paths[2],
    )  # fmt: skip
    if o.limit is not None:
        pending = pending[: max(0, o.limit)]
    meta_base = {
        "name": name,
        **identity,
        "num_classes": NUM_CLASSES[dataset],
        "input_size": recipe.input_size or NATIVE_SIZE[dataset],
        "recipe_name": recipe.name,
        "recipe": recipe.as_dict(),
        "accuracy": "top-1 accuracy (percent) on the official test split"
        + (f", the mean of {o.runs} trainings (seeds {_seed_span(o.train_seed, o.runs)})" if o.runs > 1 else ""),
        "command": o.command,
    }
    refresh = functools.partial(_refresh, report, store, tasks, archs, meta_base, o)
    refresh()
    if pending:
        _train(pending, report, store, refresh, o, len(tasks))
    report.seconds = time.perf_counter() - started
    return report


def _identity(o: BuildOptions, space: str, dataset: str, recipe: Recipe, pool_size: int) -> dict[str, Any]:
    """The fields that define a build (``_IDENTITY``), after checking that they make one."""
    if pool_size < 1:
        raise UsageError(f"pool size must be >= 1, got {pool_size}")
    if o.runs < 1:
        raise UsageError(f"runs must be at least 1, got {o.runs}")
    if o.repeat_seed is not None and abs(o.repeat_seed - o.train_seed) < o.runs:
        raise UsageError(
            f"the repeat seeds {_seed_span(o.repeat_seed, o.runs)} overlap the training seeds "
            f"{_seed_span(o.train_seed, o.runs)}; choose --repeat-seed {o.train_seed + o.runs} or further"
        )
    return {
        "space": space,
        "dataset": dataset,
        "recipe_hash": recipe.hash(),
        "pool_size": pool_size,
        "pool_seed": o.pool_seed,
        "pool_max_flops": o.max_flops,
        "train_seed": o.train_seed,
        "repeat_seed": o.repeat_seed,
        "repeat_count": min(max(0, o.repeat_count), pool_size) if o.repeat_seed is not None else 0,
        "runs": o.runs,
    }


def _refresh(
    report: BuildReport,
    store: ResultStore,
    tasks: list[TrainTask],
    archs: list[str],
    meta_base: dict[str, Any],
    o: BuildOptions,
) -> None:
    """Rewrite the table and the metadata from the records written so far."""
    records = store.records()
    rows = make_table(records, archs, o.train_seed, o.repeat_seed, o.runs)
    write_table(report.table_path, rows, table_columns(o.train_seed, o.repeat_seed, o.runs))
    report.noise = noise_ceiling(rows, o.repeat_seed, o.runs)
    keys = {t.key for t in tasks}
    ok = [r for r in records if r.get("status") == "ok" and r["key"] in keys]
    failed_keys = {k for k in store.failures() if k in keys}
    meta = {
        **meta_base,
        "networks_done": len(rows),
        "repeats_done": report.noise.get("pairs", 0),
        "tasks_total": len(tasks),
        "tasks_done": len({r["key"] for r in ok}),
        "tasks_failed": len(failed_keys),
        "complete": len(rows) == meta_base["pool_size"] and report.noise.get("pairs", 0) >= meta_base["repeat_count"],
        "noise_ceiling": report.noise,
        "train_seconds_total": round(sum(float(r.get("train_seconds", 0.0)) for r in ok), 1),
        "cpu_seconds_total": round(sum(float(r.get("cpu_seconds", 0.0)) for r in ok), 1),
        "cpu_seconds_per_network": _spread([float(r["cpu_seconds"]) for r in ok if "cpu_seconds" in r]),
        "devices": sorted({str(r.get("device")) for r in ok}),
        "updated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_atomic(report.meta_path, json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _train(
    pending: list[TrainTask], report: BuildReport, store: ResultStore, refresh: Callable[[], None], o: BuildOptions, total: int
) -> None:
    """Train ``pending``, appending each record and refreshing the table as it arrives."""
    executor = o.executor or default_executor()
    console = o.console
    if o.progress:
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        console.print(
            f"training {len(pending)} network(s) ({report.skipped} of {total} already done) "
            f"on {executor.describe()}"
        )
    bar = Progress(
        total,
        completed=report.skipped,
        description="networks",
        unit="nets",
        per_hour=True,
        show=bool(o.progress),
        console=console,
    )
    with bar:
        for outcome in executor.run(pending, TrainWork(device=o.device)):
            task = outcome.task
            record = outcome.value if outcome.ok else failure_record(task, outcome.error or "", outcome.attempts)
            assert record is not None
            store.append(record)
            if record["status"] == "ok":
                report.trained.append(task.key)
            else:
                report.failed.append((task.arch, task.seed, record.get("error", "unknown error")))
            refresh()
            bar.advance(record["status"] == "ok")
            if o.on_result is not None:
                o.on_result(task, record)


def default_executor(
    kind: str = "local",
    *,
    workers: int | None = None,
    threads: int | None = None,
    retries: int = 1,
    ray_address: str | None = None,
    cpus_per_task: float = 1.0,
    num_cpus: int | None = None,
) -> Executor:
    """The executor of a build (see :func:`zsbench.engine.executors.make_executor`).

    Args:
        kind: ``local``, ``process`` or ``ray``.
        workers: parallel trainings on this machine (``None``: one per GPU, else 1).
        threads: torch threads per training (``None``: the free cores divided among the workers;
            for Ray, ``cpus_per_task``).
        retries: extra tries of a network whose training raised or whose worker died.
        ray_address: Ray cluster address (``None``: ``RAY_ADDRESS``, else a local instance).
        cpus_per_task: CPUs Ray reserves per training.
        num_cpus: CPUs of a local Ray instance.
    """
    from zsbench.engine.executors import make_executor

    if retries < 0:
        raise UsageError(f"--retries must be 0 or more, got {retries}")
    return make_executor(
        kind,
        workers=workers if workers is not None else max(1, cuda_count()),
        threads=threads,
        max_attempts=retries + 1,
        ray_address=ray_address,
        cpus_per_task=cpus_per_task,
        num_cpus=num_cpus,
    )


def draw_pool(space: SearchSpace, pool_size: int, pool_seed: int, max_flops: float | None = None) -> list[str]:
    """The pool a build trains: ``space.sample(pool_size, pool_seed, max_flops=max_flops)``.

    A space whose ``sample`` predates the ``max_flops`` keyword still gets a bounded pool:
    the contract's default draw, :meth:`SearchSpace.sample_by_rejection`.

    Raises:
        UsageError: ``max_flops`` is not positive, or the space cannot find ``pool_size``
            architectures within it.
    """
    if max_flops is not None and max_flops <= 0:
        raise UsageError(f"max_flops must be positive, got {max_flops:g}")
    try:
        if max_flops is None:
            return space.sample(pool_size, pool_seed)
        try:
            return space.sample(pool_size, pool_seed, max_flops=max_flops)
        except TypeError as exc:
            if "max_flops" not in str(exc):
                raise
            return space.sample_by_rejection(pool_size, pool_seed, max_flops)
    except ValueError as exc:
        raise UsageError(f"cannot draw the pool: {exc}") from exc


def _spread(values: list[float]) -> dict[str, float | None]:
    """Median, mean and maximum of ``values`` (``None`` when empty)."""
    if not values:
        return {"median": None, "mean": None, "max": None}
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {"median": round(median, 1), "mean": round(sum(values) / len(values), 1), "max": round(max(values), 1)}


def _seed_span(first: int, runs: int) -> str:
    return str(first) if runs == 1 else f"{first}-{first + runs - 1}"


def _check_identity(meta_path: Path, identity: dict[str, Any], name: str) -> None:
    if not meta_path.exists():
        return
    try:
        previous = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return  # unreadable metadata is rewritten; the records decide what is done
    differences = [
        f"{k}: {previous.get(k, _IDENTITY_DEFAULTS.get(k))!r} there, {identity[k]!r} now"
        for k in _IDENTITY
        if previous.get(k, _IDENTITY_DEFAULTS.get(k)) != identity[k]
    ]
    if differences:
        raise UsageError(
            f"{meta_path.parent} already holds build {name!r} made differently ({'; '.join(differences)}); "
            "use another name or output folder"
        )

