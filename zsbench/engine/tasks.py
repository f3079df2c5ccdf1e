"""Scoring as tasks for the execution layer (:mod:`zsbench.engine.executors`).

Each architecture is one independent :class:`ArchTask` (every missing proxy score of that
architecture, plus its costs when they are needed). :class:`ScoringWork` says how a worker
runs one: it builds its own plugin host (:class:`HostSpec`) and rebuilds the input batch,
which the caller builds once and ships as plain arrays, so workers do not need the dataset.
:func:`run_scoring` runs the tasks on any executor and yields one :class:`TaskOutcome` per
architecture, in completion order.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from zsbench.engine.cache import CachedCost
from zsbench.engine.executors import Executor, InlineExecutor, Work
from zsbench.engine.harness import ProxyResult, score_model
from zsbench.engine.isolation import PLUGIN_ERRORS, is_real_interrupt
from zsbench.errors import UsageError, ZsbenchError, describe_error
from zsbench.interfaces import Batch
from zsbench.plugins import PluginHost, get_host

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


@dataclass(frozen=True)
class ArchTask:
    """The work for one architecture.

    Attributes:
        index: position of the task in the run (identifies its outcome).
        space: qualified name (``plugin:name``) of the search space.
        arch: canonical architecture string.
        proxies: qualified names of the proxies to compute.
        proxy_versions: the version the driver expects for each proxy (a worker with other
            plugin versions refuses the task instead of caching wrong values).
        want_cost: also compute the architecture's FLOPs, params and depth.
        num_classes: classifier width of the built network.
        input_size: image size the network is built and costed for.
        seed: scoring seed (see :func:`zsbench.engine.harness.score_model`).
        device: torch device string.
    """

    index: int
    space: str
    arch: str
    proxies: tuple[str, ...]
    proxy_versions: tuple[str, ...]
    want_cost: bool
    num_classes: int
    input_size: int
    seed: int
    device: str = "cpu"


@dataclass
class TaskOutcome:
    """The result of one :class:`ArchTask`.

    Attributes:
        index: the task's index.
        arch: the task's canonical architecture.
        results: one :class:`~zsbench.engine.harness.ProxyResult` per proxy of the task.
        cost: the costs when the task asked for them.
        crashed: the task could not be run (its worker died on every try, it raised, or it
            ran past the time limit); ``results`` then hold that reason for every proxy it did
            not finish.
        timed_out: the task ran past the time limit (``--timeout``) and was stopped.
    """

    index: int
    arch: str
    results: list[ProxyResult] = field(default_factory=list)
    cost: CachedCost | None = None
    crashed: bool = False
    timed_out: bool = False


@dataclass(frozen=True)
class HostSpec:
    """How a worker builds its own plugin host.

    Attributes:
        plugins: ``None`` to load the installed entry points (honouring
            ``ZSBENCH_LOAD_PLUGINS`` and friends), else ``(module, plugin name, distribution)``
            triples to register on an isolated host.
        sys_path: import path entries to add first (lets workers import plugin modules
            that live outside the installed packages, e.g. next to a test).
    """

    plugins: tuple[tuple[str, str, str], ...] | None = None
    sys_path: tuple[str, ...] = ()

    @classmethod
    def from_host(cls, host: PluginHost | None) -> HostSpec:
        """The spec that rebuilds ``host`` in another process (entry points for ``None``)."""
        if host is None or host is get_host_if_built():
            return cls(None)
        triples = []
        for plugin in host.pm.get_plugins():
            registered = host.pm.get_name(plugin) or ""
            distribution, _, name = registered.partition(":")
            if not isinstance(plugin, ModuleType):
                raise UsageError(
                    f"plugin {name!r} is an object, not a module: worker processes can only load plugins "
                    "from importable modules; use the in-process executor"
                )
            triples.append((plugin.__name__, name, distribution))
        return cls(tuple(triples), tuple(p for p in sys.path if p))

    def build(self) -> PluginHost:
        """Build the plugin host this spec describes."""
        for entry in reversed(self.sys_path):
            if entry not in sys.path:
                sys.path.insert(0, entry)
        if self.plugins is None:
            return get_host()
        host = PluginHost(entry_points=False)
        for module_name, name, distribution in self.plugins:
            host.register_plugin(importlib.import_module(module_name), name=name, distribution=distribution)
        return host


def get_host_if_built() -> PluginHost | None:
    """The process-wide host when it has been built already, without building it."""
    from zsbench import plugins

    return plugins._default_host


# -- running one task ---------------------------------------------------------------------------


def run_task(
    task: ArchTask,
    batch: Batch,
    host: PluginHost,
    on_result: Callable[[int, ProxyResult], None] | None = None,
) -> TaskOutcome:
    """Score one architecture with its proxies and, when asked, compute its costs.

    ``on_result(position, result)`` is called as soon as each proxy is finished (see
    :func:`~zsbench.engine.harness.score_model`)."""
    space = host.spaces.get(task.space)
    proxies = [host.proxies.get(name) for name in task.proxies]
    for proxy, expected in zip(proxies, task.proxy_versions, strict=True):
        if proxy.version != expected:
            raise ZsbenchError(
                f"proxy {proxy.name} is version {proxy.version} in a worker but {expected} in the driver; "
                "install the same plugins everywhere"
            )

    def build() -> Any:
        return space.build(task.arch, task.num_classes, seed=task.seed, input_size=task.input_size)

    results = score_model(build, proxies, batch, seed=task.seed, device=task.device, on_result=on_result) if proxies else []
    cost = None
    if task.want_cost:
        try:
            figures = space.cost(task.arch, task.num_classes, task.input_size)
            cost = CachedCost(float(figures.flops), float(figures.params), float(figures.depth), None)
        except PLUGIN_ERRORS as exc:  # a cost failure is recorded, like a proxy failure
            if is_real_interrupt(exc):
                raise
            nan = float("nan")
            cost = CachedCost(nan, nan, nan, describe_error(exc))
    return TaskOutcome(task.index, task.arch, results, cost)


def crashed_outcome(
    task: ArchTask,
    reason: str,
    finished: Sequence[tuple[int, ProxyResult]] = (),
    *,
    timed_out: bool = False,
) -> TaskOutcome:
    """The outcome recorded for a task that could not be run or finished (its worker crashed on
    every try, or it ran past the time limit): the ``finished`` ``(position, result)`` pairs
    keep their results, every other proxy fails with ``reason``."""
    done = dict(finished)
    results = [done.get(position) or ProxyResult(name.split(":")[-1], None, reason, 0.0)
               for position, name in enumerate(task.proxies)]
    cost = None
    if task.want_cost:
        nan = float("nan")
        cost = CachedCost(nan, nan, nan, reason)
    return TaskOutcome(task.index, task.arch, results, cost, crashed=True, timed_out=timed_out)


def batch_to_arrays(batch: Batch) -> tuple[np.ndarray, np.ndarray, int, str]:
    """A batch as plain NumPy arrays (cheap to pickle, no torch shared memory involved)."""
    return batch.inputs.detach().cpu().numpy(), batch.targets.detach().cpu().numpy(), batch.num_classes, batch.source


def batch_from_arrays(arrays: tuple[np.ndarray, np.ndarray, int, str]) -> Batch:
    """Inverse of :func:`batch_to_arrays`."""
    import torch

    inputs, targets, num_classes, source = arrays
    return Batch(torch.from_numpy(inputs.copy()), torch.from_numpy(targets.copy()), num_classes, source)


# -- the work ------------------------------------------------------------------------------------


class ScoringWork(Work[ArchTask, TaskOutcome]):
    """Scores :class:`ArchTask` s. In this process it uses the given host and batch; a worker
    process or Ray task rebuilds the host from a :class:`HostSpec` and the batch from arrays.

    Args:
        host: the caller's plugin host.
        batch: the input batch.
        explicit_host: the caller passed its own host, which workers then rebuild from its
            plugin modules (else workers load the installed entry points).
        device: the scoring device (a GPU is reserved per Ray task for ``cuda``).
    """

    # a worker with other plugins or versions would fail (or corrupt) every task
    fatal_errors = (ZsbenchError,)

    def __init__(self, host: PluginHost, batch: Batch, *, explicit_host: bool = True, device: str = "cpu") -> None:
        self._host: PluginHost | None = host
        self._batch: Batch | None = batch
        self._explicit_host = explicit_host
        self.wants_gpu = device.startswith("cuda")
        self._spec: HostSpec | None = None
        self._arrays: tuple | None = None

    def for_workers(self) -> ScoringWork:
        """Resolve what workers need (raises :class:`UsageError` for a host that cannot be rebuilt)."""
        if self._spec is None:
            self._spec = HostSpec.from_host(self._host if self._explicit_host else None)
            self._arrays = batch_to_arrays(self._batch)  # type: ignore[arg-type]
        return self

    def __getstate__(self) -> dict[str, Any]:
        self.for_workers()
        return {"_spec": self._spec, "_arrays": self._arrays, "wants_gpu": self.wants_gpu}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _host=None, _batch=None, _explicit_host=True)

    def setup(self, slot: int | None) -> tuple[PluginHost, Batch]:
        if self._host is not None and self._batch is not None:
            return self._host, self._batch
        assert self._spec is not None and self._arrays is not None
        return self._spec.build(), batch_from_arrays(self._arrays)

    def run(self, task: ArchTask, state: tuple[PluginHost, Batch]) -> TaskOutcome:
        host, batch = state
        return run_task(task, batch, host)

    def run_reporting(
        self, task: ArchTask, state: tuple[PluginHost, Batch], report: Callable[[Any], None]
    ) -> TaskOutcome:
        """:meth:`run`, reporting each finished proxy as ``(position, result)``."""
        host, batch = state
        return run_task(task, batch, host, on_result=lambda position, result: report((position, result)))


def run_scoring(
    executor: Executor, tasks: Sequence[ArchTask], work: ScoringWork
) -> Iterator[TaskOutcome]:
    """Run scoring tasks on ``executor``; yield one :class:`TaskOutcome` per task as it finishes.

    A task that could not be run (its worker died on every try, or it raised) becomes a
    :func:`crashed_outcome` holding the reason for each of its proxies; a task stopped by the
    time limit keeps the proxies its worker finished, the others fail with
    ``"timed out after N s"``.
    """
    if not isinstance(executor, InlineExecutor):
        work.for_workers()  # a host that workers cannot rebuild is an error before any work starts
    for outcome in executor.run(tasks, work):
        if outcome.ok and outcome.value is not None:
            yield outcome.value
        else:
            yield crashed_outcome(
                outcome.task, outcome.error or "unknown error", outcome.partial, timed_out=outcome.timed_out
            )
