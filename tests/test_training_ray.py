"""The Ray executor on a local Ray instance: one task per network, retries, failures, results as they arrive."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from toy_training import QUICK, ToySpace, evaluate_param_proxy, write_image_tree

from zsbench.builds import discover_builds
from zsbench.engine.executors import RayExecutor
from zsbench.training.builder import build_pool, default_executor
from zsbench.training.store import ResultStore

ray = pytest.importorskip("ray", reason="the ray executor needs the 'ray' extra")


class FailOnceSpace(ToySpace):
    """``w4-d1`` fails on its first attempt (a marker file remembers it), ``w12-d3`` always."""

    name = "fail-once"

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def build(self, arch, num_classes=10, *, seed=None, input_size=None):
        if arch == "w12-d3":
            raise ValueError("w12-d3 never builds")
        if arch == "w4-d1" and not Path(self.marker).exists():
            Path(self.marker).write_text("failed once")
            raise RuntimeError("transient failure")
        return super().build(arch, num_classes, seed=seed, input_size=input_size)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_build_retries_records_failures_and_evaluates(tmp_path) -> None:
    torch.set_num_threads(1)
    root = write_image_tree(tmp_path / "images", train_per_class=10, test_per_class=1, size=16)
    # Ray workers cannot import the tests folder: ship these classes by value.
    for module in ("toy_training", __name__):
        ray.cloudpickle.register_pickle_by_value(sys.modules[module])
    space = FailOnceSpace(tmp_path / "marker")
    archs = ["w4-d1", "w12-d3", "w8-d2", "w4-d2"]
    space.sample = lambda n, seed=0, *, max_flops=None: archs[:n]  # a fixed pool holding both failing architectures
    executor = default_executor("ray", retries=1, cpus_per_task=1, num_cpus=2)
    assert isinstance(executor, RayExecutor)
    arrivals: list[str] = []
    report = build_pool(
        "ray-toy", space, 4, recipe=QUICK, out_dir=tmp_path / "out", data_root=root, executor=executor,
        progress=False, on_result=lambda task, record: arrivals.append(task.arch),
    )
    assert not ray.is_initialized()  # the executor stops the instance it started
    assert sorted(arrivals) == sorted(archs)
    assert [(a, r) for a, _, r in report.failed] == [("w12-d3", "ValueError: w12-d3 never builds")]
    records = ResultStore(report.results_path).records()
    ok = {r["arch"]: r for r in records if r["status"] == "ok"}
    assert set(ok) == {"w4-d1", "w8-d2", "w4-d2"}  # w4-d1 succeeded on its retry
    assert (tmp_path / "marker").read_text() == "failed once"
    assert all(r["threads"] == 1 and r["device"] == "cpu" for r in ok.values())
    assert [r["attempts"] for r in records if r["status"] == "failed"] == [2]

    benchmark = discover_builds(tmp_path / "out")[0]
    assert list(benchmark.load()["arch"]) == ["w4-d1", "w8-d2", "w4-d2"]
    scores = evaluate_param_proxy(benchmark, ToySpace())
    assert list(scores) == [float(ToySpace().cost(a).params) for a in ["w4-d1", "w8-d2", "w4-d2"]]
