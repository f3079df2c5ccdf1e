"""Behaviour of the proxy plugins on small models: registration, values of the proxies
without published reference figures (checked against independent formulations),
the pre-pooling rule of zen, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from zsbench_proxies import _passes, _zen_pass
from zsbench_proxies.jacob_cov import jacobian_correlation_score
from zsbench_proxies.zico import zico_from_gradients

import zsbench
from zsbench.data import batch_fingerprint
from zsbench.engine.harness import score_model

ALL_PROXIES = (
    "grad_norm", "plain", "snip", "grasp", "fisher", "synflow", "jacob_cov", "ntk", "zen",
    "flops", "params", "depth", "naswot", "l2_norm", "zico",
)  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


class TinyNet(nn.Module):
    """conv-BN-ReLU, a residual conv-BN-ReLU6 block, pooling and a linear head.

    ``pool`` picks how global average pooling is written: a module, the functional
    form, or a mean over H and W.
    """

    def __init__(self, num_classes: int = 10, pool: str = "module", dropout: float = 0.0, se: bool = False) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.BatchNorm2d(8), nn.ReLU6())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 8, 1), nn.Sigmoid()) if se else None
        self.pool_kind = pool
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.block(x)
        if self.se is not None:
            x = x * self.se(x)
        if self.pool_kind == "module":
            x = self.gap(x)
        elif self.pool_kind == "functional":
            x = F.adaptive_avg_pool2d(x, (1, 1))
        elif self.pool_kind == "mean":
            x = x.mean(dim=(-2, -1), keepdim=True)
        else:  # no global pooling: flatten the whole map (zen cannot run)
            x = F.adaptive_max_pool2d(x, 1)
        return self.fc(self.drop(torch.flatten(x, 1)))


def tiny_batch(n: int = 16, seed: int = 1, size: int = 8) -> zsbench.Batch:
    g = torch.Generator().manual_seed(seed)
    return zsbench.Batch(torch.randn(n, 3, size, size, generator=g), torch.randint(0, 10, (n,), generator=g), 10, "test")


def proxies(*names: str) -> list[zsbench.Proxy]:
    return [zsbench.get_host().proxies.get(n) for n in names]


def test_every_declared_proxy_is_registered_with_a_contract():
    registry = zsbench.get_host().proxies
    for name in ALL_PROXIES:
        proxy = registry.get(name)
        assert proxy.name == name
        assert proxy.input_kind in ("batch", "batch-shape", "gaussian", "none")
        contract = proxy.contract()
        assert contract["proxy"] == name and contract["proxy_version"] == proxy.version
        assert proxy.description


def test_all_proxies_finite_on_a_small_model_with_run_contract():
    batch = tiny_batch()
    results = score_model(lambda: TinyNet(), proxies(*ALL_PROXIES), batch, seed=3)
    for r in results:
        assert r.ok, (r.proxy, r.error)
        assert math.isfinite(r.value)
        assert r.contract["seed"] == 3
    by_name = {r.proxy: r for r in results}
    assert by_name["snip"].contract["batch_size"] == 16 and by_name["snip"].contract["input_source"] == batch_fingerprint(batch)
    assert by_name["params"].contract["batch_size"] is None
    assert by_name["zen"].contract["input_source"] == "gaussian" and by_name["zen"].contract["mixup_gamma"] == 0.01
    assert by_name["zico"].contract["batch_splits"] == 2
    assert by_name["ntk"].value >= 1.0  # a condition number


def test_scores_are_bit_identical_whatever_ran_before():
    batch = tiny_batch()
    build = lambda: TinyNet(dropout=0.3)  # noqa: E731 - Dropout makes scores depend on the RNG state
    first = score_model(build, proxies(*ALL_PROXIES), batch, seed=0)
    # Unrelated work that consumes every RNG and leaves state behind.
    torch.randn(1000)
    np.random.rand(100)
    score_model(lambda: TinyNet(pool="mean"), proxies("grasp", "zen", "synflow"), tiny_batch(seed=9), seed=5)
    torch.manual_seed(1234)
    second = score_model(build, proxies(*reversed(ALL_PROXIES)), batch, seed=0)
    assert {r.proxy: r.value for r in first} == {r.proxy: r.value for r in second}
    other_seed = score_model(build, proxies("grad_norm"), batch, seed=1)
    assert other_seed[0].value != first[0].value  # the seed does matter


def test_zen_finds_the_map_before_global_pooling_in_any_form():
    batch = tiny_batch()
    values = [score_model(lambda p=p: TinyNet(pool=p), proxies("zen"), batch, seed=0)[0] for p in ("module", "functional", "mean")]
    assert all(v.ok for v in values), [v.error for v in values]
    assert values[0].value == pytest.approx(values[1].value, rel=1e-6)
    assert values[0].value == pytest.approx(values[2].value, rel=1e-6)
    # A squeeze-excitation pool inside the network is not the one feeding the head.
    recorder_model = TinyNet(se=True)
    with _zen_pass.GlobalPoolRecorder() as recorder:
        recorder_model(batch.inputs)
    assert recorder.last is not None and recorder.last.shape == (16, 8, 8, 8)


def test_zen_value_follows_its_definition():
    """Independent formulation of the Zen-NAS code: init, x, eps in that order; running_var
    after two momentum-0.1 updates read for the BN term."""
    batch = tiny_batch()
    (result,) = score_model(lambda: TinyNet(), proxies("zen"), batch, seed=7)
    torch.manual_seed(7)
    model = TinyNet().train()
    torch.manual_seed(7)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.normal_(0.0, 1.0)
                if m.bias is not None:
                    m.bias.zero_()
        x = torch.randn(batch.inputs.shape)
        eps = torch.randn(batch.inputs.shape)

        def features(inp):
            h = model.stem(inp)
            return h + model.block(h)

        delta = (features(x) - features(x + 0.01 * eps)).abs().sum(dim=(1, 2, 3)).mean()
        bn_term = sum(math.log(math.sqrt(m.running_var.mean().item())) for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert result.value == pytest.approx(math.log(delta.item()) + bn_term, rel=1e-5)
    # Two BN updates from running_var = 1 with momentum 0.1: 0.81 + 0.09 v1 + 0.1 v2 > 0.81.
    assert all(m.running_var.min().item() > 0.81 for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_zen_fails_with_a_reason_when_there_is_no_global_average_pooling():
    (result,) = score_model(lambda: TinyNet(pool="none"), proxies("zen"), tiny_batch(), seed=0)
    assert not result.ok and "global average pooling" in result.error


def test_naswot_kernel_counts_agreements_of_relu_codes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 5), nn.ReLU6(), nn.Linear(5, 3))
    x = torch.randn(6, 3, 2, 2)
    kernel = _passes.relu_code_kernel(model, x)
    with torch.no_grad():
        pre1 = model[1](x.flatten(1))
        pre2 = model[3](torch.relu(pre1))
    codes = torch.cat([pre1 > 0, pre2 > 0], dim=1).numpy()
    expected = np.array([[np.sum(a == b) for b in codes] for a in codes], dtype=float)
    np.testing.assert_array_equal(kernel.numpy(), expected)
    batch = zsbench.Batch(x, torch.zeros(6, dtype=torch.long), 3)
    (result,) = score_model(lambda: model, proxies("naswot"), batch, seed=0)
    sign, logdet = np.linalg.slogdet(expected)
    assert sign > 0, "the seeded inputs give six distinct codes: the kernel is positive definite"
    assert result.value == pytest.approx(logdet, rel=1e-12)


def test_naswot_fails_when_two_inputs_share_a_code():
    # two identical images have identical codes: two equal kernel rows, a singular kernel, no log-determinant
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 3))
    x = torch.randn(4, 3, 2, 2)
    x[3] = x[0]
    kernel = _passes.relu_code_kernel(model, x).numpy()
    assert np.array_equal(kernel[0], kernel[3])
    (result,) = score_model(lambda: model, proxies("naswot"), zsbench.Batch(x, torch.zeros(4, dtype=torch.long), 3), seed=0)
    assert not result.ok and result.value is None


def test_naswot_fails_without_relu_modules():
    model = lambda: nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10))  # noqa: E731
    (result,) = score_model(model, proxies("naswot"), tiny_batch(), seed=0)
    assert not result.ok and "ReLU" in result.error


def test_l2_norm_is_the_sum_of_per_layer_weight_norms():
    (result,) = score_model(lambda: TinyNet(), proxies("l2_norm"), tiny_batch(), seed=2)
    torch.manual_seed(2)
    model = TinyNet()
    expected = sum(
        float(np.linalg.norm(m.weight.detach().double().numpy().ravel()))
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    )
    assert result.value == pytest.approx(expected, rel=1e-6)


def test_zico_uses_cumulative_gradients_of_the_two_half_batches():
    """Reference semantics: ``loss.backward()`` per batch without zeroing, gradients read
    after each; the score computed here element by element."""
    batch = tiny_batch(n=16)
    (result,) = score_model(lambda: TinyNet(), proxies("zico"), batch, seed=4)
    torch.manual_seed(4)
    model = TinyNet().train()
    torch.manual_seed(4)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    recorded = [[] for _ in layers]
    for half in range(2):
        sl = slice(8 * half, 8 * half + 8)
        F.cross_entropy(model(batch.inputs[sl]), batch.targets[sl]).backward()
        for store, layer in zip(recorded, layers, strict=True):
            store.append(layer.weight.grad.detach().double().numpy().ravel().copy())
    expected = 0.0
    for store in recorded:
        g1, g2 = store
        terms = []
        for a, b in zip(g1, g2, strict=True):
            std = abs(a - b) / 2.0  # population std of two values
            if std > 0:
                terms.append((abs(a) + abs(b)) / 2.0 / std)
        if sum(terms) != 0:
            expected += math.log(sum(terms))
    assert result.value == pytest.approx(expected, rel=1e-5)


def test_zico_formula_skips_zero_std_entries_and_layers():
    grads = [np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), np.zeros((2, 4))]
    # layer 1: std = [1, 0, 1], mean|g| = [2, 2, 2] -> ratios 2 + 2 = 4; layer 2 skipped.
    assert zico_from_gradients(grads) == pytest.approx(math.log(4.0))


def test_jacob_cov_score_of_uncorrelated_rows():
    # Orthogonal zero-mean rows have identity correlation: score = -N (log(1+k) + 1/(1+k)).
    rows = np.array([[1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=float)
    k = 1e-5
    assert jacobian_correlation_score(rows) == pytest.approx(-3 * (math.log(1 + k) + 1 / (1 + k)), rel=1e-12)


def test_synflow_reads_only_the_shape_of_the_batch():
    a = score_model(lambda: TinyNet(), proxies("synflow"), tiny_batch(seed=1), seed=0)[0]
    b = score_model(lambda: TinyNet(), proxies("synflow"), tiny_batch(seed=2), seed=0)[0]
    assert a.ok and a.value == b.value


def test_naive_proxies_count_tinynets_costs_worked_out_by_hand():
    # TinyNet on 3x8x8 inputs, 10 classes:
    #   stem conv 3->8, 3x3, no bias:        8*3*9 = 216 weights, 216 MACs at each of 8*8 positions = 13,824
    #   BN(8):                                16 parameters
    #   block conv 8->8, 3x3, 2 groups, bias: 8*4*9 = 288 weights + 8 biases = 296, 288 * 64 = 18,432 MACs
    #   BN(8):                                16 parameters
    #   linear 8->10:                         80 weights + 10 biases = 90, 80 MACs
    # params 216 + 16 + 296 + 16 + 90 = 634; MACs 13,824 + 18,432 + 80 = 32,336 (biases and the
    # residual addition are not multiply-accumulates); depth: stem conv -> block conv -> linear = 3
    results = {r.proxy: r.value for r in score_model(lambda: TinyNet(), proxies("flops", "params", "depth"), tiny_batch(), seed=0)}
    assert results == {"params": 634.0, "flops": 32_336.0, "depth": 3.0}


def test_fisher_counts_each_channel_once_per_weight_of_its_slice():
    batch = tiny_batch()
    (result,) = score_model(lambda: TinyNet(), proxies("fisher"), batch, seed=0)
    torch.manual_seed(0)
    model = TinyNet().train()
    torch.manual_seed(0)
    outputs = {}
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]

    def keep(module, args, out):
        out.retain_grad()
        outputs[module] = out

    for layer in layers:
        layer.register_forward_hook(keep)
    F.cross_entropy(model(batch.inputs), batch.targets).backward()
    expected = 0.0
    for layer in layers:
        act, grad = outputs[layer].detach().double(), outputs[layer].grad.double()
        per_sample = (act * grad).sum(dim=(2, 3)) if act.dim() == 4 else act * grad
        fisher = 0.5 * per_sample.pow(2).mean(0)
        expected += float(fisher.abs().sum()) * math.prod(layer.weight.shape[1:])
    assert result.value == pytest.approx(expected, rel=1e-5)


def test_ntk_fails_with_a_reason_when_its_gradient_matrix_cannot_fit(monkeypatch):
    monkeypatch.setattr(_passes, "_available_bytes", lambda: 1024)
    (result,) = score_model(lambda: TinyNet(), proxies("ntk"), tiny_batch(), seed=0)
    assert result.value is None
    assert result.error.startswith("out of memory: ntk's 16 x ") and "GiB" in result.error
