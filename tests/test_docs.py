"""The plugin documentation cannot drift: every hook is documented, and every worked example runs."""

from __future__ import annotations

import inspect
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

    metric = host.metrics.get("spearman")
    accuracy = np.array([1.0, 2.0, 3.0, 4.0])
    assert metric.compute(zsbench.MetricInput(accuracy, accuracy))["spearman"] == pytest.approx(1.0)
    reversed_proxy = zsbench.MetricInput(-accuracy, accuracy, higher_is_better=False)
    assert metric.compute(reversed_proxy)["spearman"] == pytest.approx(1.0)

    benchmark = host.benchmarks.get("mytable-cifar10")
    with pytest.raises(zsbench.DataMissingError, match="needs"):
        benchmark.load(tmp_path)
    (tmp_path / "mytable").mkdir()
    pd.DataFrame({"arch": ["w8-w8"], "accuracy": [90.0], "extra": [1]}).to_csv(tmp_path / "mytable" / "results.csv", index=False)
    assert list(benchmark.load(tmp_path).columns) == ["arch", "accuracy"]
