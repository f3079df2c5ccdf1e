"""score_model records failures with their reason and goes on with the other proxies and
architectures; it never substitutes a number."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import zsbench
from zsbench.engine.harness import run_contract, score_model

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


class FailsOnWideModels(zsbench.Proxy):
    """Raises on models with a layer wider than 8 channels, else counts parameters."""

    name = "fails_on_wide"

    def score(self, model, batch):
        if any(isinstance(m, nn.Conv2d) and m.out_channels > 8 for m in model.modules()):
            raise ValueError("too wide for this proxy")
        return float(sum(p.numel() for p in model.parameters()))


class NanOnWideModels(zsbench.Proxy):
    name = "nan_on_wide"

    def score(self, model, batch):
        wide = any(isinstance(m, nn.Conv2d) and m.out_channels > 8 for m in model.modules())
        return float("nan") if wide else 1.5


class InfAlways(zsbench.Proxy):
    name = "inf_always"

    def score(self, model, batch):
        return float("-inf")


class OutOfMemory(zsbench.Proxy):
    name = "oom"

    def score(self, model, batch):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def convnet(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10),
    )  # fmt: skip


def batch() -> zsbench.Batch:
    g = torch.Generator().manual_seed(0)
    return zsbench.Batch(torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 10, (8,), generator=g), 10, "test")


def test_a_failing_proxy_is_recorded_and_the_rest_go_on():
    host = zsbench.get_host().proxies
    chosen = [FailsOnWideModels(), host.get("snip"), NanOnWideModels(), InfAlways(), OutOfMemory(), host.get("params")]
    per_arch = {width: score_model(lambda w=width: convnet(w), chosen, batch(), seed=0) for width in (4, 16)}

    narrow = {r.proxy: r for r in per_arch[4]}
    wide = {r.proxy: r for r in per_arch[16]}
    assert [r.proxy for r in per_arch[16]] == [p.name for p in chosen]  # order kept, one result each

    assert narrow["fails_on_wide"].ok and narrow["fails_on_wide"].value == narrow["params"].value
    assert wide["fails_on_wide"].value is None
    assert wide["fails_on_wide"].error == "ValueError: too wide for this proxy"

    assert narrow["nan_on_wide"].value == 1.5
    assert wide["nan_on_wide"].value is None and wide["nan_on_wide"].error == "non-finite score nan"
    assert wide["inf_always"].value is None and wide["inf_always"].error == "non-finite score -inf"
    assert wide["oom"].value is None and wide["oom"].error.startswith("out of memory")

    # The proxies after each failure still produced their values.
    for results in (narrow, wide):
        assert results["snip"].ok and math.isfinite(results["snip"].value) and results["snip"].value > 0
    assert wide["params"].value == sum(p.numel() for p in convnet(16).parameters())
    assert not wide["fails_on_wide"].ok and wide["params"].ok


def test_failure_keeps_the_run_contract():
    (result,) = score_model(lambda: convnet(16), [FailsOnWideModels()], batch(), seed=4)
    assert result.contract == run_contract(FailsOnWideModels(), batch(), 4)
    assert result.contract["seed"] == 4 and result.contract["batch_size"] == 8


def test_the_device_type_is_part_of_the_contract_of_proxies_that_see_data():
    class CountsParams(zsbench.Proxy):
        name = "counts_params"
        input_kind = "none"

        def score(self, model, batch) -> float:
            return float(sum(p.numel() for p in model.parameters()))

    sees_data = FailsOnWideModels()
    assert run_contract(sees_data, batch(), 0)["device"] == "cpu"
    assert run_contract(sees_data, batch(), 0, "cuda:1")["device"] == "cuda"  # the type, not the index
    assert run_contract(sees_data, batch(), 0, "cuda") != run_contract(sees_data, batch(), 0, "cpu")
    # a pure function of the architecture is the same everywhere: one cache entry serves all devices
    assert run_contract(CountsParams(), batch(), 0, "cuda") == run_contract(CountsParams(), batch(), 0, "cpu")


def test_a_model_that_cannot_be_built_fails_every_proxy_with_the_reason():
    def broken():
        raise RuntimeError("no such op")

    results = score_model(broken, [zsbench.get_host().proxies.get("grad_norm"), InfAlways()], batch(), seed=0)
    assert [r.error for r in results] == ["RuntimeError: no such op"] * 2
