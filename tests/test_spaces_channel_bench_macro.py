"""The Channel-Bench-Macro spaces (``cbm-resnet``, ``cbm-mobilenet``): contract, layout, costs;
and, with ZSBENCH_DATA, their costs against the benchmark's tables."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from zsbench_spaces import channel_bench_macro as cbm

import zsbench
from zsbench.costs import count_depth, count_flops, count_params
from zsbench.errors import InvalidArchitectureError

SPACES = [cbm.ChannelResNetSpace(), cbm.ChannelMobileNetSpace()]
FILES = {"cbm-resnet": "Results_ResNet.json", "cbm-mobilenet": "Results_MobileNet.json"}


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


def test_both_spaces_are_registered_through_the_entry_point() -> None:
    host = zsbench.PluginHost(load=["channel_bench_macro"], strict=True)
    assert isinstance(host.spaces.get("cbm-resnet"), cbm.ChannelResNetSpace)
    assert isinstance(host.spaces.get("cbm-mobilenet"), cbm.ChannelMobileNetSpace)


@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_enumeration_and_index_cover_the_space_in_the_benchmark_order(space: cbm.ChannelBenchMacroSpace) -> None:
    keys = list(space.enumerate())
    assert len(keys) == len(set(keys)) == space.size() == 16_384
    assert keys[0] == "1111111" and keys[1] == "1111112" and keys[4] == "1111121" and keys[-1] == "4444444"
    assert keys == sorted(keys)
    assert all(space.from_index(i) == keys[i] for i in (0, 1, 777, 9_999, 16_383))
    assert all(space.canonical(k) == k for k in keys[::97])
    with pytest.raises(ValueError, match="out of range"):
        space.from_index(16_384)


@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_sample_is_distinct_seeded_and_bounded(space: cbm.ChannelBenchMacroSpace) -> None:
    first = space.sample(50, seed=3)
    assert len(set(first)) == 50 and space.sample(50, seed=3) == first and space.sample(50, seed=4) != first
    assert sorted(space.sample(16_384, seed=0)) == list(space.enumerate())
    with pytest.raises(ValueError, match="cannot draw 16385"):
        space.sample(16_385)
    cheapest = space.cost("1111111").flops
    budget = sorted(space.cost(a).flops for a in first)[10]
    cheap = space.sample(8, seed=1, max_flops=budget)
    assert len(set(cheap)) == 8 and all(space.cost(a).flops <= budget for a in cheap)
    assert space.sample(8, seed=1, max_flops=budget) == cheap
    assert space.sample(1, seed=0, max_flops=cheapest) == ["1111111"]
    with pytest.raises(ValueError, match="found only 0 of 1"):
        space.sample(1, max_flops=cheapest - 1)


@pytest.mark.parametrize(
    ("arch", "needles"),
    [
        ("443221", ["6 characters", "expected 7 digits", "1..4"]),
        ("4432215", ["layer 7 is '5'", "allowed: 1, 2, 3, 4"]),
        ("0432214", ["layer 1 is '0'"]),
        ("44a2214", ["layer 3 is 'a'"]),
    ],
)
@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_bad_keys_are_refused_in_one_line(space: cbm.ChannelBenchMacroSpace, arch: str, needles: list[str]) -> None:
    with pytest.raises(InvalidArchitectureError) as info:
        space.parse(arch)
    message = str(info.value)
    assert "\n" not in message and space.name in message
    assert all(n in message for n in needles), message


def test_widths_are_the_digits_times_a_quarter_of_the_doubled_readme_maxima() -> None:
    resnet, mobilenet = SPACES
    assert resnet.widths("4444444") == (256, 256, 256, 512, 512, 512, 512)
    assert resnet.widths("1234123") == (64, 128, 192, 512, 128, 256, 384)
    assert mobilenet.widths("4444444") == (128, 768, 768, 768, 256, 1536, 1024)
    assert mobilenet.widths("1234123") == (32, 384, 576, 768, 64, 768, 768)


def test_resnet_layout() -> None:
    model = cbm.ChannelResNetSpace().build("1234123", seed=0)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    shapes = [(c.in_channels, c.out_channels, c.stride[0]) for c in convs]
    assert shapes == [(3, 64, 2), (64, 128, 1), (128, 64, 1), (64, 192, 1), (192, 64, 1), (64, 512, 2), (512, 128, 1),
                      (128, 256, 1), (256, 128, 1), (128, 384, 1), (384, 128, 1)]  # fmt: skip
    assert [b.residual for b in model.blocks] == [True, True, False, True, True]  # block 3 has no shortcut
    assert model.classifier.in_features == 128


def test_mobilenet_layout() -> None:
    model = cbm.ChannelMobileNetSpace().build("1234123", seed=0)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    shapes = [(c.in_channels, c.out_channels, c.groups, c.kernel_size[0], c.stride[0]) for c in convs]
    assert shapes == [(3, 32, 1, 3, 2), (32, 384, 1, 1, 1), (384, 384, 384, 3, 1), (384, 32, 1, 1, 1),
                      (32, 576, 1, 1, 1), (576, 576, 576, 3, 1), (576, 32, 1, 1, 1),
                      (32, 768, 1, 1, 1), (768, 768, 768, 3, 2), (768, 64, 1, 1, 1),
                      (64, 768, 1, 1, 1), (768, 768, 768, 3, 1), (768, 64, 1, 1, 1), (64, 768, 1, 1, 1)]  # fmt: skip
    assert [b.residual for b in model.blocks] == [True, True, False, True]
    assert model.classifier.in_features == 768
    assert all(isinstance(m, torch.nn.ReLU) for m in model.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6)))


@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_build_is_seeded_restores_the_rng_and_runs(space: cbm.ChannelBenchMacroSpace) -> None:
    torch.manual_seed(5)
    before = torch.get_rng_state()
    a = space.build("2131412", num_classes=7, seed=1).state_dict()
    assert torch.equal(torch.get_rng_state(), before)
    b = space.build("2131412", num_classes=7, seed=1).state_dict()
    c = space.build("2131412", num_classes=7, seed=2).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())
    model = space.build("2131412", num_classes=7, seed=1).eval()
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 7) and torch.isfinite(out).all()


@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_analytic_cost_equals_counted(space: cbm.ChannelBenchMacroSpace) -> None:
    archs = ["1111111", "4444444", *space.sample(4, seed=9)]
    for index, arch in enumerate(archs):
        size, classes = [(32, 10), (17, 100), (45, 3)][index % 3]
        with torch.device("meta"):
            model = space.build(arch, num_classes=classes, seed=0)
            shape = (3, size, size)
            counted = (count_flops(model, shape), count_params(model), count_depth(model, shape))
        cost = space.cost(arch, num_classes=classes, input_size=size)
        assert (cost.flops, cost.params, cost.depth) == counted, arch
    # and once on real weights (the meta device has no values, the counts do not need any)
    model = space.build("1111111", seed=0)
    cost = space.cost("1111111")
    assert (cost.flops, cost.params, cost.depth) == (count_flops(model, (3, 32, 32)), count_params(model), count_depth(model, (3, 32, 32)))


def test_depth_is_constant_per_space() -> None:
    resnet, mobilenet = SPACES
    assert {resnet.cost(a).depth for a in resnet.sample(30, seed=0)} == {12}
    assert {mobilenet.cost(a).depth for a in mobilenet.sample(30, seed=0)} == {15}


def test_features() -> None:
    resnet, mobilenet = SPACES
    feats = resnet.features("1234123")
    assert [feats[f"W{i}"] for i in range(1, 8)] == [64, 128, 192, 512, 128, 256, 384]
    assert (feats["S1_in"], feats["S1_out"], feats["S1_stride"], feats["S1_depth"]) == (64, 64, 1, 2)
    assert (feats["S2_in"], feats["S2_out"], feats["S2_stride"], feats["S2_depth"]) == (64, 128, 2, 3)
    feats = mobilenet.features("4321432")
    assert [feats[f"W{i}"] for i in range(1, 8)] == [128, 576, 384, 192, 256, 1152, 512]
    assert (feats["S2_in"], feats["S2_out"], feats["S2_depth"]) == (128, 256, 2)


# -- against the benchmark's tables -------------------------------------------------------------


@pytest.fixture(scope="module")
def tables(data_root: Path) -> dict[str, dict]:
    folder = data_root / "channel_bench_macro"
    return {name: json.loads((folder / file).read_text()) for name, file in FILES.items()}


@pytest.mark.data
@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_costs_equal_the_table_on_a_seeded_sample(space: cbm.ChannelBenchMacroSpace, tables: dict[str, dict]) -> None:
    """The analytic cost for every key, and counts on built networks for a seeded sample
    (``benchmarks/channel_bench_macro_costs.py`` counts all 32,768)."""
    table = tables[space.name]
    assert set(table) == set(space.enumerate())
    assert all(space.cost(k).params == row["params"] and space.cost(k).flops == row["flops"] for k, row in table.items())
    for key in random.Random(23).sample(sorted(table), 12):
        with torch.device("meta"):
            model = space.build(key, seed=0)
            assert count_params(model) == table[key]["params"], key
            assert count_flops(model, (3, 32, 32)) == table[key]["flops"], key
