"""Analytic costs of the spaces equal zsbench.costs counts on built networks; torchvision parity."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision.models.mobilenetv2 import InvertedResidual as TorchvisionInvertedResidual
from zsbench_spaces import mb, nasbench_macro, nb201, r1, r2
from zsbench_spaces._layers import InvertedResidual

import zsbench
from zsbench.costs import count_depth, count_flops, count_params

MACRO_SPACES = [r1.R1Space(), r2.R2Space(), mb.MBSpace()]


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


def counted(model: torch.nn.Module, size: int) -> tuple[float, int, int]:
    shape = (3, size, size)
    return count_flops(model, shape), count_params(model), count_depth(model, shape)


def as_tuple(cost: zsbench.Cost) -> tuple[float, int, int]:
    return cost.flops, cost.params, cost.depth


@pytest.mark.parametrize("space", MACRO_SPACES, ids=lambda s: s.name)
def test_macro_analytic_cost_equals_counted_on_meta_device(space: zsbench.SearchSpace) -> None:
    # Built on the meta device: the full-size networks cost nothing to allocate or run.
    # Odd sizes (17, 45) exercise the rounding of strided layers.
    archs = space.sample(6, seed=11)
    for index, arch in enumerate(archs):
        size, classes = [(32, 10), (17, 100), (45, 3)][index % 3]
        with torch.device("meta"):
            model = space.build(arch, num_classes=classes, seed=0)
            figures = counted(model, size)
        assert as_tuple(space.cost(arch, num_classes=classes, input_size=size)) == figures, arch


@pytest.mark.parametrize("space", MACRO_SPACES, ids=lambda s: s.name)
def test_macro_analytic_cost_equals_counted_on_cpu(space: zsbench.SearchSpace) -> None:
    small = [a for a in space.sample(40, seed=5) if space.cost(a).flops < 30e6][:2]
    assert small
    for arch in small:
        assert as_tuple(space.cost(arch)) == counted(space.build(arch, seed=1), 32), arch


@pytest.mark.parametrize(
    ("space", "arch", "factory", "params", "depth"),
    [
        (r1.R1Space(), r1.RESNET18, torchvision.models.resnet18, 11_689_512, 18),
        (r1.R1Space(), r1.RESNET34, torchvision.models.resnet34, 21_797_672, 34),
        (r2.R2Space(), r2.RESNET50, torchvision.models.resnet50, 25_557_032, 50),
    ],
    ids=["resnet18", "resnet34", "resnet50"],
)
def test_resnet_parity_with_torchvision(space, arch, factory, params, depth) -> None:
    cost = space.cost(arch, num_classes=1000, input_size=224, stem="imagenet")
    assert cost.params == params
    assert cost.depth == depth
    with torch.device("meta"):
        ours = space.build(arch, num_classes=1000, stem="imagenet")
        theirs = factory()
        assert count_params(ours) == count_params(theirs) == params
        # same layers in the same places: the FLOPs agree too (1.81 / 3.66 / 4.09 GMACs)
        assert count_flops(ours, (3, 224, 224)) == count_flops(theirs, (3, 224, 224)) == cost.flops
        assert count_depth(ours, (3, 224, 224)) == depth


def test_resnet_shapes_are_in_their_spaces() -> None:
    assert r1.R1Space().canonical(r1.RESNET18) == r1.RESNET18
    assert r1.R1Space().canonical(r1.RESNET34) == r1.RESNET34
    assert r2.R2Space().canonical(r2.RESNET50) == r2.RESNET50


@pytest.mark.parametrize(
    ("c_in", "c_out", "stride", "expansion"),
    [(32, 16, 1, 1), (16, 24, 2, 6), (24, 24, 1, 6), (32, 64, 2, 3), (96, 160, 2, 6), (320, 320, 1, 3)],
)
def test_mb_block_matches_torchvision_inverted_residual(c_in: int, c_out: int, stride: int, expansion: int) -> None:
    ours = InvertedResidual(c_in, c_out, stride, expansion)
    theirs = TorchvisionInvertedResidual(c_in, c_out, stride, expansion)
    assert count_params(ours) == count_params(theirs)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert ours.use_residual == theirs.use_res_connect
    assert count_flops(ours, (c_in, 8, 8)) == count_flops(theirs, (c_in, 8, 8))


def test_mb_space_block_is_torchvision_block() -> None:
    # a one-block stage inside a network: params of the space's block = torchvision's
    space = mb.MBSpace()
    base = space.cost("stem32,s2-e1-16x1,s2-e6-24x1,s2-e6-32x1").params
    one_more = space.cost("stem32,s2-e1-16x1,s2-e6-24x2,s2-e6-32x1").params
    assert one_more - base == count_params(TorchvisionInvertedResidual(24, 24, 1, 6))


@pytest.mark.parametrize(
    ("space", "smallest", "largest"),
    [
        (r1.R1Space(), "stem16,s2-16x1,s2-16x1,s2-16x1", "stem64,s1-512x6,s2-512x6,s2-512x6,s2-512x6"),
        (r2.R2Space(), "stem16,s2-64x1,s2-64x1,s2-64x1", "stem64,s1-2048x6,s2-2048x6,s2-2048x6,s2-2048x6"),
        (mb.MBSpace(), "stem16,s2-e1-16x1,s2-e1-16x1,s2-e1-16x1", "stem32,s1-e6-320x4,s2-e6-320x4,s2-e6-320x4,s2-e6-320x4"),
    ],
    ids=lambda x: getattr(x, "name", None),
)
def test_flops_span_more_than_two_orders_of_magnitude(space, smallest: str, largest: str) -> None:
    lo, hi = space.cost(smallest).flops, space.cost(largest).flops
    assert hi / lo > 1e4
    # they are the extremes of a sample too
    flops = [space.cost(a).flops for a in space.sample(2_000, seed=0)]
    assert lo <= min(flops) and max(flops) <= hi
    assert max(flops) / min(flops) > 100


def test_nb201_analytic_cost_equals_counted_plus_classifier_bias() -> None:
    space = nb201.NB201Space()
    all_none = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    all_conv3x3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    every_op = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    disconnected = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|none~1|none~2|"
    for arch in [all_none, all_conv3x3, every_op, disconnected]:
        model = space.build(arch, seed=0)
        flops, params, depth = counted(model, 32)
        # NAS-Bench-201's counter adds the classifier's bias (10 additions) to the MACs
        assert as_tuple(space.cost(arch)) == (flops + 10, params, depth), arch


def test_nb201_params_equal_built_models_on_many_cells() -> None:
    space = nb201.NB201Space()
    for arch in space.sample(60, seed=21):
        assert space.cost(arch, num_classes=100).params == count_params(space.build(arch, num_classes=100)), arch


def test_nb201_flops_range_is_the_published_one() -> None:
    space = nb201.NB201Space()
    flops = [space.cost(a).flops for a in space.enumerate()]
    # the paper: 7.78 M to 220.11 M multiply-adds on CIFAR-10
    assert min(flops) == 7_783_050 == space.cost("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").flops
    assert max(flops) == 220_119_690
    assert round(min(flops) / 1e6, 2) == 7.78
    assert abs(max(flops) / 1e6 - 220.11) < 0.01  # 220.1197: the paper truncates to 220.11


def test_nb201_depth_counts_convs_on_longest_cell_path() -> None:
    space = nb201.NB201Space()
    chain = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|nor_conv_3x3~2|"
    assert space.cost(chain).depth == 6 + 15 * 3
    assert space.cost("|skip_connect~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|skip_connect~2|").depth == 6


def test_nasbench_macro_analytic_cost_equals_counted() -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    for arch in ["00000000", "22222222", "12012010"]:
        assert as_tuple(space.cost(arch)) == counted(space.build(arch, seed=0), 32), arch


def test_nb201_rejects_input_sizes_it_cannot_run() -> None:
    space = nb201.NB201Space()
    arch = space.sample(1)[0]
    assert space.cost(arch, input_size=16).flops < space.cost(arch, input_size=32).flops
    with pytest.raises(zsbench.UsageError, match="divisible by 4"):
        space.cost(arch, input_size=30)
    with pytest.raises(RuntimeError):
        space.build(arch)(torch.zeros(1, 3, 30, 30))
