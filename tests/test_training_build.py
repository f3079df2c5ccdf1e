"""Pool builds end to end: local executor, resume after a kill, failures, the CLI, proxies on the result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from toy_training import QUICK, ToySpace, evaluate_param_proxy, write_image_tree
from typer.testing import CliRunner

import zsbench
from zsbench.builds import BuiltBenchmark, discover_builds, read_meta
from zsbench.engine.executors import InlineExecutor, ProcessExecutor
from zsbench.errors import UsageError
from zsbench.training.builder import build_pool
from zsbench.training.store import ResultStore

TESTS_DIR = Path(__file__).parent
@pytest.fixture(scope="module")
def image_root(tmp_path_factory) -> Path:
    return write_image_tree(tmp_path_factory.mktemp("images"), train_per_class=10, test_per_class=1, size=16)


def test_local_build_end_to_end_resume_and_proxy(tmp_path, image_root) -> None:
    torch.set_num_threads(1)
    space = ToySpace()
    report = build_pool(
        "toy-bench", space, 5, pool_seed=1, recipe=QUICK, out_dir=tmp_path, data_root=image_root,
        repeat_seed=7, repeat_count=2, executor=InlineExecutor(threads=1), progress=False,
    )
    pool = space.sample(5, 1)
    assert report.total == 7 and report.skipped == 0 and len(report.trained) == 7 and not report.failed
    records = ResultStore(report.results_path).records()
    assert len(records) == 7 and len({r["key"] for r in records}) == 7
    # Repeats first: the first two architectures with both seeds, then the rest.
    assert [(r["arch"], r["seed"]) for r in records[:4]] == [(pool[0], 0), (pool[0], 7), (pool[1], 0), (pool[1], 7)]
    for record in records:
        assert record["status"] == "ok" and record["recipe_hash"] == QUICK.hash() and record["recipe"]["name"] == "quick"
        assert record["params"] == space.cost(record["arch"]).params
        assert 0.0 <= record["test_accuracy"] <= 100.0 and record["num_train"] == 16
        assert "<data-root>" in record["data_source"] and str(image_root) not in record["data_source"]

    meta = read_meta(report.meta_path)
    assert meta["networks_done"] == 5 and meta["complete"] and meta["repeats_done"] == 2
    assert meta["recipe_hash"] == QUICK.hash() and meta["space"] == "toy"
    benchmark = discover_builds(tmp_path)[0]
    frame = benchmark.load()
    assert benchmark.name == "toy-bench" and benchmark.space == "toy"
    assert list(frame["arch"]) == pool
    by_key = {(r["arch"], r["seed"]): r for r in records}
    assert list(frame["accuracy"]) == [by_key[(a, 0)]["test_accuracy"] for a in pool]
    assert frame["accuracy_seed7"].notna().sum() == 2

    # a proxy scores the built benchmark's networks: the parameter counts the space reports
    scores = evaluate_param_proxy(benchmark, space)
    assert list(scores) == [float(space.cost(a).params) for a in pool]

    again = build_pool(
        "toy-bench", space, 5, pool_seed=1, recipe=QUICK, out_dir=tmp_path, data_root=image_root,
        repeat_seed=7, repeat_count=2, progress=False,
    )
    assert again.skipped == 7 and again.trained == [] and len(ResultStore(report.results_path).records()) == 7
    with pytest.raises(UsageError, match="recipe_hash"):
        build_pool("toy-bench", space, 5, pool_seed=1, recipe=QUICK.replace(epochs=2), out_dir=tmp_path,
                   data_root=image_root, repeat_seed=7, repeat_count=2, progress=False)


def test_build_averaging_runs_per_network(tmp_path, image_root) -> None:
    """--runs 2: the table's accuracy is the mean of two trainings, and the noise ceiling
    compares that mean with the mean of two more trainings from the repeat seed."""
    from scipy import stats

    space = ToySpace()
    kwargs = dict(pool_seed=1, recipe=QUICK, out_dir=tmp_path, data_root=image_root, progress=False)
    report = build_pool("avg", space, 4, repeat_seed=2, repeat_count=3, runs=2,
                        executor=InlineExecutor(threads=1), **kwargs)
    pool = space.sample(4, 1)
    records = ResultStore(report.results_path).records()
    assert report.total == 3 * 4 + 2 and len(report.trained) == 14 and not report.failed
    assert [(r["arch"], r["seed"]) for r in records[:4]] == [(pool[0], s) for s in (0, 1, 2, 3)]
    assert [(r["arch"], r["seed"]) for r in records[-2:]] == [(pool[3], 0), (pool[3], 1)]
    acc = {(r["arch"], r["seed"]): r["test_accuracy"] for r in records}

    frame = discover_builds(tmp_path)[0].load()
    assert list(frame.columns[-3:]) == ["accuracy_seed0", "accuracy_seed1", "accuracy_seeds2-3"]
    for row in frame.itertuples():
        assert row.accuracy == pytest.approx((acc[(row.arch, 0)] + acc[(row.arch, 1)]) / 2, abs=1e-4)
        assert (row.accuracy_seed0, row.accuracy_seed1) == (acc[(row.arch, 0)], acc[(row.arch, 1)])
    repeated = frame.dropna(subset=["accuracy_seeds2-3"])
    assert list(repeated["arch"]) == pool[:3]
    for row in repeated.itertuples():
        assert row[-1] == pytest.approx((acc[(row.arch, 2)] + acc[(row.arch, 3)]) / 2, abs=1e-4)

    meta = read_meta(report.meta_path)
    assert meta["runs"] == 2 and meta["networks_done"] == 4 and meta["repeats_done"] == 3 and meta["complete"]
    assert "mean of 2 trainings (seeds 0-1)" in meta["accuracy"]
    benchmark = discover_builds(tmp_path)[0]
    assert "each the mean of 2 trainings" in benchmark.description
    expected = stats.spearmanr(repeated["accuracy"], repeated["accuracy_seeds2-3"]).statistic
    ceiling = benchmark.noise_ceiling()  # the seeded toy trainings give distinct means: 0.5 here
    assert np.isfinite(expected) and ceiling["pairs"] == 3
    assert ceiling["spearman"] == pytest.approx(expected, abs=1e-4)
    assert "seeds 0-1 and again with seeds 2-3" in ceiling["note"] and ceiling["trainings_per_side"] == 2

    # a rerun resumes; other runs, or seed sets that overlap, are refused with the reason
    assert build_pool("avg", space, 4, repeat_seed=2, repeat_count=3, runs=2, **kwargs).trained == []
    with pytest.raises(UsageError, match="runs: 2 there, 1 now"):
        build_pool("avg", space, 4, repeat_seed=2, repeat_count=3, **kwargs)
    with pytest.raises(UsageError, match="overlap the training seeds 0-1; choose --repeat-seed 2"):
        build_pool("other", space, 4, repeat_seed=1, repeat_count=3, runs=2, **kwargs)


def test_build_metadata_from_before_runs_existed_still_resumes(tmp_path, image_root) -> None:
    """A build whose metadata predates ``runs`` is a one-training build: it resumes as such."""
    kwargs = dict(pool_seed=1, recipe=QUICK, out_dir=tmp_path, data_root=image_root, progress=False)
    first = build_pool("old", ToySpace(), 2, limit=1, executor=InlineExecutor(threads=1), **kwargs)
    meta = read_meta(first.meta_path)
    del meta["runs"]
    first.meta_path.write_text(json.dumps(meta), encoding="utf-8")
    second = build_pool("old", ToySpace(), 2, executor=InlineExecutor(threads=1), **kwargs)
    assert second.skipped == 1 and len(second.trained) == 1
    with pytest.raises(UsageError, match="runs: 1 there, 2 now"):
        build_pool("old", ToySpace(), 2, runs=2, **kwargs)


class FlakySpace(ToySpace):
    """Fails to build ``w12-d3`` always, with a reason."""

    name = "flaky"

    def build(self, arch, num_classes=10, *, seed=None, input_size=None):
        if arch == "w12-d3":
            raise RuntimeError("cannot build w12-d3 on purpose")
        return super().build(arch, num_classes, seed=seed, input_size=input_size)


def test_failures_are_recorded_and_retried_on_rerun(tmp_path, image_root) -> None:
    space = FlakySpace()
    pool = space.enumerate()
    kwargs = dict(recipe=QUICK, out_dir=tmp_path, data_root=image_root, progress=False)
    first = build_pool("flaky", space, 9, pool_seed=0, limit=9, executor=InlineExecutor(threads=1, max_attempts=2), **kwargs)
    assert [(a, r) for a, _, r in first.failed] == [("w12-d3", "RuntimeError: cannot build w12-d3 on purpose")]
    assert len(first.trained) == 8
    failed = ResultStore(first.results_path).failures()
    assert [r["attempts"] for r in failed.values()] == [2]
    meta = read_meta(first.meta_path)
    assert meta["tasks_failed"] == 1 and not meta["complete"] and meta["networks_done"] == 8
    second = build_pool("flaky", space, 9, pool_seed=0, executor=InlineExecutor(threads=1, max_attempts=1), **kwargs)
    assert second.skipped == 8 and second.trained == [] and len(second.failed) == 1
    assert len(pool) == 9


def test_local_worker_processes(tmp_path, image_root) -> None:
    report = build_pool(
        "pool2", ToySpace(), 3, recipe=QUICK, out_dir=tmp_path, data_root=image_root,
        executor=ProcessExecutor(2, threads=1), progress=False,
    )
    assert len(report.trained) == 3 and not report.failed
    records = ResultStore(report.results_path).records()
    assert {r["threads"] for r in records} == {1} and len({r["host"] for r in records}) == 1


class KillOnceSpace(ToySpace):
    """Training ``w8-d2`` kills its worker process the first time (a marker file remembers it),
    as the kernel's out-of-memory killer would."""

    name = "kill-once"
    pool = ("w4-d1", "w8-d2", "w12-d1", "w4-d2", "w8-d1")  # the victim early, with work after it

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def sample(self, n, seed=0, *, max_flops=None):
        return list(self.pool[:n])

    def build(self, arch, num_classes=10, *, seed=None, input_size=None):
        if arch == "w8-d2" and not Path(self.marker).exists():
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return super().build(arch, num_classes, seed=seed, input_size=input_size)


def test_a_killed_training_worker_is_replaced_and_the_build_finishes(tmp_path, image_root) -> None:
    marker = tmp_path / "killed-once"
    space = KillOnceSpace(marker)
    archs = space.pool
    report = build_pool(
        "killed-worker", space, 5, recipe=QUICK, out_dir=tmp_path, data_root=image_root,
        executor=ProcessExecutor(2, threads=1, max_attempts=2), progress=False,
    )
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker died, not the build
    assert not report.failed and len(report.trained) == 5
    records = ResultStore(report.results_path).records()
    assert sorted(r["arch"] for r in records) == sorted(archs) and {r["status"] for r in records} == {"ok"}
    assert read_meta(report.meta_path)["complete"]


class AlwaysKilledSpace(ToySpace):
    """Training ``w8-d2`` kills its worker process every time."""

    name = "always-killed"

    def sample(self, n, seed=0, *, max_flops=None):
        return ["w4-d1", "w8-d2", "w12-d1"][:n]

    def build(self, arch, num_classes=10, *, seed=None, input_size=None):
        if arch == "w8-d2":
            os.kill(os.getpid(), signal.SIGKILL)
        return super().build(arch, num_classes, seed=seed, input_size=input_size)


def test_a_worker_killed_on_every_try_is_one_failed_network(tmp_path, image_root) -> None:
    space = AlwaysKilledSpace()
    report = build_pool(
        "killed-always", space, 3, recipe=QUICK, out_dir=tmp_path, data_root=image_root,
        executor=ProcessExecutor(2, threads=1, max_attempts=2), progress=False,
    )
    assert len(report.trained) == 2
    killed = "worker crashed 2 times (exit code -9: SIGKILL, as the out-of-memory killer sends)"
    assert [(a, r) for a, _, r in report.failed] == [("w8-d2", killed)]
    (failed,) = ResultStore(report.results_path).failures().values()
    assert failed["attempts"] == 2


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    sys.path.insert(0, {tests!r})
    torch.set_num_threads(1)
    from toy_training import ToySpace
    from toy_training import QUICK
    from zsbench.training.builder import build_pool
    build_pool("killed", ToySpace(), 6, recipe=QUICK.replace(epochs=3), out_dir={out!r}, data_root={data!r},
               progress=False)
    """
)


def test_killed_build_resumes_without_training_anything_twice(tmp_path, image_root) -> None:
    script = tmp_path / "run_build.py"
    script.write_text(KILL_SCRIPT.format(tests=str(TESTS_DIR), out=str(tmp_path / "out"), data=str(image_root)))
    results = tmp_path / "out" / "killed.jsonl"
    process = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if results.exists() and len(ResultStore(results).records()) >= 2:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the build finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    before = ResultStore(results).records()
    assert 2 <= len(before) < 6
    done_before = {r["key"] for r in before}

    trained_now: list[str] = []
    report = build_pool(
        "killed", ToySpace(), 6, recipe=QUICK.replace(epochs=3), out_dir=tmp_path / "out", data_root=image_root,
        progress=False, executor=InlineExecutor(threads=1), on_result=lambda task, rec: trained_now.append(task.key),
    )
    assert report.skipped == len(before)
    assert set(trained_now).isdisjoint(done_before)
    after = ResultStore(results).records()
    keys = [r["key"] for r in after]
    assert len(keys) == 6 == len(set(keys))
    assert after[: len(before)] == before  # records written before the kill are untouched
    assert read_meta(tmp_path / "out" / "killed.meta.json")["complete"]


def test_cli_train_and_build_on_a_real_space(tmp_path, image_root, monkeypatch) -> None:
    from zsbench.cli import build_app

    host = zsbench.get_host()
    if "R1" not in host.spaces:
        pytest.fail("the R1 search space plugin is not installed")
    recipe_file = tmp_path / "mini.json"
    recipe_file.write_text(json.dumps({"epochs": 1, "batch_size": 8, "train_subset": 16, "valid_subset": 10,
                                       "test_subset": 10, "input_size": 16, "eval_batch_size": 32}))
    arch = host.spaces.get("R1").sample(1, seed=0)[0]
    runner = CliRunner()
    app = build_app()
    common = ["--recipe", str(recipe_file), "--data-root", str(image_root)]
    result = runner.invoke(app, ["train", arch, "--space", "R1", "--threads", "1", "--json", *common])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout[result.stdout.index("{"):])
    assert record["arch"] == arch and record["recipe_name"] == "mini" and record["input_size"] == 16

    out = tmp_path / "builds"
    build_args = ["build", "r1-mini", "--space", "R1", "--pool", "2", "--seed", "3", "--out", str(out),
                  "--threads", "1", "--json", *common]
    monkeypatch.setattr(sys, "argv", ["zsbench", *build_args])  # what the metadata records as the command
    result = runner.invoke(app, build_args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["trained_now"] == 2 and summary["pending"] == 0 and summary["failed_now"] == []
    meta = read_meta(out / "r1-mini.meta.json")
    assert meta["space"] == "R1" and meta["pool_size"] == 2 and meta["pool_seed"] == 3
    assert meta["command"] == "zsbench " + " ".join(build_args)


def test_build_draws_a_flops_bounded_pool(tmp_path, image_root) -> None:
    from zsbench.cli import build_app

    space = zsbench.get_host().spaces.get("R1")
    bound = 3e7  # about the 5th percentile of R1 at 32x32: most unbounded draws are rejected
    runner = CliRunner()
    app = build_app()
    common = ["--recipe", "tiny", "--data-root", str(image_root), "--out", str(tmp_path), "--threads", "1", "--json"]
    result = runner.invoke(app, ["build", "r1-small", "--space", "R1", "--pool", "2", "--max-flops", str(bound), *common])
    assert result.exit_code == 0, result.output
    meta = read_meta(tmp_path / "r1-small.meta.json")
    assert meta["pool_max_flops"] == bound
    frame = BuiltBenchmark("r1-small", tmp_path / "r1-small.csv", meta).load()
    assert list(frame["arch"]) == [space.canonical(a) for a in space.sample(2, 0, max_flops=bound)]
    assert all(space.cost(a).flops <= bound for a in frame["arch"])
    assert list(frame["arch"]) != [space.canonical(a) for a in space.sample(2, 0)]

    # the bound is part of the build's identity: resuming with another bound is refused
    result = runner.invoke(app, ["build", "r1-small", "--space", "R1", "--pool", "2", *common])
    assert result.exit_code == 2 and "pool_max_flops" in result.output
    result = runner.invoke(app, ["build", "r1-bad", "--space", "R1", "--pool", "2", "--max-flops", "10", *common])
    assert result.exit_code == 2 and "below the smallest network" in result.output


def test_train_and_build_refuse_a_device_this_machine_lacks(tmp_path, image_root, monkeypatch) -> None:
    from zsbench.cli import build_app

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    runner = CliRunner()
    app = build_app()
    common = ["--space", "R1", "--recipe", "tiny", "--data-root", str(image_root)]
    arch = zsbench.get_host().spaces.get("R1").sample(1, seed=0)[0]
    for args, message in [
        (["train", arch, "--device", "cuda"], "error: --device cuda: this machine has no CUDA device"),
        (["build", "b", "--pool", "2", "--out", str(tmp_path), "--device", "cuda"], "error: --device cuda: this machine"),
        (["build", "b", "--pool", "2", "--out", str(tmp_path), "--device", "gpu"], "error: unknown device 'gpu'"),
        (["train", arch, "--threads", "0"], "error: --threads must be at least 1, got 0"),
    ]:
        result = runner.invoke(app, [*args, *common])
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(message), result.output
    assert not (tmp_path / "b.jsonl").exists()  # refused before anything was written


def test_spread_of_cpu_seconds() -> None:
    from zsbench.training.builder import _spread

    assert _spread([]) == {"median": None, "mean": None, "max": None}
    assert _spread([3.0, 1.0, 2.0, 10.0]) == {"median": 2.5, "mean": 4.0, "max": 10.0}
    assert _spread([5.0]) == {"median": 5.0, "mean": 5.0, "max": 5.0}


def test_a_space_without_the_max_flops_keyword_gets_the_default_bounded_draw() -> None:
    """A space whose sample() predates ``max_flops`` is drawn by rejection, never a TypeError."""
    from toy_training import ToySpace

    from zsbench.training.builder import draw_pool

    class OldToySpace(ToySpace):
        def sample(self, n: int, seed: int = 0) -> list[str]:  # type: ignore[override]
            return ToySpace.sample(self, n, seed)

    space = OldToySpace()
    bound = sorted(space.cost(a).flops for a in space.enumerate())[4]
    pool = draw_pool(space, 3, 0, max_flops=bound)
    assert len(set(pool)) == 3
    assert all(space.cost(a).flops <= bound for a in pool)
    assert pool == space.sample_by_rejection(3, 0, bound)
    assert draw_pool(space, 3, 0) == ToySpace().sample(3, 0)
