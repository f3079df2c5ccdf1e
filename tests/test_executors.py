"""The execution layer's rules, the same for every executor: retries of tasks that raise,
fatal errors, threads set inside every worker, workers that die replaced."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from zsbench.engine import executors
from zsbench.engine.executors import (
    PARALLEL_MIN_SECONDS,
    PARALLEL_MIN_TASKS,
    InlineExecutor,
    ProcessExecutor,
    Work,
    default_threads,
    default_workers,
    make_executor,
)
from zsbench.errors import UsageError, ZsbenchError


class Probe(Work[str, dict]):
    """Tasks are commands: ``ok:N`` returns N squared, ``flaky:NAME`` raises on the first
    try only, ``bad`` always raises, ``fatal`` raises a fatal error, ``die:NAME`` kills its
    process on the first try only. Every result says where and with how many threads it ran."""

    fatal_errors = (ZsbenchError,)

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    def setup(self, slot: int | None) -> dict[str, Any]:
        return {"slot": slot, "pid": os.getpid()}

    def _first_time(self, name: str) -> bool:
        marker = Path(self.folder) / name
        if marker.exists():
            return False
        marker.write_text(str(os.getpid()))
        return True

    def run(self, task: str, state: dict[str, Any]) -> dict[str, Any]:
        import torch

        kind, _, argument = task.partition(":")
        if kind == "flaky" and self._first_time(argument):
            raise RuntimeError(f"{argument} failed once\nsecond line")
        if kind == "bad":
            raise ValueError("never works")
        if kind == "fatal":
            raise ZsbenchError("the plugins differ")
        if kind == "die" and self._first_time(argument):
            os.kill(os.getpid(), signal.SIGKILL)
        value = int(argument) ** 2 if kind == "ok" else None
        return {"value": value, **state, "threads": torch.get_num_threads(), "interop": torch.get_num_interop_threads()}


def test_default_threads_divide_the_free_cores_among_the_workers(monkeypatch) -> None:
    monkeypatch.setattr(executors, "available_cores", lambda: 8)
    monkeypatch.setattr(executors, "busy_cores", lambda: 0)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert [default_threads(w) for w in (1, 2, 3)] == [4, 2, 1]  # the user's cap holds
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert [default_threads(w) for w in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert ProcessExecutor(4).threads == 2 and InlineExecutor().threads == 8
    assert make_executor("local", workers=2).threads == 4  # type: ignore[attr-defined]
    assert isinstance(make_executor("process"), ProcessExecutor)
    assert isinstance(make_executor("local"), InlineExecutor)
    # other work keeps cores busy: only the free ones are shared out, and never fewer than one thread
    monkeypatch.setattr(executors, "busy_cores", lambda: 5)
    assert [default_threads(w) for w in (1, 2, 3)] == [3, 1, 1]
    monkeypatch.setattr(executors, "busy_cores", lambda: 13)
    assert default_threads(1) == 1
    with pytest.raises(UsageError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(UsageError, match="--threads must be at least 1"):
        make_executor("local", threads=0)


def test_default_workers_start_one_per_core_only_for_work_worth_their_start(monkeypatch) -> None:
    monkeypatch.setattr(executors, "available_cores", lambda: 2)
    monkeypatch.setattr(executors, "busy_cores", lambda: 7)  # other work does not change the count
    # predicted by recorded timings
    assert default_workers(100, PARALLEL_MIN_SECONDS) == 2
    assert default_workers(100, PARALLEL_MIN_SECONDS - 0.1) == 1  # a few seconds stay in-process
    # no recorded timings: by the number of networks
    assert default_workers(PARALLEL_MIN_TASKS, None) == 2
    assert default_workers(PARALLEL_MIN_TASKS - 1, None) == 1
    # never more workers than networks or cores, and one network or one core is in-process
    monkeypatch.setattr(executors, "available_cores", lambda: 16)
    assert default_workers(3, 1000.0) == 3
    assert default_workers(400, 1000.0) == 16
    assert default_workers(1, 1000.0) == 1
    monkeypatch.setattr(executors, "available_cores", lambda: 1)
    assert default_workers(400, 1000.0) == 1


def test_inline_retries_raised_tasks_and_stops_on_fatal_errors(tmp_path) -> None:
    import torch

    before = torch.get_num_threads()
    run = InlineExecutor(threads=1, max_attempts=2)
    outcomes = list(run.run(["ok:3", "flaky:a", "bad"], Probe(tmp_path)))
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert [o.value["value"] if o.ok else None for o in outcomes] == [9, None, None]
    assert outcomes[1].ok and outcomes[1].attempts == 2 and outcomes[0].attempts == 1
    assert outcomes[2].error == "ValueError: never works" and outcomes[2].attempts == 2 and not outcomes[2].crashed
    assert outcomes[0].value["threads"] == 1 and outcomes[0].value["slot"] == 0
    assert torch.get_num_threads() == before  # restored after the run
    with pytest.raises(ZsbenchError, match="the plugins differ"):
        list(run.run(["ok:1", "fatal"], Probe(tmp_path)))


def test_worker_processes_set_threads_retry_and_replace_a_killed_worker(tmp_path) -> None:
    tasks = ["ok:1", "die:x", "flaky:b", "ok:2", "bad", "ok:3"]
    outcomes = {o.task: o for o in ProcessExecutor(2, threads=1, max_attempts=2).run(tasks, Probe(tmp_path))}
    assert set(outcomes) == set(tasks)
    assert {t: outcomes[t].value["value"] for t in ("ok:1", "ok:2", "ok:3")} == {"ok:1": 1, "ok:2": 4, "ok:3": 9}
    killed = int((tmp_path / "x").read_text())
    assert killed != os.getpid()
    assert outcomes["die:x"].ok and outcomes["die:x"].attempts == 2 and outcomes["die:x"].value["pid"] != killed
    assert outcomes["flaky:b"].ok and outcomes["flaky:b"].attempts == 2
    assert outcomes["bad"].error == "ValueError: never works" and outcomes["bad"].attempts == 2
    results = [o.value for o in outcomes.values() if o.ok]
    assert {r["threads"] for r in results} == {1} and {r["interop"] for r in results} == {1}
    assert {r["slot"] for r in results} <= {0, 1} and os.getpid() not in {r["pid"] for r in results}
    # a fatal error in a worker stops the run and reaches the caller with its message
    with pytest.raises(ZsbenchError, match="the plugins differ"):
        list(ProcessExecutor(1, threads=1).run(["fatal", "ok:1"], Probe(tmp_path)))
