"""Training as tasks for the execution layer (:mod:`zsbench.engine.executors`): train one
architecture of a space, return its record.

A :class:`TrainTask` is small and picklable (it names the space, or carries a space
object for spaces that are not installed plugins), so it can be shipped to a worker
process or a Ray task. :func:`run_task` is what the worker runs: it builds the network
with the task's seed, trains it with the recipe and returns a JSON-friendly record
holding the accuracies, the recipe and its hash, the costs and the timing.
:class:`TrainWork` is the :class:`~zsbench.engine.executors.Work` that runs tasks on any executor
(one GPU per local worker when there are GPUs).
"""

from __future__ import annotations

import datetime as _dt
import platform
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.engine.executors import Work
from zsbench.training.recipes import Recipe

if TYPE_CHECKING:  # pragma: no cover
    from zsbench.interfaces import SearchSpace

RECORD_FORMAT = 1


def result_key(space: str, arch: str, dataset: str, seed: int, recipe_hash: str) -> str:
    """The identity of one training run: results with the same key are the same run."""
    return f"{space}|{dataset}|seed={seed}|recipe={recipe_hash}|{arch}"


@dataclass
class TrainTask:
    """Train ``arch`` of ``space`` on ``dataset`` with ``recipe`` and ``seed``.

    Attributes:
        space: a search-space name (looked up in the plugin host where the task runs) or
            a :class:`~zsbench.SearchSpace` instance.
        arch: the architecture's canonical string.
        dataset: dataset name (``cifar10``, ``cifar100``, ``ImageNet16-120``).
        recipe: the training recipe.
        seed: seeds the network's initial weights, data order, augmentation and mixup.
        data_root: the data root as a string (``None``: ``ZSBENCH_DATA`` where the task runs).
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        threads: torch intra-op threads for the task (``None``: leave as is).
    """

    space: str | SearchSpace
    arch: str
    dataset: str
    recipe: Recipe
    seed: int = 0
    data_root: str | None = None
    device: str = "auto"
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def space_name(self) -> str:
        """The space's registry name."""
        return self.space if isinstance(self.space, str) else self.space.name

    @property
    def key(self) -> str:
        """See :func:`result_key`."""
        return result_key(self.space_name, self.arch, self.dataset, self.seed, self.recipe.hash())


def resolve_space(space: str | SearchSpace) -> SearchSpace:
    """The space object for a name (from the process-wide plugin host) or the object itself."""
    if not isinstance(space, str):
        return space
    from zsbench.plugins import get_host

    return get_host().spaces.get(space)


def run_task(task: TrainTask) -> dict[str, Any]:
    """Train the task's network and return its result record (raises on failure)."""
    import torch

    from zsbench.engine.harness import seed_everything
    from zsbench.training.datasets import prepare_training_data
    from zsbench.training.trainer import pick_device, train_network

    if task.threads is not None:
        torch.set_num_threads(max(1, task.threads))
    started = time.perf_counter()
    cpu_started = time.process_time()
    space = resolve_space(task.space)
    data = prepare_training_data(task.dataset, task.recipe, task.data_root)
    seed_everything(task.seed)
    model = space.build(task.arch, num_classes=data.num_classes, seed=task.seed, input_size=data.input_size)
    device = pick_device(task.device)
    outcome = train_network(model, data, task.recipe, seed=task.seed, device=device)
    cost = space.cost(task.arch, num_classes=data.num_classes, input_size=data.input_size)
    record = {
        "format": RECORD_FORMAT,
        "key": task.key,
        "status": "ok",
        "space": task.space_name,
        "arch": task.arch,
        "dataset": data.dataset,
        "seed": task.seed,
        "recipe_name": task.recipe.name,
        "recipe_hash": task.recipe.hash(),
        "recipe": task.recipe.as_dict(),
        "valid_accuracy": outcome.valid_accuracy,
        "test_accuracy": outcome.test_accuracy,
        "train_loss": outcome.train_loss,
        "epochs": outcome.epochs,
        "steps": outcome.steps,
        "train_seconds": outcome.seconds,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "device": outcome.device,
        "amp": outcome.amp,
        "channels_last": outcome.channels_last,
        "threads": torch.get_num_threads(),
        "flops": float(cost.flops),
        "params": int(cost.params),
        "depth": int(cost.depth),
        "input_size": data.input_size,
        "num_train": len(data.train),
        "num_valid": len(data.valid),
        "num_test": len(data.test),
        "data_source": _portable_source(data.source, task.data_root),
        "torch": torch.__version__,
        "host": platform.node(),
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    record.update(task.extra)
    return record


def cuda_count() -> int:
    """CUDA GPUs visible to this process (0 when torch sees none or CUDA is broken)."""
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # pragma: no cover - a broken CUDA setup means: no GPUs
        return 0


class TrainWork(Work[TrainTask, dict[str, Any]]):
    """Trains :class:`TrainTask` s (see :func:`run_task`).

    Args:
        gpus: GPUs of this machine; a local worker in slot ``i`` then trains the tasks that
            ask for ``auto`` or ``cuda`` on GPU ``i % gpus`` (``None``: count them).
        device: the tasks' device; unless it is ``cpu``, Ray reserves a GPU per task when
            the cluster has GPUs (a task on ``auto`` then finds it).
    """

    def __init__(self, gpus: int | None = None, device: str = "auto") -> None:
        self.gpus = cuda_count() if gpus is None else gpus
        self.wants_gpu = device != "cpu"

    def setup(self, slot: int | None) -> int | None:
        return slot

    def run(self, task: TrainTask, slot: int | None) -> dict[str, Any]:
        if self.gpus and slot is not None and task.device in ("auto", "cuda"):
            task = replace(task, device=f"cuda:{slot % self.gpus}")
        return run_task(task)


def failure_record(task: TrainTask, error: str, attempts: int) -> dict[str, Any]:
    """The record of a task that failed every attempt."""
    return {
        "format": RECORD_FORMAT,
        "key": task.key,
        "status": "failed",
        "space": task.space_name,
        "arch": task.arch,
        "dataset": task.dataset,
        "seed": task.seed,
        "recipe_name": task.recipe.name,
        "recipe_hash": task.recipe.hash(),
        "recipe": task.recipe.as_dict(),
        "error": error,
        "attempts": attempts,
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **task.extra,
    }


def _portable_source(source: str, data_root: str | None) -> str:
    # Records are committed to the repository: never store a machine's absolute path.
    import os

    roots = [r for r in (data_root, os.environ.get("ZSBENCH_DATA")) if r]
    for root in roots:
        for form in {str(Path(root)), str(Path(root).resolve())}:
            source = source.replace(form, "<data-root>")
    return source
