"""Executors: where the per-architecture scoring tasks run.

Each architecture is one independent :class:`ArchTask` (every missing proxy score of that
architecture, plus its costs when they are needed). An executor takes the tasks and yields
one :class:`TaskOutcome` per task as soon as it is finished, in completion order; the
engine stores each outcome in the cache as it arrives.

- :class:`LocalExecutor` runs the tasks one after another in this process (default).
- :class:`ProcessExecutor` runs them in N spawned worker processes; each worker loads the
  plugins itself. A worker that dies (segfault, out-of-memory kill) loses only the task it
  was running: that task is retried on a fresh worker, up to ``max_attempts`` times, then
  recorded as failed with the reason.
- :class:`RayExecutor` submits each task to a Ray cluster (``pip install zsbench[ray]``);
  Ray retries a task whose worker crashed.

The input batch is built once, in the driver, and shipped to the workers, so workers do not
need the dataset.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from zsbench.cache import CachedCost
from zsbench.errors import UsageError, ZsbenchError, describe_error
from zsbench.interfaces import Batch
from zsbench.plugins import PluginHost, get_host
from zsbench.scoring import ProxyResult, score_model

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

DEFAULT_MAX_ATTEMPTS = 3


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
        seed: scoring seed (see :func:`zsbench.scoring.score_model`).
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
        results: one :class:`~zsbench.scoring.ProxyResult` per proxy of the task.
        cost: the costs when the task asked for them.
        crashed: the worker crashed on every attempt; ``results`` then hold that reason.
    """

    index: int
    arch: str
    results: list[ProxyResult] = field(default_factory=list)
    cost: CachedCost | None = None
    crashed: bool = False


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


def run_task(task: ArchTask, batch: Batch, host: PluginHost) -> TaskOutcome:
    """Score one architecture with its proxies and, when asked, compute its costs."""
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

    results = score_model(build, proxies, batch, seed=task.seed, device=task.device) if proxies else []
    cost = None
    if task.want_cost:
        try:
            figures = space.cost(task.arch, task.num_classes, task.input_size)
            cost = CachedCost(float(figures.flops), float(figures.params), float(figures.depth), None)
        except Exception as exc:  # a cost failure is recorded, like a proxy failure
            nan = float("nan")
            cost = CachedCost(nan, nan, nan, describe_error(exc))
    return TaskOutcome(task.index, task.arch, results, cost)


def crashed_outcome(task: ArchTask, reason: str) -> TaskOutcome:
    """The outcome recorded for a task whose worker crashed on every attempt."""
    results = [ProxyResult(name.split(":")[-1], None, reason, 0.0) for name in task.proxies]
    cost = None
    if task.want_cost:
        nan = float("nan")
        cost = CachedCost(nan, nan, nan, reason)
    return TaskOutcome(task.index, task.arch, results, cost, crashed=True)


def batch_to_arrays(batch: Batch) -> tuple[np.ndarray, np.ndarray, int, str]:
    """A batch as plain NumPy arrays (cheap to pickle, no torch shared memory involved)."""
    return batch.inputs.detach().cpu().numpy(), batch.targets.detach().cpu().numpy(), batch.num_classes, batch.source


def batch_from_arrays(arrays: tuple[np.ndarray, np.ndarray, int, str]) -> Batch:
    """Inverse of :func:`batch_to_arrays`."""
    import torch

    inputs, targets, num_classes, source = arrays
    return Batch(torch.from_numpy(inputs.copy()), torch.from_numpy(targets.copy()), num_classes, source)


# -- executors ---------------------------------------------------------------------------------


class LocalExecutor:
    """Runs every task in this process, in order."""

    def __init__(self, host: PluginHost) -> None:
        self.host = host

    def run(self, tasks: Sequence[ArchTask], batch: Batch) -> Iterator[TaskOutcome]:
        """Yield each task's outcome as it finishes."""
        for task in tasks:
            yield run_task(task, batch, self.host)


def _worker_main(conn: Any, spec: HostSpec, arrays: tuple, threads: int) -> None:
    """Body of a worker process: build the host, then run tasks until told to stop."""
    import signal

    import torch

    # Ctrl-C reaches the whole process group: the driver handles it and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    torch.set_num_threads(threads)
    try:
        host = spec.build()
        batch = batch_from_arrays(arrays)
    except Exception as exc:
        conn.send(("error", f"worker could not load its plugins: {describe_error(exc)}"))
        return
    conn.send(("ready", None))
    while True:
        task = conn.recv()
        if task is None:
            return
        try:
            conn.send(("done", run_task(task, batch, host)))
        except ZsbenchError as exc:
            conn.send(("error", str(exc)))
            return


class _Worker:
    def __init__(self, ctx: Any, spec: HostSpec, arrays: tuple, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, spec, arrays, threads), daemon=True)
        self.process.start()
        child.close()
        self.task: ArchTask | None = None
        self.ready = False

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class ProcessExecutor:
    """Runs tasks in ``workers`` spawned processes (see the module docstring).

    Args:
        workers: number of worker processes.
        spec: how each worker builds its plugin host.
        max_attempts: tries per task before a crash is recorded as the task's failure.
        threads_per_worker: torch threads in each worker (default: CPU cores / workers).
    """

    def __init__(
        self,
        workers: int,
        spec: HostSpec,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        threads_per_worker: int | None = None,
    ) -> None:
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.spec = spec
        self.max_attempts = max_attempts
        self.threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)

    def run(self, tasks: Sequence[ArchTask], batch: Batch) -> Iterator[TaskOutcome]:
        """Yield each task's outcome as it finishes (completion order)."""
        from multiprocessing.connection import wait

        if not tasks:
            return
        ctx = multiprocessing.get_context("spawn")
        arrays = batch_to_arrays(batch)
        pending: deque[ArchTask] = deque(tasks)
        attempts: dict[int, int] = {}
        pool = [_Worker(ctx, self.spec, arrays, self.threads) for _ in range(min(self.workers, len(tasks)))]
        try:
            while pending or any(w.task is not None for w in pool):
                for worker in pool:
                    if worker.ready and worker.task is None and pending:
                        worker.task = pending.popleft()
                        worker.conn.send(worker.task)
                waitables = [w.conn for w in pool] + [w.process.sentinel for w in pool]
                ready = set(wait(waitables))
                for position, worker in enumerate(pool):
                    message = None
                    if worker.conn in ready:
                        try:
                            message = worker.conn.recv()
                        except (EOFError, OSError):
                            message = None
                    if message is not None:
                        kind, payload = message
                        if kind == "ready":
                            worker.ready = True
                        elif kind == "done":
                            worker.task = None
                            yield payload
                        else:
                            raise ZsbenchError(payload)
                        continue
                    if worker.conn in ready or worker.process.sentinel in ready:
                        outcome = self._replace_crashed(position, pool, ctx, arrays, pending, attempts)
                        if outcome is not None:
                            yield outcome
        finally:
            for worker in pool:
                worker.stop()

    def _replace_crashed(
        self,
        position: int,
        pool: list[_Worker],
        ctx: Any,
        arrays: tuple,
        pending: deque[ArchTask],
        attempts: dict[int, int],
    ) -> TaskOutcome | None:
        worker = pool[position]
        worker.process.join(timeout=5)
        exit_code = worker.process.exitcode
        task = worker.task
        worker.stop()
        if task is None and not worker.ready:
            raise ZsbenchError(f"a worker process died while starting (exit code {exit_code})")
        pool[position] = _Worker(ctx, self.spec, arrays, self.threads)
        if task is None:
            return None
        attempts[task.index] = attempts.get(task.index, 0) + 1
        if attempts[task.index] < self.max_attempts:
            pending.appendleft(task)
            return None
        return crashed_outcome(task, f"worker crashed {self.max_attempts} times (exit code {exit_code})")


_RAY_HOSTS: dict[HostSpec, PluginHost] = {}


def _ray_run_task(task: ArchTask, arrays: tuple, spec: HostSpec) -> TaskOutcome:
    """Ray task body: one plugin host per worker process and spec, reused across tasks."""
    if spec not in _RAY_HOSTS:
        import torch

        torch.set_num_threads(1)
        _RAY_HOSTS[spec] = spec.build()
    # rebuilding the batch per task costs a copy of a few hundred kB, negligible next to scoring
    return run_task(task, batch_from_arrays(arrays), _RAY_HOSTS[spec])


class RayExecutor:
    """Submits every task to Ray (a running cluster at ``address``, else a local instance).

    Args:
        spec: how each Ray worker builds its plugin host.
        address: Ray cluster address (``ray://host:10001`` or ``host:6379``); ``None``
            connects to ``RAY_ADDRESS`` when set, else starts a local instance.
        max_attempts: tries per task; Ray reruns a task whose worker process died.
        cpus_per_task: CPUs Ray reserves for each task.
    """

    def __init__(
        self,
        spec: HostSpec,
        address: str | None = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        cpus_per_task: float = 1.0,
    ) -> None:
        self.spec = spec
        self.address = address
        self.max_attempts = max_attempts
        self.cpus_per_task = cpus_per_task

    def run(self, tasks: Sequence[ArchTask], batch: Batch) -> Iterator[TaskOutcome]:
        """Yield each task's outcome as it finishes (completion order)."""
        try:
            import ray
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'zsbench[ray]'") from None
        if not tasks:
            return
        started_here = not ray.is_initialized()
        if started_here:
            try:
                ray.init(
                    address=self.address,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            except ConnectionError as exc:
                raise ZsbenchError(f"cannot connect to the Ray cluster at {self.address}: {exc}") from None
        remote = ray.remote(num_cpus=self.cpus_per_task, max_retries=max(0, self.max_attempts - 1))(_ray_run_task)
        arrays_ref = ray.put(batch_to_arrays(batch))
        in_flight = {remote.remote(task, arrays_ref, self.spec): task for task in tasks}
        try:
            while in_flight:
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    task = in_flight.pop(ref)
                    try:
                        yield ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        cause = exc.cause if isinstance(getattr(exc, "cause", None), ZsbenchError) else None
                        if cause is not None:
                            raise cause from None
                        raise ZsbenchError(f"Ray task for {task.arch} failed: {str(exc).splitlines()[0]}") from None
                    except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayError) as exc:
                        reason = f"worker crashed {self.max_attempts} times ({type(exc).__name__})"
                        yield crashed_outcome(task, reason)
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()


def make_executor(
    kind: str,
    *,
    host: PluginHost,
    explicit_host: bool,
    workers: int = 1,
    ray_address: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> LocalExecutor | ProcessExecutor | RayExecutor:
    """The executor for ``kind`` (``local``, ``process`` or ``ray``).

    ``workers > 1`` with ``kind="local"`` means processes. ``explicit_host`` says the
    caller passed its own host, which workers then rebuild from its plugin modules.
    """
    spec_host = host if explicit_host else None
    if kind == "ray":
        return RayExecutor(HostSpec.from_host(spec_host), ray_address, max_attempts=max_attempts)
    if kind == "process" or (kind == "local" and workers > 1):
        return ProcessExecutor(max(1, workers), HostSpec.from_host(spec_host), max_attempts=max_attempts)
    if kind == "local":
        return LocalExecutor(host)
    raise UsageError(f"unknown executor {kind!r}: choose local, process or ray")
