"""Cost conventions: FLOPs are multiply-accumulates, depth counts weight layers on the longest path."""

from __future__ import annotations

import torchvision
from torch import nn

from zsbench.costs import count_depth, count_flops, count_params


def test_resnet18_figures_match_the_published_ones() -> None:
    model = torchvision.models.resnet18()
    assert count_params(model) == 11_689_512
    # torchvision documents 1.81 GFLOPS (multiply-adds) for resnet18 at 224x224
    assert round(count_flops(model, (3, 224, 224)) / 1e9, 2) == 1.81
    assert count_depth(model, (3, 224, 224)) == 18


def test_resnet50_depth_counts_the_bottleneck_main_branch() -> None:
    assert count_depth(torchvision.models.resnet50(), (3, 64, 64)) == 50


def test_flops_of_a_conv_and_a_linear_are_their_macs() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    expected = 3 * 8 * 9 * 4 * 4 + 8 * 4 * 4 * 5
    assert count_flops(model, (3, 4, 4)) == expected
    assert count_depth(model, (3, 4, 4)) == 2


def test_counting_leaves_the_model_mode_alone() -> None:
    model = torchvision.models.resnet18().train()
    count_flops(model, (3, 32, 32))
    count_depth(model, (3, 32, 32))
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_depth_of_a_very_deep_chain_needs_no_recursion() -> None:
    model = nn.Sequential(*[nn.Linear(4, 4) for _ in range(3000)])
    assert count_depth(model, (1, 1, 4)) == 3000
