"""The plugin documentation cannot drift: every hook is documented, and every worked example runs."""

from __future__ import annotations

import inspect
import itertools
import math
import re
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zsbench
from zsbench import hookspecs
from zsbench.plugins import PluginHost

CONTRIBUTING = (Path(__file__).resolve().parents[1] / "CONTRIBUTING.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", CONTRIBUTING, flags=re.S)


@pytest.mark.parametrize("hook", [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("register_")])
def test_every_hook_is_documented_with_its_arguments(hook: str) -> None:
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"`{hook}({params})`" in CONTRIBUTING


def _load_examples() -> PluginHost:
    host = PluginHost(entry_points=False)
    for number, source in enumerate(_python_blocks()):
        if "@zsbench.hookimpl" not in source:
            continue
        module = types.ModuleType(f"contributing_example_{number}")
        exec(compile(source, f"CONTRIBUTING.md example {number}", "exec"), module.__dict__)
        info = host.register_plugin(module, name=f"example{number}")
        assert info.status == "ok", info.error
    return host


def test_the_worked_examples_register_and_work(tmp_path: Path) -> None:
    host = _load_examples()
    assert {"myidea"} <= set(host.proxies.names())

    space = host.spaces.get("tiny-widths")
    archs = list(space.enumerate())
    assert len(archs) == space.size() == 9
    assert all(space.canonical(a) == a for a in archs)
    with pytest.raises(zsbench.InvalidArchitectureError, match="widths in"):
        space.parse("w8-w9")
    cost = space.cost("w8-w16")
    assert cost.params == sum(p.numel() for p in space.build("w8-w16").parameters())
    assert cost.depth == 3
    assert sorted(space.sample(3, seed=1)) == sorted(space.sample(3, seed=1))
    # the bounded draw of the example is the default rejection sampler: every network of at
    # most the 4th-smallest FLOPs, deterministically, and a clear error when too few exist
    flops = sorted(space.cost(a).flops for a in archs)
    cheap = space.sample(4, seed=2, max_flops=flops[3])
    assert sorted(space.cost(a).flops for a in cheap) == flops[:4] and space.sample(4, seed=2, max_flops=flops[3]) == cheap
    with pytest.raises(ValueError, match="found only 4 of 5 architectures"):
        space.sample(5, seed=2, max_flops=flops[3])

    benchmark = host.benchmarks.get("mytable-cifar10")
    with pytest.raises(zsbench.DataMissingError, match="needs"):
        benchmark.load(tmp_path)
    (tmp_path / "mytable").mkdir()
    pd.DataFrame({"arch": ["w8-w8"], "accuracy": [90.0], "extra": [1]}).to_csv(tmp_path / "mytable" / "results.csv", index=False)
    assert list(benchmark.load(tmp_path).columns) == ["arch", "accuracy"]


def regret_by_every_tie_break(scores: list[float], accuracy: list[float], k: int) -> float:
    """The pool's best accuracy minus the best of the top k, averaged over every order of the
    architectures that sorts the scores (failed scores last, never picked)."""
    values = []
    for order in itertools.permutations(range(len(scores))):
        ranked = sorted(order, key=lambda i: -scores[i] if math.isfinite(scores[i]) else math.inf)
        picked = [i for i in ranked[:k] if math.isfinite(scores[i])]
        values.append(max(accuracy) - max(accuracy[i] for i in picked))
    return sum(values) / len(values)


def test_the_index_example_computes_its_definition_and_runs_in_an_evaluation(tmp_path: Path) -> None:
    from toy_plugins import evaluate_with, toy_batch, toy_host

    host = _load_examples()
    metric = host.metrics.get("regret_at_k")
    scores = [3.0, 5.0, 5.0, 5.0, 1.0, float("nan")]
    accuracy = [70.0, 90.0, 60.0, 80.0, 95.0, 99.0]
    for k in (1, 2, 3):
        data = zsbench.MetricInput(np.array(scores), np.array(accuracy), options={"k": k / len(scores)})
        result = metric.compute(data)
        assert result["regret_at_k/K"] == k
        assert result["regret_at_k"] == pytest.approx(regret_by_every_tie_break(scores, accuracy, k))
    everything_failed = zsbench.MetricInput(np.full(6, np.nan), np.array(accuracy), options={"k": 0.5})
    assert math.isnan(metric.compute(everything_failed)["regret_at_k"])

    # installed next to the first-party indices, it takes its declared place, option and roles
    evaluation_host = toy_host()
    module = types.ModuleType("regret_example")
    exec(compile(_example_with("class RegretAtK"), "CONTRIBUTING.md index example", "exec"), module.__dict__)
    evaluation_host.register_plugin(module, name="regret")
    result = evaluate_with(
        "toy_output", "toy-bench", host=evaluation_host, batch=toy_batch(), cache=tmp_path / "c.sqlite",
        metrics="br_at_k,p_at_k,regret_at_k", bootstrap=20, per_metric={"regret_at_k": {"k": "0.25"}},
    )
    assert result.index_names == ["br_at_k", "regret_at_k", "p_at_k"]
    row = result.summary.iloc[0]
    assert row["regret_at_k/K"] == 8  # 25 % of the 32 toy architectures
    table = result.scores
    expected = regret_by_k_sorted(list(table["toy_output"]), list(table["accuracy"]), 8)
    assert row["regret_at_k"] == pytest.approx(expected)
    assert "regret_at_k/ci_low" in row and "regret_at_k/K/ci_low" not in row
    assert result.entry_roles["regret_at_k/K"] == ("regret_at_k", "setting")


def regret_by_k_sorted(scores: list[float], accuracy: list[float], k: int) -> float:
    """Regret for scores without ties: the best of the k highest scores."""
    assert len(set(scores)) == len(scores)
    top = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
    return max(accuracy) - max(accuracy[i] for i in top)


def _example_with(marker: str) -> str:
    [source] = [block for block in _python_blocks() if marker in block]
    return source
