"""Tiny fake plugins for the engine tests (a module, not a test file, so worker processes can import it too).

Space ``toy``: architectures ``w<width>-d<depth>`` (width 2..9, depth 1..4), a stack of
``depth`` 3x3 convolutions of ``width`` channels, global pooling and a linear head.
Benchmark ``toy-bench``: all 32 architectures; accuracy rises with width and depth.
Proxies: ``toy_params`` (parameter count, needs no input), ``toy_output`` (mean output on
the batch: depends on seed and batch), ``toy_flaky`` (fails on depth 4), ``toy_lower``
(lower is better: minus the parameter count). ``toy_crash`` kills its process when the
architecture equals ``$TOY_CRASH_ARCH``: every time, or only the first time when
``$TOY_CRASH_ONCE`` names a marker file (written just before the kill). Every call of a proxy appends ``proxy arch`` to
``$TOY_CALL_LOG`` when set, so tests can count what was computed.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import zsbench
from zsbench.costs import count_params

_ARCH = re.compile(r"^w([2-9])-d([1-4])$")


def _log_call(proxy: str, model: Any) -> None:
    log = os.environ.get("TOY_CALL_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{proxy} {model.toy_arch}\n")
    delay = float(os.environ.get("TOY_DELAY", "0"))
    if delay:
        time.sleep(delay)


class ToySpace(zsbench.SearchSpace):
    name = "toy"
    description = "toy conv stacks"
    default_input_size = 8

    def size(self) -> int:
        return 32

    def parse(self, arch: str) -> tuple[int, int]:
        match = _ARCH.match(arch.strip())
        if not match:
            raise zsbench.InvalidArchitectureError(f"{arch!r} is not w<2-9>-d<1-4>")
        return int(match.group(1)), int(match.group(2))

    def encode(self, spec: tuple[int, int]) -> str:
        return f"w{spec[0]}-d{spec[1]}"

    def enumerate(self) -> Iterator[str]:
        for width in range(2, 10):
            for depth in range(1, 5):
                yield f"w{width}-d{depth}"

    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        import random

        if max_flops is not None:
            return self.sample_by_rejection(n, seed, max_flops)

        return random.Random(seed).sample(list(self.enumerate()), n)

    def build(self, arch: str, num_classes: int = 10, *, seed: int | None = None, input_size: int | None = None):
        import torch
        from torch import nn

        width, depth = self.parse(arch)
        state = torch.random.get_rng_state()
        if seed is not None:
            torch.manual_seed(seed)
        try:
            layers: list[nn.Module] = []
            channels = 3
            for _ in range(depth):
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
                channels = width
            model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))
        finally:
            if seed is not None:
                torch.random.set_rng_state(state)
        model.toy_arch = arch
        return model

    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None) -> zsbench.Cost:
        # analytic, to keep the tests fast; test_toy_costs_match_the_counters checks it
        width, depth = self.parse(arch)
        pixels = (input_size or 8) ** 2
        conv_weights = 3 * width * 9 + (depth - 1) * width * width * 9
        flops = conv_weights * pixels + width * num_classes
        params = conv_weights + depth * width + width * num_classes + num_classes
        return zsbench.Cost(float(flops), params, depth + 1)

    def features(self, arch: str) -> dict[str, float]:
        width, depth = self.parse(arch)
        return {"width": float(width), "depth": float(depth)}


def toy_accuracy(arch: str) -> float:
    width, depth = ToySpace().parse(arch)
    # mostly width and depth, plus a fixed wiggle so the ranking is not a pure cost ranking
    return 50.0 + 3.0 * width + 2.0 * depth + ((width * 7 + depth * 3) % 5) * 0.7


class ToyBench(zsbench.Benchmark):
    name = "toy-bench"
    space = "toy"
    dataset = "toy"
    num_classes = 10
    input_size = 8

    def load(self, data_root: Path | None = None):
        import pandas as pd

        archs = list(ToySpace().enumerate())
        # the benchmark's own key differs from the canonical string (a space in front)
        return pd.DataFrame({"arch": [f" {a}" for a in archs], "accuracy": [toy_accuracy(a) for a in archs]})


class ToyParams(zsbench.Proxy):
    name = "toy_params"
    input_kind = "none"

    def score(self, model, batch) -> float:
        _log_call(self.name, model)
        return float(count_params(model))


class ToyLower(zsbench.Proxy):
    name = "toy_lower"
    input_kind = "none"
    higher_is_better = False

    def score(self, model, batch) -> float:
        _log_call(self.name, model)
        return -float(count_params(model))


class ToyOutput(zsbench.Proxy):
    name = "toy_output"

    def score(self, model, batch) -> float:
        import torch

        _log_call(self.name, model)
        with torch.no_grad():
            return float(model(batch.inputs).abs().mean())


class ToyFlaky(zsbench.Proxy):
    name = "toy_flaky"

    def score(self, model, batch) -> float:
        _log_call(self.name, model)
        if model.toy_arch.endswith("d4"):
            raise RuntimeError("toy_flaky does not like depth 4")
        return float(len(model))


class ToyCrash(zsbench.Proxy):
    name = "toy_crash"
    input_kind = "none"

    def score(self, model, batch) -> float:
        _log_call(self.name, model)
        if model.toy_arch == os.environ.get("TOY_CRASH_ARCH"):
            marker = os.environ.get("TOY_CRASH_ONCE")
            if not marker:
                os._exit(17)  # a hard crash, as a segfault or an OOM kill would be
            if not os.path.exists(marker):
                Path(marker).write_text(str(os.getpid()), encoding="utf-8")
                os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        return 1.0


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    register(ToySpace())


@zsbench.hookimpl
def register_benchmarks(register: Callable[[Any], None]) -> None:
    register(ToyBench())


@zsbench.hookimpl
def register_proxies(register: Callable[[Any], None]) -> None:
    for proxy in (ToyParams(), ToyLower(), ToyOutput(), ToyFlaky(), ToyCrash()):
        register(proxy)


def toy_host() -> zsbench.PluginHost:
    """An isolated host with the toy plugins and the real metric plugins."""
    import importlib

    import toy_plugins

    host = zsbench.PluginHost(entry_points=False)
    host.register_plugin(toy_plugins, name="toy")
    for metric in ("pearson", "kendall", "spearman", "br_at_k", "p_at_k", "mbr_flops", "mbr_params", "mbr_depth"):
        host.register_plugin(importlib.import_module(f"zsbench_metrics.{metric}"), name=metric)
    return host


def toy_batch(seed: int = 0) -> zsbench.Batch:
    import torch

    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(4, 3, 8, 8, generator=generator)
    return zsbench.Batch(inputs, torch.arange(4) % 10, 10, source=f"toy-gaussian-{seed}")


def evaluate_with(proxies: Any = "all", benchmark: Any = None, **flat: Any) -> Any:
    """:func:`zsbench.evaluate` with every option given flat (``limit=8, bootstrap=0``): each one
    goes to the options group that has a field of its name, so tests read as one call."""
    import dataclasses

    from zsbench.engine.evaluation import IndexOptions, PoolOptions, RunOptions, ScoringOptions, evaluate

    direct = {key: flat.pop(key) for key in ("metrics", "host", "progress") if key in flat}
    groups = {"pool": PoolOptions, "scoring": ScoringOptions, "run": RunOptions, "indices": IndexOptions}
    grouped = {}
    for group, options_class in groups.items():
        names = {f.name for f in dataclasses.fields(options_class)}
        grouped[group] = options_class(**{key: flat.pop(key) for key in list(flat) if key in names})
    if flat:
        raise TypeError(f"no options group has {', '.join(flat)}")
    return evaluate(proxies, benchmark, **direct, **grouped)
