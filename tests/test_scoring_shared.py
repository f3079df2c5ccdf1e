"""Shared passes in ``score_model``: every first-party proxy gives the same value computed in
the shared pass as on its own model, on three search spaces; the engine's rules (grouping,
fallbacks, failures of one product, third-party proxies) on toy passes declared the way any
plugin would declare them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zsbench
from zsbench.engine.harness import score_model

FIRST_PARTY = (
    "grad_norm", "plain", "snip", "grasp", "fisher", "synflow", "jacob_cov", "ntk", "zen",
    "flops", "params", "depth", "naswot", "l2_norm", "zico",
)  # fmt: skip

# Relative tolerances of shared against one-proxy scores (plugins/zsbench_proxies/README.md, "Shared passes"):
# 1e-6, fisher 1e-5 (its sum runs in another order), ntk 1e-4 (float32 Gram matrix and eigensolver).
TOLERANCE = {"fisher": 1e-5, "ntk": 1e-4}
DEFAULT_TOLERANCE = 1e-6


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


def _batch(size: int = 8, hw: int = 16) -> zsbench.Batch:
    g = torch.Generator().manual_seed(0)
    return zsbench.Batch(torch.randn(size, 3, hw, hw, generator=g), torch.randint(0, 10, (size,), generator=g), 10, "test")


class _CountingBuild:
    def __init__(self, make) -> None:
        self.make = make
        self.calls = 0

    def __call__(self) -> nn.Module:
        self.calls += 1
        return self.make()


def _assert_same(separate, shared) -> None:
    for alone, together in zip(separate, shared, strict=True):
        assert alone.proxy == together.proxy
        assert alone.error == together.error, alone.proxy
        assert alone.contract == together.contract, alone.proxy
        if alone.value is not None:
            rtol = TOLERANCE.get(alone.proxy, DEFAULT_TOLERANCE)
            assert together.value == pytest.approx(alone.value, rel=rtol, abs=0.0), alone.proxy


@pytest.mark.parametrize("space_name", ["nb201", "R1", "MB"])
def test_every_first_party_proxy_equals_its_separate_path(space_name: str) -> None:
    host = zsbench.get_host()
    proxies = [host.proxies.get(name) for name in FIRST_PARTY]
    space = host.spaces.get(space_name)
    arch = min(space.sample(10, seed=0), key=lambda a: space.cost(a, 10, 16).flops)
    batch = _batch()
    separate_build = _CountingBuild(lambda: space.build(arch, 10, seed=0, input_size=16))
    shared_build = _CountingBuild(lambda: space.build(arch, 10, seed=0, input_size=16))

    separate = score_model(separate_build, proxies, batch, seed=0, share_passes=False)
    shared = score_model(shared_build, proxies, batch, seed=0)

    assert all(r.ok for r in separate), [(r.proxy, r.error) for r in separate if not r.ok]
    _assert_same(separate, shared)
    assert separate_build.calls == len(FIRST_PARTY)
    # One model for the 13 proxies of the shared pass, one each for synflow and zen.
    assert shared_build.calls == 3


class _DropoutNet(nn.Module):
    def __init__(self, functional: bool) -> None:
        super().__init__()
        self.functional = functional
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.drop = nn.Dropout(0.0 if functional else 0.5)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x).flatten(1)
        x = F.dropout(x, 0.5, self.training) if self.functional else self.drop(x)
        return self.fc(x)


@pytest.mark.parametrize("functional", [False, True], ids=["module", "functional"])
def test_models_drawing_random_numbers_are_scored_one_proxy_at_a_time(functional: bool) -> None:
    """grasp's reference draws other Dropout masks in its second forward: such models keep the separate path,
    whether Dropout is a module (declined before the pass) or functional (seen in the RNG state)."""
    host = zsbench.get_host()
    proxies = [host.proxies.get(name) for name in ("grad_norm", "grasp", "jacob_cov", "naswot")]

    def build() -> nn.Module:
        torch.manual_seed(1)
        return _DropoutNet(functional)

    separate = score_model(build, proxies, _batch(), seed=0, share_passes=False)
    shared = score_model(build, proxies, _batch(), seed=0)
    assert [r.value for r in shared] == [r.value for r in separate]
    assert all(r.ok for r in shared)


def test_a_failing_product_fails_only_its_proxy() -> None:
    host = zsbench.get_host()
    proxies = [host.proxies.get(name) for name in ("grad_norm", "naswot", "params")]

    def build() -> nn.Module:  # no ReLU module: naswot has nothing to read
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 14 * 14, 10))

    shared = score_model(build, proxies, _batch(), seed=0)
    separate = score_model(build, proxies, _batch(), seed=0, share_passes=False)
    assert shared[1].error == separate[1].error == "ValueError: naswot: the model has no module whose type name contains 'ReLU'"
    assert shared[0].ok and shared[2].ok
    assert shared[0].value == separate[0].value and shared[2].value == separate[2].value


# -- the engine's rules, on a pass any plugin could declare -----------------------------------


class _ToyPass(zsbench.SharedPass):
    key = "toy:sum"

    def __init__(self, fail: str | None = None, accept: bool = True) -> None:
        self.fail = fail
        self.accept = accept
        self.runs: list[frozenset[str]] = []

    def accepts(self, model: nn.Module) -> bool:
        return self.accept

    def run(self, model: nn.Module, batch: zsbench.Batch, products: frozenset[str]) -> dict[str, Any]:
        self.runs.append(products)
        if self.fail == "run":
            raise RuntimeError("the whole pass broke")
        out: dict[str, Any] = {}
        with torch.no_grad():
            logits = model(batch.inputs)
        if "sum" in products:
            out["sum"] = float(logits.sum())
        if "max" in products:
            out["max"] = ValueError("no max today") if self.fail == "max" else float(logits.max())
        return out


class _ToyProxy(zsbench.Proxy):
    input_kind = "batch"

    def __init__(self, name: str, product: str, shared_pass: zsbench.SharedPass | None) -> None:
        self.name = name
        self.product = product
        self.shared_pass = shared_pass
        self.score_calls = 0
        self.shared_calls = 0

    def score(self, model: nn.Module, batch: zsbench.Batch) -> float:
        self.score_calls += 1
        with torch.no_grad():
            logits = model(batch.inputs)
        if self.product == "max":
            if isinstance(self.shared_pass, _ToyPass) and self.shared_pass.fail == "max":
                raise ValueError("no max today")
            return float(logits.max())
        return float(logits.sum())

    def requires(self) -> zsbench.PassRequest | None:
        return None if self.shared_pass is None else zsbench.PassRequest(self.shared_pass, frozenset({self.product}))

    def score_shared(self, products: Mapping[str, Any], model: nn.Module, batch: zsbench.Batch) -> float:
        self.shared_calls += 1
        return products[self.product]


def _toy_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 10))


def test_proxies_declaring_one_pass_share_one_model_and_one_run() -> None:
    toy = _ToyPass()
    summed, largest, third_party = _ToyProxy("summed", "sum", toy), _ToyProxy("largest", "max", toy), _ToyProxy("own", "sum", None)
    build = _CountingBuild(_toy_model)
    results = score_model(build, [third_party, summed, largest], _batch(), seed=0)
    separate = score_model(_toy_model, [third_party, summed, largest], _batch(), seed=0, share_passes=False)

    assert toy.runs == [frozenset({"sum", "max"})]
    assert build.calls == 2  # one for the group, one for the proxy that declares nothing
    assert (summed.shared_calls, largest.shared_calls, third_party.score_calls) == (1, 1, 2)
    assert [r.proxy for r in results] == ["own", "summed", "largest"]
    assert [r.value for r in results] == pytest.approx([r.value for r in separate], rel=1e-6)
    assert all(math.isfinite(r.seconds) and r.seconds >= 0 for r in results)


def test_a_lone_declaring_proxy_takes_its_own_path() -> None:
    toy = _ToyPass()
    alone = _ToyProxy("summed", "sum", toy)
    score_model(_toy_model, [alone, _ToyProxy("own", "sum", None)], _batch(), seed=0)
    assert toy.runs == [] and alone.score_calls == 1 and alone.shared_calls == 0


@pytest.mark.parametrize("how", ["run", "declined"])
def test_a_failed_or_declining_pass_falls_back_to_one_proxy_at_a_time(how: str) -> None:
    toy = _ToyPass(fail="run" if how == "run" else None, accept=how != "declined")
    summed, largest = _ToyProxy("summed", "sum", toy), _ToyProxy("largest", "max", toy)
    results = score_model(_toy_model, [summed, largest], _batch(), seed=0)
    assert all(r.ok for r in results)
    assert (summed.score_calls, largest.score_calls, summed.shared_calls) == (1, 1, 0)


def test_a_product_returned_as_an_exception_is_that_proxys_failure() -> None:
    toy = _ToyPass(fail="max")
    summed, largest = _ToyProxy("summed", "sum", toy), _ToyProxy("largest", "max", toy)
    results = score_model(_toy_model, [summed, largest], _batch(), seed=0)
    separate = score_model(_toy_model, [summed, largest], _batch(), seed=0, share_passes=False)
    assert results[0].ok and results[0].value == pytest.approx(separate[0].value, rel=1e-6)
    assert results[1].error == separate[1].error == "ValueError: no max today"


class _TimedPass(_ToyPass):
    """Reports that product ``max`` alone took 5 s (no sleeping: the engine's accounting is under test)."""

    key = "toy:timed"

    def product_seconds(self) -> dict[str, float]:
        return {"max": 5.0, "unread": 7.0}


def test_a_products_own_time_is_charged_to_the_proxies_that_read_it() -> None:
    timed = _TimedPass()
    summed, largest = _ToyProxy("summed", "sum", timed), _ToyProxy("largest", "max", timed)
    also_largest = _ToyProxy("largest_too", "max", timed)
    results = score_model(_toy_model, [summed, largest, also_largest], _batch(), seed=0)
    by_name = {r.proxy: r.seconds for r in results}
    # max's 5 s split between its two readers; nobody reads "unread", so it is charged to no one
    assert 2.5 <= by_name["largest"] < 3.0 and 2.5 <= by_name["largest_too"] < 3.0
    assert by_name["summed"] < 0.5


def test_without_a_report_the_pass_time_is_split_equally_and_adds_up() -> None:
    toy = _ToyPass()
    members = [_ToyProxy("summed", "sum", toy), _ToyProxy("largest", "max", toy)]
    results = score_model(_toy_model, members, _batch(), seed=0)
    assert all(r.seconds >= 0 for r in results)
    assert abs(results[0].seconds - results[1].seconds) < 0.05  # equal shares plus tiny reductions
