"""The execution layer: run independent tasks in this process, in worker processes or on Ray.

Scoring (``zsbench evaluate``, see :mod:`zsbench.engine.tasks`) and training
(``zsbench build``, see :mod:`zsbench.training.tasks`) both describe their work as a list
of picklable tasks plus one :class:`Work` object that says what a task does. An executor
runs them and yields one :class:`Outcome` per task as soon as it is finished, in completion
order, so the caller can store each result at once (an interrupted run loses only the
tasks in flight).

- :class:`InlineExecutor` runs the tasks one after another in this process.
- :class:`ProcessExecutor` runs them in N spawned worker processes.
- :class:`RayExecutor` submits one Ray task per task (``pip install zsbench[ray]``).

The rules are the same for every executor:

- **A task that raises** is tried again, up to ``max_attempts`` tries in all; its outcome
  then carries the error of the last try (``"Type: first line"``). Exceptions of the work's
  :attr:`Work.fatal_errors` types (a configuration problem that would fail every task, such
  as a worker with other plugin versions) stop the run and are raised in the caller.
- **A worker process that dies** (segfault, out-of-memory kill, ``SIGKILL``) loses only the
  task it was running: the process executor starts a fresh worker in its place and tries
  the task again, up to ``max_attempts`` tries; Ray does the same for its tasks. A task whose
  worker died on every try gets an outcome with ``crashed=True``, the exit code (and signal)
  in its reason, and what the last try reported as finished (:attr:`Outcome.partial`). The
  other workers and the run go on.
- **A task that runs past the time limit** (``timeout`` seconds, counted from when it was
  handed to a worker) is stopped: its worker process is killed and replaced (a Ray task is
  cancelled), and its outcome carries ``timed_out=True``, the reason ``"timed out after N s"``
  and the partial results the worker reported before (see :meth:`Work.run_reporting`). A
  timed-out task is not tried again in the same run: a hung call would hang again. The
  in-process executor cannot stop a call, so it has no time limit; :func:`make_executor`
  gives one worker process instead when a limit is asked for in-process work.
- **Threads**: every worker process and Ray task sets torch's intra-op threads (and its
  inter-op threads, where torch still allows it) to ``threads``. The default,
  :func:`default_threads`, divides the cores that other work leaves free among the
  workers, at least one each, so parallel workers never oversubscribe the CPUs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from zsbench.engine.isolation import mark_worker_process, register_child, unregister_child
from zsbench.errors import UsageError, ZsbenchError, describe_error

DEFAULT_MAX_ATTEMPTS = 3
#: Seconds one architecture may take in a worker process or Ray task unless told otherwise
#: (``--timeout``). The slowest architecture of the shipped score packs took 121 s for its 15
#: proxies (117 s of them ntk, on an SS-MB network, one thread); 900 s leaves a busy or slower
#: machine more than seven times that, and still ends a hung proxy within a quarter of an hour.
DEFAULT_TIMEOUT = 900.0
EXECUTOR_KINDS = ("local", "process", "ray")

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")


# -- threads -------------------------------------------------------------------------------------


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no affinity mask
        return max(1, os.cpu_count() or 1)


def busy_cores() -> int:
    """Cores other work keeps busy: the 1-minute load average, rounded (0 where the OS has none)."""
    try:
        return max(0, round(os.getloadavg()[0]))
    except (AttributeError, OSError):  # Windows has no load average
        return 0


def default_threads(workers: int = 1) -> int:
    """Torch threads per worker that never oversubscribe: the cores that are not busy with
    other work (:func:`busy_cores`), divided among the ``workers``, at least one each.
    ``OMP_NUM_THREADS``, when set, caps the cores used, as it caps torch's own default.

    Counting busy cores matters: a torch thread that waits for a descheduled sibling at
    every parallel region makes a multi-threaded run on a busy machine several times slower
    than a single-threaded one (``benchmarks/perf/threads_perf.py``).
    """
    cores = available_cores()
    try:
        cap = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        cap = 0
    if cap > 0:
        cores = min(cores, cap)
    free = max(1, cores - busy_cores())
    return max(1, free // max(1, workers))


#: Work a run must be predicted to take before ``workers=None`` starts worker processes: a worker
#: costs seconds to start (importing torch and the plugins), so a few seconds of scoring stay in-process.
PARALLEL_MIN_SECONDS = 20.0
#: Without recorded timings, the networks a run must score before ``workers=None`` starts workers.
PARALLEL_MIN_TASKS = 50


def default_workers(tasks: int, expected_seconds: float | None) -> int:
    """Worker processes when the user gave none: one per core (each single-threaded, see
    :func:`default_threads`) when the work is worth starting them for, else 1 (in-process).

    Measured on 2 cores (``benchmarks/perf/split_perf.py``): two single-threaded workers
    scored 1.1 to 2.0 times faster than one process with two threads, worker start included,
    from 16 networks with the whole suite down to one cheap proxy on 100 networks. Unlike
    threads, processes are not slowed by other work on the cores (they take turns; no thread
    waits for a descheduled sibling), so the busy cores are not subtracted here.

    Args:
        tasks: networks still to score.
        expected_seconds: their compute time as recorded timings predict it (``None``: unknown).
    """
    cores = available_cores()
    if cores < 2 or tasks < 2:
        return 1
    if expected_seconds is not None:
        worth = expected_seconds >= PARALLEL_MIN_SECONDS
    else:
        worth = tasks >= PARALLEL_MIN_TASKS
    return min(cores, tasks) if worth else 1


def set_torch_threads(threads: int) -> None:
    """Set torch's intra-op threads to ``threads`` and, where still allowed, its inter-op threads.

    Torch accepts a new inter-op thread count only before its first inter-op parallel work
    in a process; later calls raise, and the count that is already in place is kept.
    """
    import torch

    threads = max(1, int(threads))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != threads:
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            pass


# -- work and outcomes ---------------------------------------------------------------------------


class Work(ABC, Generic[TaskT, ResultT]):
    """What every task of a run does. Picklable: it is sent once to each worker process.

    Attributes:
        fatal_errors: exception types that stop the whole run instead of failing one task.
        wants_gpu: Ray reserves a GPU for each task when the cluster has GPUs.
    """

    fatal_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    wants_gpu: bool = False

    def setup(self, slot: int | None) -> Any:
        """Per-process state, built once in each worker before its first task.

        Args:
            slot: the worker's number in a local pool (``0`` .. ``workers - 1``; a replacement
                worker takes the number of the one it replaces, so with GPUs slot ``i`` can
                use GPU ``i``); ``0`` in this process; ``None`` in a Ray task.
        """
        return None

    @abstractmethod
    def run(self, task: TaskT, state: Any) -> ResultT:
        """Do one task with the state :meth:`setup` built; raise to fail the try."""

    def run_reporting(self, task: TaskT, state: Any, report: Callable[[Any], None]) -> ResultT:
        """:meth:`run`, calling ``report(item)`` with each piece of the task that is finished
        (picklable), so that a task stopped by the time limit keeps what it had done
        (:attr:`Outcome.partial`). The default reports nothing."""
        return self.run(task, state)


@dataclass
class Outcome(Generic[TaskT, ResultT]):
    """What became of one task.

    Attributes:
        index: the task's position in the sequence given to the executor.
        task: the task.
        value: what :meth:`Work.run` returned (``None`` when the task failed).
        error: ``None`` on success, else the reason of the last try.
        attempts: tries made.
        crashed: the worker process died on every try.
        timed_out: the task ran past the time limit and was stopped.
        partial: what the task reported as finished before it was stopped (see
            :meth:`Work.run_reporting`).
    """

    index: int
    task: TaskT
    value: ResultT | None = None
    error: str | None = None
    attempts: int = 1
    crashed: bool = False
    timed_out: bool = False
    partial: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The task succeeded."""
        return self.error is None


class Executor(ABC):
    """Runs tasks and yields their :class:`Outcome` s in completion order (see the module docstring)."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    #: seconds one task may run before it is stopped (``None``: no limit)
    timeout: float | None = None

    @abstractmethod
    def run(self, tasks: Sequence[TaskT], work: Work[TaskT, ResultT]) -> Iterator[Outcome[TaskT, ResultT]]:
        """Run ``tasks`` with ``work``; yield each outcome as soon as it is known."""

    @abstractmethod
    def describe(self) -> str:
        """One line for progress output."""


def _portable_error(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (to travel from a worker to the caller), else a
    :class:`ZsbenchError` with its message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ZsbenchError(str(exc))


def timeout_reason(timeout: float) -> str:
    """The failure reason recorded for what a task stopped by the time limit had not finished."""
    return f"timed out after {timeout:g} s"


def _death_note(exit_code: int | None) -> str:
    """What a worker's exit code says: killed by a signal, and SIGKILL's usual sender."""
    if exit_code is None or exit_code >= 0:
        return ""
    import signal

    try:
        name = signal.Signals(-exit_code).name
    except ValueError:
        return ""
    return f": {name}, as the out-of-memory killer sends" if name == "SIGKILL" else f": {name}"


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if not timeout > 0:  # NaN too
        raise UsageError(f"--timeout must be a positive number of seconds (0: no limit), got {timeout}")
    return float(timeout)


def _check_attempts(max_attempts: int) -> int:
    if max_attempts < 1:
        raise UsageError(f"max_attempts must be at least 1, got {max_attempts}")
    return int(max_attempts)


# -- in this process -----------------------------------------------------------------------------


class InlineExecutor(Executor):
    """Runs every task in this process, in order.

    Args:
        threads: torch threads while the tasks run (``None``: every core other work leaves
            free, see :func:`default_threads`); the previous intra-op count is restored afterwards.
        max_attempts: tries of a task that raises.
    """

    def __init__(self, threads: int | None = None, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        if threads is not None and threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        self.threads = threads if threads is not None else default_threads(1)
        self.max_attempts = _check_attempts(max_attempts)

    def describe(self) -> str:
        return f"this process, {self.threads} thread(s)"

    def run(self, tasks: Sequence[TaskT], work: Work[TaskT, ResultT]) -> Iterator[Outcome[TaskT, ResultT]]:
        if not tasks:
            return
        import torch

        previous = torch.get_num_threads()
        set_torch_threads(self.threads)
        try:
            state = work.setup(0)
            for index, task in enumerate(tasks):
                error = ""
                for attempt in range(1, self.max_attempts + 1):
                    try:
                        value = work.run(task, state)
                    except work.fatal_errors:
                        raise
                    except Exception as exc:  # a failing task is recorded, never fatal
                        error = describe_error(exc)
                        continue
                    yield Outcome(index, task, value, attempts=attempt)
                    break
                else:
                    yield Outcome(index, task, None, error, attempts=self.max_attempts)
        finally:
            torch.set_num_threads(previous)


# -- worker processes ----------------------------------------------------------------------------


def _worker_main(conn: Any, work: Work[Any, Any], slot: int, threads: int) -> None:
    """Body of a worker process: set threads, build the state, then run tasks until told to stop."""
    # Ctrl-C reaches the whole process group, and a batch scheduler's SIGTERM often every
    # process of the job: the caller handles both and stops its workers
    mark_worker_process()
    try:
        set_torch_threads(threads)
        state = work.setup(slot)
    except Exception as exc:
        conn.send(("setup-failed", _portable_error(exc)))
        return
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the caller is gone
            return
        if task is None:
            return
        try:
            value = work.run_reporting(task, state, lambda item: conn.send(("partial", item)))
            message: tuple[str, Any] = ("done", value)
            conn.send(message)
        except Exception as exc:
            fatal = _portable_error(exc) if isinstance(exc, work.fatal_errors) else None
            conn.send(("raised", (describe_error(exc), fatal)))


class _Worker:
    """One worker process, its pipe, and the task it is running."""

    def __init__(self, ctx: Any, work: Work[Any, Any], slot: int, threads: int) -> None:
        self.slot = slot
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, work, slot, threads), daemon=True)
        self.process.start()
        register_child(self.process.pid)
        child.close()
        self.index: int | None = None
        self.ready = False
        self.started = 0.0  # time.monotonic() when its current task was sent
        self.partial: list[Any] = []  # what its current task reported as finished

    def stop(self, *, at_once: bool = False) -> None:
        """Ask the worker to end (it finishes its task first); kill it after 5 s, or ``at_once``."""
        if not at_once:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        unregister_child(self.process.pid)
        self.conn.close()


class ProcessExecutor(Executor):
    """Runs tasks in ``workers`` spawned processes; a worker that dies is replaced (see the
    module docstring).

    Args:
        workers: number of worker processes.
        threads: torch threads in each worker (default: :func:`default_threads`).
        max_attempts: tries of a task that raises or whose worker dies.
        timeout: seconds a task may run before its worker is killed and replaced (``None``: no limit).
    """

    def __init__(
        self,
        workers: int,
        threads: int | None = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout: float | None = None,
    ) -> None:
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        if threads is not None and threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        self.workers = workers
        self.threads = threads if threads is not None else default_threads(workers)
        self.max_attempts = _check_attempts(max_attempts)
        self.timeout = _check_timeout(timeout)

    def describe(self) -> str:
        limit = f", {self.timeout:g} s per task" if self.timeout is not None else ""
        return f"{self.workers} worker process(es) x {self.threads} thread(s){limit}"

    def run(self, tasks: Sequence[TaskT], work: Work[TaskT, ResultT]) -> Iterator[Outcome[TaskT, ResultT]]:
        from multiprocessing.connection import wait

        if not tasks:
            return
        ctx = multiprocessing.get_context("spawn")
        pending: deque[int] = deque(range(len(tasks)))
        attempts = [0] * len(tasks)
        pool = [_Worker(ctx, work, slot, self.threads) for slot in range(min(self.workers, len(tasks)))]
        try:
            while pending or any(w.index is not None for w in pool):
                for worker in pool:
                    if worker.ready and worker.index is None and pending:
                        worker.index = pending.popleft()
                        attempts[worker.index] += 1
                        worker.partial = []
                        worker.started = time.monotonic()
                        worker.conn.send(tasks[worker.index])
                ready = set(wait([w.conn for w in pool] + [w.process.sentinel for w in pool], self._wait_limit(pool)))
                for position, worker in enumerate(pool):
                    if self._overdue(worker) and worker.conn not in ready:
                        yield self._stop_overdue(position, pool, ctx, work, tasks, attempts)
                        continue
                    message = None
                    if worker.conn in ready:
                        try:
                            message = worker.conn.recv()
                        except (EOFError, OSError):
                            message = None
                    if message is not None:
                        outcome = self._handle(worker, message, tasks, attempts, pending)
                        if outcome is not None:
                            yield outcome
                    elif worker.conn in ready or worker.process.sentinel in ready:
                        outcome = self._replace_dead(position, pool, ctx, work, tasks, attempts, pending)
                        if outcome is not None:
                            yield outcome
        except BaseException:
            # interrupted (Ctrl-C, SIGTERM) or a fatal error: what the workers are computing is lost anyway
            for worker in pool:
                worker.stop(at_once=True)
            raise
        else:
            for worker in pool:
                worker.stop()

    def _handle(
        self,
        worker: _Worker,
        message: tuple[str, Any],
        tasks: Sequence[TaskT],
        attempts: list[int],
        pending: deque[int],
    ) -> Outcome[TaskT, Any] | None:
        kind, payload = message
        if kind == "ready":
            worker.ready = True
            return None
        if kind == "partial":
            worker.partial.append(payload)
            return None
        if kind == "setup-failed":
            raise payload
        index = worker.index
        assert index is not None, f"worker sent {kind!r} without a task"
        worker.index = None
        if kind == "done":
            return Outcome(index, tasks[index], payload, attempts=attempts[index])
        reason, fatal = payload
        if fatal is not None:
            raise fatal
        if attempts[index] < self.max_attempts:
            pending.appendleft(index)
            return None
        return Outcome(index, tasks[index], None, reason, attempts=attempts[index])

    def _wait_limit(self, pool: list[_Worker]) -> float | None:
        """Seconds until the first busy worker's task runs past the time limit (``None``: wait on)."""
        if self.timeout is None:
            return None
        deadlines = [w.started + self.timeout for w in pool if w.index is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _overdue(self, worker: _Worker) -> bool:
        return self.timeout is not None and worker.index is not None and time.monotonic() - worker.started > self.timeout

    def _stop_overdue(
        self,
        position: int,
        pool: list[_Worker],
        ctx: Any,
        work: Work[TaskT, Any],
        tasks: Sequence[TaskT],
        attempts: list[int],
    ) -> Outcome[TaskT, Any]:
        """Kill the worker whose task ran past the limit, start a fresh one in its place, and
        give the task's outcome (not tried again: a hung call would hang again)."""
        assert self.timeout is not None
        worker = pool[position]
        index = worker.index
        assert index is not None
        # what the worker reported before the limit (still in the pipe) counts, a finished task too
        with contextlib.suppress(EOFError, OSError):
            while worker.conn.poll():
                kind, payload = worker.conn.recv()
                if kind == "partial":
                    worker.partial.append(payload)
                elif kind == "done":
                    worker.index = None
                    return Outcome(index, tasks[index], payload, attempts=attempts[index])
        worker.stop(at_once=True)
        pool[position] = _Worker(ctx, work, worker.slot, self.threads)
        reason = timeout_reason(self.timeout)
        return Outcome(index, tasks[index], None, reason, attempts=attempts[index], timed_out=True, partial=worker.partial)

    def _replace_dead(
        self,
        position: int,
        pool: list[_Worker],
        ctx: Any,
        work: Work[TaskT, Any],
        tasks: Sequence[TaskT],
        attempts: list[int],
        pending: deque[int],
    ) -> Outcome[TaskT, Any] | None:
        worker = pool[position]
        worker.process.join(timeout=5)
        exit_code = worker.process.exitcode
        index = worker.index
        worker.stop()
        if index is None and not worker.ready:
            raise ZsbenchError(f"a worker process died while starting (exit code {exit_code})")
        pool[position] = _Worker(ctx, work, worker.slot, self.threads)
        if index is None:
            return None
        if attempts[index] < self.max_attempts:
            pending.appendleft(index)
            return None
        reason = f"worker crashed {attempts[index]} times (exit code {exit_code}{_death_note(exit_code)})"
        # what the last try reported as finished before its worker died is kept
        return Outcome(index, tasks[index], None, reason, attempts=attempts[index], crashed=True, partial=worker.partial)


# -- Ray -----------------------------------------------------------------------------------------

# The state of the run a Ray worker process served last: (run token, state). One entry only,
# so a long-lived Ray worker does not keep the state of every run it ever served.
_RAY_STATE: tuple[str, Any] | None = None


def _ray_task(work: Work[Any, Any], token: str, task: Any, threads: int) -> tuple[str, Any]:
    """Ray task body: the run's state is built once per Ray worker process and reused."""
    global _RAY_STATE
    mark_worker_process(ignore_signals=False)
    try:
        set_torch_threads(threads)
        if _RAY_STATE is None or _RAY_STATE[0] != token:
            _RAY_STATE = None
            _RAY_STATE = (token, work.setup(None))
    except Exception as exc:
        return "setup-failed", _portable_error(exc)
    try:
        return "done", work.run(task, _RAY_STATE[1])
    except Exception as exc:
        fatal = _portable_error(exc) if isinstance(exc, work.fatal_errors) else None
        return "raised", (describe_error(exc), fatal)


class RayExecutor(Executor):
    """One Ray task per task, on a Ray cluster or a local instance.

    Args:
        address: cluster address (``ray://host:10001``, ``host:6379`` or ``auto``); ``None``
            connects to ``RAY_ADDRESS`` when it is set, else starts a local instance (stopped
            again when the run ends).
        max_attempts: tries of a task that raises (resubmitted by the caller) or whose worker
            dies (rerun by Ray).
        cpus_per_task: CPUs Ray reserves for each task.
        threads: torch threads in each task (default: ``cpus_per_task``).
        gpus_per_task: GPUs per task; ``None``: 1 when the work wants a GPU and the cluster
            has GPUs, else 0.
        num_cpus: CPUs of a local instance (``None``: all cores).
        timeout: seconds a task may run before it is cancelled, which kills its Ray worker
            process; ``None``: no limit. With a limit, only as many tasks as the cluster's CPUs
            (and GPUs) hold at once are in flight, and a task's time counts from its submission;
            an autoscaling cluster that should grow with the queue wants no limit (``--timeout 0``).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        cpus_per_task: float = 1.0,
        threads: int | None = None,
        gpus_per_task: float | None = None,
        num_cpus: int | None = None,
        timeout: float | None = None,
    ) -> None:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'zsbench[ray]'") from None
        if cpus_per_task <= 0:
            raise UsageError(f"--cpus-per-task must be positive, got {cpus_per_task}")
        if threads is not None and threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        self.address = address
        self.max_attempts = _check_attempts(max_attempts)
        self.cpus_per_task = cpus_per_task
        self.threads = threads if threads is not None else max(1, int(cpus_per_task))
        self.gpus_per_task = gpus_per_task
        self.num_cpus = num_cpus
        self.timeout = _check_timeout(timeout)

    def describe(self) -> str:
        where = self.address or os.environ.get("RAY_ADDRESS") or "local instance"
        return f"ray ({where}), {self.cpus_per_task:g} CPU(s) x {self.threads} thread(s) per task"

    def _slots(self, ray: Any, gpus: float) -> int:
        """Tasks the cluster runs at once: its CPUs (and GPUs) over what each task reserves."""
        resources = ray.cluster_resources()
        slots = int(resources.get("CPU", 1) // self.cpus_per_task)
        if gpus:
            slots = min(slots, int(resources.get("GPU", 0) // gpus))
        return max(1, slots)

    def _connect(self, ray: Any) -> bool:
        """Start or join the Ray cluster unless this process is already connected; True when started here."""
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if self.address:
            options["address"] = self.address
        elif self.num_cpus is not None and not os.environ.get("RAY_ADDRESS"):
            options["num_cpus"] = self.num_cpus
        try:
            ray.init(**options)
        except ConnectionError as exc:
            raise ZsbenchError(f"cannot connect to the Ray cluster at {self.address}: {exc}") from None
        return True

    def _cancel_overdue(
        self,
        ray: Any,
        tasks: Sequence[TaskT],
        in_flight: dict[Any, int],
        submitted: dict[Any, float],
        attempts: list[int],
    ) -> Iterator[Outcome[TaskT, ResultT]]:
        """Cancel every task past the limit (a queued one counts from its submission too): Ray kills
        its worker process and starts another for the next task; each is a timed-out outcome."""
        assert self.timeout is not None
        now = time.monotonic()
        for ref in [r for r, at in submitted.items() if now - at > self.timeout]:
            ray.cancel(ref, force=True)
            index = in_flight.pop(ref)
            del submitted[ref]
            yield Outcome(index, tasks[index], None, timeout_reason(self.timeout), attempts=attempts[index], timed_out=True)

    def run(self, tasks: Sequence[TaskT], work: Work[TaskT, ResultT]) -> Iterator[Outcome[TaskT, ResultT]]:
        import ray

        if not tasks:
            return
        started_here = self._connect(ray)
        in_flight: dict[Any, int] = {}
        submitted: dict[Any, float] = {}  # ref -> time.monotonic() at submission
        try:
            gpus = self.gpus_per_task
            if gpus is None:
                gpus = 1 if work.wants_gpu and ray.cluster_resources().get("GPU", 0) > 0 else 0
            # Ray reruns a task whose worker process died; a task that raised is resubmitted below.
            remote = ray.remote(_ray_task).options(
                num_cpus=self.cpus_per_task, num_gpus=gpus, max_retries=self.max_attempts - 1
            )
            work_ref = ray.put(work)
            token = uuid.uuid4().hex
            attempts = [0] * len(tasks)

            def submit(index: int) -> None:
                attempts[index] += 1
                ref = remote.remote(work_ref, token, tasks[index], self.threads)
                in_flight[ref] = index
                submitted[ref] = time.monotonic()

            # With a time limit, only as many tasks are in flight as the cluster runs at once, so
            # that a task's time counts from about when it starts rather than while it waits in
            # Ray's queue; without one, every task is submitted at once.
            waiting = deque(range(len(tasks)))
            slots = len(tasks) if self.timeout is None else self._slots(ray, gpus)

            def fill() -> None:
                while waiting and len(in_flight) < slots:
                    submit(waiting.popleft())

            fill()
            while in_flight:
                limit = None
                if self.timeout is not None:
                    limit = max(0.0, min(submitted.values()) + self.timeout - time.monotonic())
                done, _ = ray.wait(list(in_flight), num_returns=1, timeout=limit)
                if not done and self.timeout is not None:
                    yield from self._cancel_overdue(ray, tasks, in_flight, submitted, attempts)
                    fill()
                    continue
                for ref in done:
                    index = in_flight.pop(ref)
                    submitted.pop(ref, None)
                    task = tasks[index]
                    try:
                        kind, payload = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the worker died on every rerun
                        reason = f"worker crashed {self.max_attempts} times ({type(exc).__name__})"
                        yield Outcome(index, task, None, reason, attempts=self.max_attempts, crashed=True)
                        continue
                    if kind == "done":
                        yield Outcome(index, task, payload, attempts=attempts[index])
                    elif kind == "setup-failed":
                        raise payload
                    else:
                        reason, fatal = payload
                        if fatal is not None:
                            raise fatal
                        if attempts[index] < self.max_attempts:
                            submit(index)
                        else:
                            yield Outcome(index, task, None, reason, attempts=attempts[index])
                fill()
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()


def make_executor(
    kind: str = "local",
    *,
    workers: int = 1,
    threads: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ray_address: str | None = None,
    cpus_per_task: float = 1.0,
    gpus_per_task: float | None = None,
    num_cpus: int | None = None,
    timeout: float | None = None,
) -> Executor:
    """The executor for ``kind``: ``local`` (this process; with ``workers > 1``, worker
    processes), ``process`` (always worker processes, also for one worker: a crash then costs
    only its task) or ``ray``. ``timeout`` (seconds per task, ``None``: no limit; see
    :func:`effective_timeout`) makes ``local`` work run in one worker process, which can be
    killed when a call hangs.

    Raises:
        UsageError: an unknown kind, fewer than one worker or thread, a timeout that is not positive.
    """
    if kind not in EXECUTOR_KINDS:
        raise UsageError(f"unknown executor {kind!r}: choose {', '.join(EXECUTOR_KINDS)}")
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    if kind == "ray":
        return RayExecutor(
            ray_address,
            max_attempts=max_attempts,
            cpus_per_task=cpus_per_task,
            threads=threads,
            gpus_per_task=gpus_per_task,
            num_cpus=num_cpus,
            timeout=timeout,
        )
    if kind == "process" or workers > 1 or timeout is not None:
        # this process cannot stop a hung call: a time limit needs a worker process to kill
        return ProcessExecutor(workers, threads, max_attempts=max_attempts, timeout=timeout)
    return InlineExecutor(threads, max_attempts=max_attempts)


def effective_timeout(timeout: float | None, kind: str = "local", workers: int = 1) -> float | None:
    """The time limit per task that ``--timeout`` asks for: ``None`` (not given) is
    :data:`DEFAULT_TIMEOUT` where the tasks run in worker processes or on Ray anyway, and no
    limit for work in this process (which would otherwise pay a worker's start-up); ``0`` is
    no limit anywhere; a positive number is that limit everywhere.

    Raises:
        UsageError: a negative or NaN timeout.
    """
    if timeout is None:
        return DEFAULT_TIMEOUT if kind in ("process", "ray") or workers > 1 else None
    if timeout == 0:
        return None
    return _check_timeout(timeout)
