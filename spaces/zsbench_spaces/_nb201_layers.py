"""``torch.nn`` modules of NAS-Bench-201's TinyNetwork (imported only when a network is built).

Written to reproduce the benchmark's own model code (xautodl ``cell_infers``): the same
modules in the same order, so parameter counts, FLOPs and the autograd graph match.
"""

from __future__ import annotations

import torch
from torch import nn


class ReLUConvBN(nn.Sequential):
    """ReLU - conv (no bias) - BatchNorm (affine, tracking running statistics)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The ``none`` op. Like the benchmark's, it multiplies its input by zero instead of
    creating a fresh tensor, so the autograd graph (and ``count_depth``) still runs through it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One cell edge: ``none``, ``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3`` or ``avg_pool_3x3``."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NAS-Bench-201 op {name!r}")


class InferCell(nn.Module):
    """A 4-node cell: node ``i`` is the sum of ``op(node j)`` over its incoming edges ``j < i``."""

    def __init__(self, node_ops: tuple[tuple[str, ...], ...], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList()
        self.edge_inputs: list[list[int]] = []
        index = 0
        for ops in node_ops:
            inputs = []
            for source, op_name in enumerate(ops):
                self.edges.append(make_op(op_name, channels))
                inputs.append((index, source))
                index += 1
            self.edge_inputs.append(inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for inputs in self.edge_inputs:
            nodes.append(sum(self.edges[edge](nodes[source]) for edge, source in inputs))
        return nodes[-1]


class ResNetBasicBlock(nn.Module):
    """The reduction block between stages: two ReLU-conv-BN (the first with stride 2) plus a
    shortcut of 2x2 average pooling and a 1x1 conv (no BN)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0), nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    """NAS-Bench-201's network: stem (3x3 conv + BN), three stages of ``cells_per_stage``
    cells with a reduction block between stages, BN + ReLU, global average pool, linear.

    Unlike the benchmark's class, ``forward`` returns only the logits (zsbench proxies
    expect a tensor), not ``(features, logits)``.
    """

    def __init__(self, node_ops: tuple[tuple[str, ...], ...], channels: int, cells_per_stage: int, num_classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, 2 * c))
                c *= 2
            layers.extend(InferCell(node_ops, c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(out).flatten(1))
