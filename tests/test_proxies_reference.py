"""Proxy values against reference scores: each reference implementation's own code run on CPU (torch 2.14.1).

Recipe: batch ``x = randn(64, 3, 32, 32)``, ``y = randint(0, 10, (64,))``
from one generator seeded 0; ``torch.manual_seed(0)`` before building the torchvision
model (train mode) and again before the proxy call. ``score_model(seed=0)`` does exactly
that, so these tests go through the public harness.

Tolerances: 1e-6 relative (1e-4 for ntk) wherever this machine
reproduces the figure to it. The gradient-based float32 proxies (grad_norm, plain, snip,
grasp, fisher, jacob_cov on resnet18) cannot: their float32 value depends on the CPU
kernels (oneDNN code path, vector width), and the reference figures were taken on a
different build. Evidence, recorded in plugins/zsbench_proxies/README.md: zero-cost-nas's
own code, run here on the same inputs, gives values *bit-identical* to zsbench's, and
both machines' figures lie within float32 rounding of the float64 value. For those cases
the tolerance is the measured cross-machine float32 spread with margin (column ``why``).
grasp on mobilenet_v2 is left out: its float32 value moves by 6 % between builds (float64
12.445, this machine 13.228, spec 12.562), so no tolerance would test anything.
"""

from __future__ import annotations

import math

import pytest
import torch
import torchvision

import zsbench
from zsbench.engine.harness import score_model

SPEC_TOL = 1e-6
F32 = "float32 kernel spread between CPU builds (zero-cost-nas bit-identical here)"

# model -> proxy -> (reference value, relative tolerance, why the tolerance differs from section 7)
REFERENCE = {
    "resnet18": {
        "grad_norm": (101.83323, 1e-4, F32 + ": here 3.4e-5"),
        "plain": (0.48841178, 1e-5, F32 + ": here 2.3e-6"),
        "snip": (711.9082, 1e-4, F32 + ": here 1.5e-5"),
        "grasp": (-39.751892, 5e-4, F32 + " (second order): here 1.7e-4"),
        "fisher": (8.633666, 1e-4, F32 + ": here 5.8e-5"),
        "jacob_cov": (-65.269832, 1e-5, F32 + ": here 2.9e-6"),
        "synflow": (2.8710149e24, SPEC_TOL, ""),
        "zen": (44.6064, SPEC_TOL, ""),
        "naswot": (633.76753, SPEC_TOL, ""),
        "params": (11181642, 0.0, ""),
    },
    "mobilenet_v2": {  # torchvision default Dropout(0.2): our passes consume the RNG like the references
        "grad_norm": (285.18756, 1e-4, F32 + ": here 4.2e-5"),
        "plain": (-0.046527889, 2e-3, F32 + " on a sum that cancels to 1e-4 of its terms: here 6.2e-4"),
        "snip": (737.42755, 1e-4, F32 + ": here 1.9e-5"),
        "fisher": (5.7763906, 1e-4, F32 + ": here 1.2e-5"),
        "jacob_cov": (-65.852708, SPEC_TOL, ""),
        "synflow": (629.96807, SPEC_TOL, ""),
        "zen": (60.140232, SPEC_TOL, ""),
        "naswot": (705.7808, SPEC_TOL, ""),
        "params": (2236682, 0.0, ""),
    },
    "mobilenet_v2_dropout0": {  # the reference figures are given to 5 significant digits
        "grad_norm": (263.71, 2e-4, F32 + ": here 8.6e-5, plus 2e-5 print rounding"),
        "synflow": (615.00, 1e-5, "print rounding of the reference figure (5 digits)"),
    },
}

NTK_REFERENCE = {"resnet18": 2.3490322, "mobilenet_v2_dropout0": 9.4821}
NTK_TOL = 1e-4

BUILDS = {
    "resnet18": lambda: torchvision.models.resnet18(num_classes=10),
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(num_classes=10),
    "mobilenet_v2_dropout0": lambda: torchvision.models.mobilenet_v2(num_classes=10, dropout=0.0),
}


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


@pytest.fixture(scope="module")
def spec_batch() -> zsbench.Batch:
    g = torch.Generator().manual_seed(0)
    x = torch.randn((64, 3, 32, 32), generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    return zsbench.Batch(x, y, 10, source="proxy-spec-section-4")


@pytest.fixture(scope="module")
def scored(spec_batch):
    """Every reference proxy on every model, once (module cache keyed by model)."""
    host = zsbench.get_host()
    cache: dict[str, dict[str, object]] = {}

    def get(model: str):
        if model not in cache:
            proxies = [host.proxies.get(name) for name in REFERENCE[model]]
            results = score_model(BUILDS[model], proxies, spec_batch, seed=0)
            cache[model] = {r.proxy: r for r in results}
        return cache[model]

    return get


CASES = [(model, proxy) for model, table in REFERENCE.items() for proxy in table]


@pytest.mark.parametrize(("model", "proxy"), CASES, ids=[f"{m}-{p}" for m, p in CASES])
def test_matches_reference(scored, model, proxy):
    expected, rtol, _why = REFERENCE[model][proxy]
    result = scored(model)[proxy]
    assert result.ok, result.error
    assert math.isclose(result.value, expected, rel_tol=rtol), (
        f"{proxy} on {model}: {result.value!r} vs reference {expected!r} "
        f"(rel {abs(result.value - expected) / abs(expected):.2e} > {rtol})"
    )


@pytest.mark.slow
@pytest.mark.parametrize("model", list(NTK_REFERENCE))
def test_ntk_matches_te_nas(spec_batch, model):
    (result,) = score_model(BUILDS[model], [zsbench.get_host().proxies.get("ntk")], spec_batch, seed=0)
    assert result.ok, result.error
    assert math.isclose(result.value, NTK_REFERENCE[model], rel_tol=NTK_TOL), result.value


def test_direction_and_contract_of_reference_proxies():
    proxies = zsbench.get_host().proxies
    assert proxies.get("ntk").higher_is_better is False
    for name in ("grad_norm", "plain", "snip", "grasp", "fisher", "jacob_cov", "synflow", "zen", "naswot"):
        assert proxies.get(name).higher_is_better is True, name
    assert proxies.get("synflow").dtype == "float64" and proxies.get("synflow").bn_mode == "identity"
    assert proxies.get("synflow").input_kind == "batch-shape"
    assert proxies.get("zen").input_kind == "gaussian"
    assert proxies.get("params").input_kind == "none"
