"""Executors: run training tasks and yield each result as soon as it is finished.

- :class:`LocalExecutor` (default): on this machine. With one worker it trains in this
  process with every core as torch threads; with several workers it starts that many
  processes (one per GPU when there are GPUs) and splits the cores between them.
- :class:`RayExecutor`: one Ray task per architecture on a Ray cluster (a local instance
  when no address is given), a GPU per task when the cluster has GPUs, failed tasks
  retried by Ray.

Both yield ``(task, record)`` pairs in completion order; a record's ``status`` is
``"ok"`` or ``"failed"`` (with the ``error`` of the last attempt). The caller writes each
record at once, so a killed build loses only the tasks in flight.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from zsbench.errors import UsageError, describe_error
from zsbench.training.tasks import TrainTask, failure_record, run_task

Outcome = tuple[TrainTask, dict[str, Any]]


class Executor(ABC):
    """Runs :class:`TrainTask` s; see the module docstring."""

    name: str = "executor"

    @abstractmethod
    def run(self, tasks: Sequence[TrainTask]) -> Iterator[Outcome]:
        """Run ``tasks`` and yield ``(task, record)`` for each one as it finishes."""

    def describe(self) -> str:
        """One line for progress output."""
        return self.name


def _cuda_count() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # pragma: no cover - a broken CUDA setup means: no GPUs
        return 0


class LocalExecutor(Executor):
    """Train on this machine.

    Args:
        workers: parallel trainings (default: the number of GPUs, else 1).
        threads: torch threads per worker (default: the CPU cores divided by ``workers``).
        retries: extra attempts for a task that raised.
    """

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None, retries: int = 1) -> None:
        gpus = _cuda_count()
        self.gpus = gpus
        self.workers = workers if workers is not None else max(1, gpus)
        if self.workers < 1:
            raise UsageError(f"workers must be >= 1, got {self.workers}")
        cores = os.cpu_count() or 1
        self.threads = threads if threads is not None else max(1, cores // self.workers)
        self.retries = max(0, retries)

    def describe(self) -> str:
        gpu = f", {self.gpus} GPU(s)" if self.gpus else ""
        return f"local: {self.workers} worker(s) x {self.threads} thread(s){gpu}"

    def _prepare(self, task: TrainTask, slot: int | None) -> TrainTask:
        device = task.device
        if self.gpus and slot is not None and device in ("auto", "cuda"):
            device = f"cuda:{slot % self.gpus}"
        return replace(task, threads=self.threads if task.threads is None else task.threads, device=device)

    def run(self, tasks: Sequence[TrainTask]) -> Iterator[Outcome]:
        if self.workers == 1:
            yield from self._run_inline(tasks)
        else:
            yield from self._run_pool(tasks)

    def _run_inline(self, tasks: Sequence[TrainTask]) -> Iterator[Outcome]:
        import torch

        previous_threads = torch.get_num_threads()
        try:
            for task in tasks:
                prepared = self._prepare(task, 0)
                error = ""
                for _attempt in range(self.retries + 1):
                    try:
                        record = run_task(prepared)
                        break
                    except Exception as exc:  # a failing network is recorded, never fatal
                        error = describe_error(exc)
                else:
                    record = failure_record(task, error, self.retries + 1)
                yield task, record
        finally:
            torch.set_num_threads(previous_threads)

    def _run_pool(self, tasks: Sequence[TrainTask]) -> Iterator[Outcome]:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        context = multiprocessing.get_context("spawn")
        queue = list(enumerate(tasks))
        attempts: dict[int, int] = {}
        running: dict[Future, int] = {}
        # Every worker process takes one slot for its life: with GPUs, slot i trains on GPU i.
        slots = context.Queue()
        for slot in range(self.workers):
            slots.put(slot)
        pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_take_worker_slot, initargs=(slots,)
        )
        try:

            def submit(index: int) -> None:
                task = self._prepare(tasks[index], None)
                running[pool.submit(_run_in_worker, task, self.gpus)] = index

            # Keep at most `workers` tasks in flight so a kill loses no more than that.
            while queue and len(running) < self.workers:
                submit(queue.pop(0)[0])
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    attempts[index] = attempts.get(index, 0) + 1
                    try:
                        record = future.result()
                    except BrokenProcessPool as exc:
                        yield tasks[index], failure_record(tasks[index], describe_error(exc), attempts[index])
                        continue
                    except Exception as exc:
                        if attempts[index] <= self.retries:
                            queue.insert(0, (index, tasks[index]))
                        else:
                            yield tasks[index], failure_record(tasks[index], describe_error(exc), attempts[index])
                    else:
                        yield tasks[index], record
                while queue and len(running) < self.workers:
                    submit(queue.pop(0)[0])
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


_WORKER_SLOT: int | None = None


def _take_worker_slot(slots: Any) -> None:
    global _WORKER_SLOT
    _WORKER_SLOT = int(slots.get())


def _run_in_worker(task: TrainTask, gpus: int) -> dict[str, Any]:
    if gpus and _WORKER_SLOT is not None and task.device in ("auto", "cuda"):
        task = replace(task, device=f"cuda:{_WORKER_SLOT % gpus}")
    return run_task(task)


def _ray_run(task: TrainTask, threads: int, use_gpu: bool) -> dict[str, Any]:
    # Ray sets CUDA_VISIBLE_DEVICES for a task that asked for a GPU.
    return run_task(replace(task, threads=threads, device="cuda" if use_gpu else "cpu"))


class RayExecutor(Executor):
    """One Ray task per architecture.

    Args:
        address: Ray cluster address (``"auto"`` for a running cluster); ``None`` starts a
            local instance (stopped again when the run ends).
        retries: Ray retries of a task that raised or whose worker died.
        cpus_per_task: CPUs reserved per task (also its torch threads).
        gpus_per_task: GPUs per task; ``None``: 1 when the cluster has GPUs, else 0.
        num_cpus: CPUs of a local instance (``None``: all cores).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        retries: int = 2,
        cpus_per_task: int = 1,
        gpus_per_task: float | None = None,
        num_cpus: int | None = None,
    ) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise UsageError("the ray executor needs Ray: pip install 'zsbench[ray]'") from exc
        self.address = address
        self.retries = max(0, retries)
        self.cpus_per_task = max(1, cpus_per_task)
        self.gpus_per_task = gpus_per_task
        self.num_cpus = num_cpus

    def describe(self) -> str:
        return f"ray: {self.address or 'local instance'}, {self.cpus_per_task} CPU(s) per task, retries {self.retries}"

    def run(self, tasks: Sequence[TrainTask]) -> Iterator[Outcome]:
        import ray

        started_here = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                kwargs["address"] = self.address
            elif self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
            ray.init(**kwargs)
            started_here = True
        try:
            gpus = self.gpus_per_task
            if gpus is None:
                gpus = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
            remote = ray.remote(_ray_run).options(
                num_cpus=self.cpus_per_task,
                num_gpus=gpus,
                max_retries=self.retries,
                retry_exceptions=True,
            )
            pending = {remote.remote(task, self.cpus_per_task, gpus > 0): task for task in tasks}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    try:
                        record = ray.get(ref)
                    except Exception as exc:
                        cause = getattr(exc, "cause", None)
                        reason = describe_error(cause if isinstance(cause, BaseException) else exc)
                        record = failure_record(task, reason, self.retries + 1)
                    yield task, record
        finally:
            if started_here:
                ray.shutdown()


def make_executor(name: str, **options: Any) -> Executor:
    """An executor by name (``local`` or ``ray``); ``None``-valued options are dropped."""
    options = {k: v for k, v in options.items() if v is not None}
    if name == "local":
        return LocalExecutor(**{k: v for k, v in options.items() if k in ("workers", "threads", "retries")})
    if name == "ray":
        return RayExecutor(
            **{k: v for k, v in options.items() if k in ("address", "retries", "cpus_per_task", "gpus_per_task", "num_cpus")}
        )
    raise UsageError(f"unknown executor {name!r}; choose local or ray")
