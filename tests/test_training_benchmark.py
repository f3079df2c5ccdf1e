"""The nbzero-mini benchmark plugin: shipped tables, their metadata, local builds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import zsbench_benchmarks.nbzero_mini as nbzero_mini

import zsbench
from zsbench.errors import DataMissingError
from zsbench.training.recipes import CPU, CPU_V2


@pytest.fixture
def host() -> zsbench.PluginHost:
    host = zsbench.PluginHost(entry_points=False)
    host.register_plugin(nbzero_mini, name="nbzero_mini")
    return host


def test_registers_one_benchmark_per_space_and_the_default(host) -> None:
    assert {"nbzero-mini", "nbzero-mini-r1", "nbzero-mini-r2", "nbzero-mini-mb"} <= set(host.benchmarks.names())
    assert {host.benchmarks.get(f"nbzero-mini-{k}").space for k in ("r1", "r2", "mb")} == {"R1", "R2", "MB"}
    default = host.benchmarks.get("nbzero-mini")
    # the default is the complete shipped table whose ground truth agrees best with itself
    family = [host.benchmarks.get(name) for name in host.benchmarks.names() if name.startswith("nbzero-mini-")]
    complete = [b for b in family if b.meta.get("complete")]
    best = max(complete, key=lambda b: b.meta["noise_ceiling"]["spearman"])
    assert default.table == best.table and default.dataset == "cifar10" and default.num_classes == 10
    assert f"the same as {best.name}" in default.description
    if best.meta["recipe_name"] == "cpu":  # today: version 1's R2 table, trained at 16x16
        assert best.name == "nbzero-mini-r2" and default.space == "R2" and default.input_size == CPU.input_size
    # A second version is registered once its build has started, and says how far it is.
    for key in ("r1", "r2", "mb"):
        started = (nbzero_mini.DATA_DIR / f"nbzero-mini-v2-{key}.meta.json").is_file()
        assert (f"nbzero-mini-v2-{key}" in host.benchmarks) == started
        if started:
            v2 = host.benchmarks.get(f"nbzero-mini-v2-{key}")
            assert v2.meta["recipe_name"] == "cpu-v2" and v2.table != host.benchmarks.get(f"nbzero-mini-{key}").table
            assert ("PARTIAL" in v2.description) == (not v2.meta["complete"])


def test_the_family_default_moves_to_a_complete_second_version_only_when_it_agrees_best(tmp_path, monkeypatch) -> None:
    def write(stem: str, spearman: float, complete: bool) -> None:
        meta = {"space": "R2", "dataset": "cifar10", "networks_done": 150, "pool_size": 150, "complete": complete,
                "noise_ceiling": {"pairs": 30, "spearman": spearman}}
        (tmp_path / f"{stem}.meta.json").write_text(json.dumps(meta))

    monkeypatch.setattr(nbzero_mini, "DATA_DIR", tmp_path)
    assert nbzero_mini.family_default() == ("r2", 1)  # nothing readable: the documented fallback
    write("nbzero-mini-r1", 0.23, True)
    write("nbzero-mini-mb", 0.63, True)
    write("nbzero-mini-r2", 0.72, True)
    write("nbzero-mini-v2-mb", 0.95, False)  # a partial build never becomes the default
    assert nbzero_mini.family_default() == ("r2", 1)
    write("nbzero-mini-v2-r1", 0.70, True)  # complete, but below version 1's best
    assert nbzero_mini.family_default() == ("r2", 1)
    write("nbzero-mini-v2-mb", 0.86, True)
    assert nbzero_mini.family_default() == ("mb", 2)
    write("nbzero-mini-v2-r2", 0.86, True)  # a tie within a version: the space listed first (r1, r2, mb)
    assert nbzero_mini.family_default() == ("r2", 2)


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("key", ["r1", "r2", "mb"])
def test_shipped_tables_match_their_metadata_and_records(key, version) -> None:
    recipe = {1: CPU, 2: CPU_V2}[version]
    benchmark = nbzero_mini.shipped_benchmark(key, version=version)
    stem = f"{nbzero_mini.VERSIONS[version][0]}-{key}"
    assert f"--recipe {recipe.name} " in benchmark.meta["command"] and f"build {stem} " in benchmark.meta["command"]
    if not benchmark.table.is_file() or benchmark.meta["networks_done"] == 0:
        with pytest.raises(DataMissingError, match=f"zsbench build {stem}"):
            benchmark.load()
        return
    meta = benchmark.meta
    frame = benchmark.load()
    assert meta["recipe_hash"] == recipe.hash() and meta["recipe"] == recipe.as_dict()
    assert len(frame) == meta["networks_done"] <= meta["pool_size"] == 150
    assert meta["complete"] == (len(frame) == 150 and meta["repeats_done"] >= meta["repeat_count"])
    assert ("PARTIAL" in benchmark.description) == (not meta["complete"])
    assert "<= 100 M MACs at 32x32" in benchmark.description
    assert frame["arch"].is_unique and frame["accuracy"].between(0, 100).all()
    space = zsbench.get_host().spaces.get(benchmark.space)
    assert meta["pool_max_flops"] == 1e8
    assert set(frame["arch"]) <= set(space.sample(150, seed=meta["pool_seed"], max_flops=meta["pool_max_flops"]))
    assert all(space.canonical(a) == a for a in frame["arch"])
    # The table is a projection of the committed records: with `runs` trainings per network,
    # the accuracy is their mean and the repeat column the mean of as many from the repeat seed.
    runs = nbzero_mini.RUNS.get((version, key), 1)
    assert meta.get("runs", 1) == runs and (f"--runs {runs} " in meta["command"]) == (runs > 1)
    records = [json.loads(line) for line in (nbzero_mini.DATA_DIR / f"{stem}.jsonl").read_text().splitlines()]
    test_accuracy = {(r["arch"], r["seed"]): r["test_accuracy"] for r in records if r["status"] == "ok"}
    params = {r["arch"]: r["params"] for r in records if r["status"] == "ok"}

    def mean_of(arch: str, first_seed: int) -> float:
        return float(np.mean([test_accuracy[(arch, first_seed + i)] for i in range(runs)]))

    assert np.allclose(frame["accuracy"], [mean_of(a, meta["train_seed"]) for a in frame["arch"]], atol=1e-4, rtol=0)
    assert list(frame["params"]) == [params[a] for a in frame["arch"]]
    assert all(r["recipe_hash"] == recipe.hash() for r in records)
    repeat = "accuracy_seed1" if runs == 1 else f"accuracy_seeds{runs}-{2 * runs - 1}"
    assert meta["repeat_seed"] == runs
    pairs = frame.dropna(subset=[repeat])
    assert np.allclose(pairs[repeat], [mean_of(a, runs) for a in pairs["arch"]], atol=1e-4, rtol=0)
    assert len(pairs) == meta["noise_ceiling"]["pairs"]
    if len(pairs) >= 3:
        expected = pairs["accuracy"].rank().corr(pairs[repeat].rank())
        assert np.isclose(meta["noise_ceiling"]["spearman"], expected, atol=1e-4)
        # what `zsbench evaluate` prints under its indices
        ceiling = benchmark.noise_ceiling()
        assert (ceiling["spearman"], ceiling["pairs"]) == (meta["noise_ceiling"]["spearman"], len(pairs))


def test_local_builds_are_registered_from_zsbench_builds(tmp_path, monkeypatch) -> None:
    pd.DataFrame({"arch": ["a", "b"], "accuracy": [50.0, 60.0]}).to_csv(tmp_path / "mine.csv", index=False)
    meta = {"space": "R2", "dataset": "cifar100", "num_classes": 100, "input_size": 32, "networks_done": 2,
            "pool_size": 2, "complete": True, "recipe_name": "paper"}
    (tmp_path / "mine.meta.json").write_text(json.dumps(meta))
    (tmp_path / "orphan.meta.json").write_text(json.dumps(meta))  # no table: not registered
    monkeypatch.setenv("ZSBENCH_BUILDS", str(tmp_path))
    host = zsbench.PluginHost(entry_points=False)
    host.register_plugin(nbzero_mini, name="nbzero_mini")
    mine = host.benchmarks.get("mine")
    assert (mine.space, mine.dataset, mine.num_classes) == ("R2", "cifar100", 100)
    assert list(mine.load()["accuracy"]) == [50.0, 60.0]
    assert "orphan" not in host.benchmarks


def test_a_partial_build_says_so_under_every_results_table(tmp_path, monkeypatch) -> None:
    space = zsbench.get_host().spaces.get("R2")
    archs = space.sample(3, seed=0)
    pd.DataFrame({"arch": archs, "accuracy": [50.0, 60.0, 55.0]}).to_csv(tmp_path / "half.csv", index=False)
    meta = {"space": "R2", "dataset": "cifar10", "num_classes": 10, "input_size": 16, "networks_done": 3,
            "pool_size": 150, "complete": False, "recipe_name": "cpu-v2", "command": "zsbench build half ..."}
    (tmp_path / "half.meta.json").write_text(json.dumps(meta))
    monkeypatch.setenv("ZSBENCH_BUILDS", str(tmp_path))
    monkeypatch.setenv("ZSBENCH_CACHE", str(tmp_path / "scores.sqlite"))  # not the user's cache
    from typer.testing import CliRunner

    from zsbench.cli import build_app
    from zsbench.plugins import set_host

    caveat = "half is a partial build: 3 of 150 networks trained so far"
    previous = set_host(None)  # a host that reads ZSBENCH_BUILDS afresh
    try:
        app = build_app()
        args = ["evaluate", "-b", "half", "-p", "params", "--bootstrap", "0", "--workers", "1"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert f"caveat: {caveat}" in " ".join(result.output.split())
        payload = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    finally:
        set_host(previous)
    assert payload["settings"]["benchmark_caveat"].startswith(caveat)
    assert "resume it with: zsbench build half ..." in payload["settings"]["benchmark_caveat"]
    # a complete build, and every benchmark that does not define one, carries none
    assert nbzero_mini.shipped_benchmark("r2").caveat() is None
    assert zsbench.get_host().benchmarks.get("nb201-cifar10").caveat() is None


def test_evaluate_runs_on_the_shipped_default_benchmark_without_a_data_root(tmp_path) -> None:
    # What a new user runs first: no data root, the installed plugins, the default benchmark
    # (shipped real ground truth; here with --limit, so not the default sample).
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ZSBENCH_")}
    env["ZSBENCH_CACHE"] = str(tmp_path / "scores.sqlite")
    command = [sys.executable, "-m", "zsbench", "evaluate", "--proxies", "flops,params,synflow", "--limit", "12",
               "--bootstrap", "0", "--json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["benchmark"] == "nasbench-macro-cifar10" and payload["archs"] == 12
    # no data root: the shipped CIFAR-10 batch, never Gaussian noise
    assert payload["settings"]["input"] == "cifar10:train:augmented:seed=0 (shipped batch)"
    assert payload["settings"]["default_sample"] is False
    rows = {row["proxy"]: row for row in payload["rows"]}
    assert set(rows) == {"flops", "params", "synflow"}
    assert all(row["failures"] == 0 and -1 <= row["kendall"] <= 1 for row in rows.values())
    assert "gaussian" not in result.stderr.lower()
