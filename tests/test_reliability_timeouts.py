"""A hung proxy under ``--timeout``: its worker is stopped and replaced, the proxies the
architecture had not finished fail with "timed out after N s", the others keep their scores,
the run goes on, and only ``--retry-failed`` computes the timed-out scores again."""

from __future__ import annotations

import time

import pytest
from cli_helpers import one_line_error
from hostile_plugins import hostile_host
from toy_plugins import evaluate_with, toy_batch

from zsbench.engine.evaluation import RunOptions, sample_rows
from zsbench.engine.executors import (
    DEFAULT_TIMEOUT,
    InlineExecutor,
    ProcessExecutor,
    effective_timeout,
    make_executor,
)
from zsbench.errors import UsageError

PROXIES = "toy_params,hostile_hang,toy_output"


def _sampled_archs(host, limit: int, seed: int) -> list[str]:
    table = host.benchmarks.get("toy-bench").load()
    return [table["arch"][row].strip() for row in sample_rows(len(table), limit, seed)]


def test_the_default_limit_applies_to_workers_and_an_asked_limit_moves_scoring_out_of_this_process():
    assert effective_timeout(None, "local", 1) is None  # in-process, nothing asked: no limit, no worker
    assert effective_timeout(None, "local", 2) == DEFAULT_TIMEOUT
    assert effective_timeout(None, "process", 1) == DEFAULT_TIMEOUT
    assert effective_timeout(None, "ray", 1) == DEFAULT_TIMEOUT
    assert effective_timeout(0, "process", 4) is None
    assert effective_timeout(2.5, "local", 1) == 2.5
    assert isinstance(make_executor("local"), InlineExecutor)
    limited = make_executor("local", timeout=7)
    assert isinstance(limited, ProcessExecutor) and limited.workers == 1 and limited.timeout == 7
    for bad in (-1.0, float("nan")):
        with pytest.raises(UsageError, match="--timeout must be a positive number"):
            RunOptions(timeout=bad)


def test_a_bad_timeout_on_the_command_line_is_one_line(cli):
    result = cli("-p", "toy_params", "-b", "toy-bench", "-m", "kendall", "--timeout", "-5")
    assert result.exit_code == 2
    assert "--timeout must be a positive number of seconds (0: no limit), got -5.0" in one_line_error(result)
    assert cli("-p", "toy_params", "-b", "toy-bench", "-m", "kendall", "--limit", "3", "--timeout", "0").exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize(("executor", "workers"), [("local", 1), ("process", 2)])
def test_a_hung_proxy_is_stopped_recorded_as_timed_out_and_the_run_goes_on(tmp_path, monkeypatch, executor, workers):
    host = hostile_host()
    archs = _sampled_archs(host, 4, seed=1)
    hung = archs[1]
    monkeypatch.setenv("HOSTILE_HANG_ARCHS", hung)
    options = {"limit": 4, "seed": 1, "bootstrap": 0, "metrics": "kendall", "batch": toy_batch()}
    cache = tmp_path / "scores.sqlite"
    started = time.monotonic()
    result = evaluate_with(PROXIES, "toy-bench", host=hostile_host(), cache=cache, executor=executor,
                           workers=workers, timeout=3, **options)
    elapsed = time.monotonic() - started
    assert elapsed < 120, "the hung proxy (3600 s) must have been stopped"
    assert result.computed == 3 * 4
    failures = {(row.arch.strip(), row.proxy): row.error for row in result.failures.itertuples()}
    # hostile_hang and the proxy after it on the hung architecture; the one before it was finished and kept
    assert failures == {(hung, "hostile_hang"): "timed out after 3 s", (hung, "toy_output"): "timed out after 3 s"}
    scores = result.scores.assign(arch=result.scores["arch"].str.strip()).set_index("arch")
    assert scores["toy_params"].notna().all()
    assert scores.loc[hung, "toy_params"] > 0
    assert scores.drop(index=hung)[["hostile_hang", "toy_output"]].notna().all().all()

    # a timed-out score is a cached failure: a rerun does not try it again ...
    again = evaluate_with(PROXIES, "toy-bench", host=hostile_host(), cache=cache, executor=executor,
                          workers=workers, timeout=3, **options)
    assert again.computed == 0 and len(again.failures) == 2
    # ... --retry-failed does (here the proxy no longer hangs)
    monkeypatch.setenv("HOSTILE_HANG_ARCHS", "none")
    retried = evaluate_with(PROXIES, "toy-bench", host=hostile_host(), cache=cache, executor=executor,
                            workers=workers, timeout=3, retry_failed=True, **options)
    assert retried.computed == 2 and retried.failures.empty
    assert retried.scores["toy_output"].notna().all()


@pytest.mark.slow
@pytest.mark.ray
def test_a_hung_ray_task_is_cancelled_and_recorded_as_timed_out(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="needs the ray extra: pip install 'zsbench[ray]'")
    host = hostile_host()
    archs = _sampled_archs(host, 3, seed=1)
    monkeypatch.setenv("HOSTILE_HANG_ARCHS", archs[0])
    result = evaluate_with(PROXIES, "toy-bench", host=hostile_host(), cache=tmp_path / "ray.sqlite", executor="ray",
                           timeout=30, limit=3, seed=1, bootstrap=0, metrics="kendall", batch=toy_batch())
    failures = {(row.arch.strip(), row.proxy): row.error for row in result.failures.itertuples()}
    # a Ray task reports nothing before it ends: every proxy of the hung architecture fails
    assert failures == {(archs[0], name): "timed out after 30 s" for name in PROXIES.split(",")}
    assert result.scores.set_index(result.scores["arch"].str.strip()).drop(index=archs[0])[
        ["toy_params", "hostile_hang", "toy_output"]
    ].notna().all().all()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["oom-kill", "rlimit"])
def test_a_proxy_that_leaks_memory_is_that_proxys_failure_and_the_run_goes_on(tmp_path, monkeypatch, mode):
    host = hostile_host()
    archs = _sampled_archs(host, 4, seed=1)
    victim = archs[2]
    monkeypatch.setenv("HOSTILE_LEAK_ARCHS", victim)
    monkeypatch.setenv("HOSTILE_LEAK_MODE", mode)
    options = {"limit": 4, "seed": 1, "bootstrap": 0, "metrics": "kendall", "batch": toy_batch()}
    clean = evaluate_with("toy_params,toy_output", "toy-bench", host=hostile_host(), cache=tmp_path / "clean.sqlite",
                          **options)
    result = evaluate_with("toy_params,toy_output,hostile_leak", "toy-bench", host=hostile_host(),
                           cache=tmp_path / "leak.sqlite", workers=2, max_attempts=2, **options)
    failures = {(row.arch.strip(), row.proxy): row.error for row in result.failures.itertuples()}
    expected = ("worker crashed 2 times (exit code -9: SIGKILL, as the out-of-memory killer sends)"
                if mode == "oom-kill" else "out of memory: MemoryError")
    assert failures == {(victim, "hostile_leak"): expected}
    # the proxies that ran before it on that architecture, and every other architecture, keep their scores
    for column in ("toy_params", "toy_output"):
        assert result.scores[column].tolist() == clean.scores[column].tolist()
    assert result.scores.set_index(result.scores["arch"].str.strip()).drop(index=victim)["hostile_leak"].eq(1.0).all()


@pytest.mark.slow
@pytest.mark.ray
def test_ray_tasks_waiting_for_a_cpu_are_not_timed_out(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="needs the ray extra: pip install 'zsbench[ray]'")
    import functools

    from zsbench.engine import evaluation, executors

    # 8 tasks of 8 s on 2 CPUs: 32 s in all, more than the 25 s limit; each task alone is well within it
    monkeypatch.setattr(evaluation, "make_executor", functools.partial(executors.make_executor, num_cpus=2))
    monkeypatch.setenv("HOSTILE_HANG_SECONDS", "8")
    result = evaluate_with("hostile_hang", "toy-bench", host=hostile_host(), cache=tmp_path / "ray.sqlite",
                           executor="ray", timeout=25, limit=8, seed=1, bootstrap=0, metrics="kendall",
                           batch=toy_batch())
    assert result.failures.empty, result.failures
    assert result.scores["hostile_hang"].eq(1.0).all() and len(result.scores) == 8
