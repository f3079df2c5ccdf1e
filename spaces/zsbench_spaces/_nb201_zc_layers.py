"""``torch.nn`` modules of the zero-cost-nas build of NAS-Bench-201's network (imported only
when a network is built).

This is the network zero-cost-nas (Abdelfattah et al., ICLR 2021) scored its NAS-Bench-201
proxies on, written from its definition. It computes the same cells as the benchmark's own
TinyNetwork (:mod:`zsbench_spaces._nb201_layers`) but is built differently:

- every cell edge holds a module for *each* of the five candidate ops, created in the order
  ``none``, ``avg_pool_3x3``, ``nor_conv_3x3``, ``nor_conv_1x1``, ``skip_connect``; the
  architecture is a mask that says which one of them runs. The idle convolutions keep their
  parameters (they count in ``params`` and draw from the RNG at initialisation) but never run,
  so they get no gradient;
- the cells' ReLU-conv-BN ops have BatchNorm with ``affine=False`` and
  ``track_running_stats=False`` (batch statistics in train and eval mode alike) and, as the
  reference derives ``bias = not affine``, convolutions *with* a bias;
- the reduction blocks, the stem and the classifier head are the benchmark's (affine BN that
  tracks running statistics, convolutions without bias), with the reduction block's shortcut
  (2x2 average pool + 1x1 conv) created before its two ReLU-conv-BN.

In train mode each cell BN subtracts the per-channel batch mean, which cancels the conv bias,
so with the same conv weights the network's output equals TinyNetwork's at initialisation;
what differs is what proxies read from inside it (pre-BN activations carry the bias) and the
initial weights a seed gives (more modules draw from the RNG, in another order).
"""

from __future__ import annotations

import torch
from torch import nn

# The reference's op order inside an edge (the order its modules are created in).
CANDIDATE_OPS = ("none", "avg_pool_3x3", "nor_conv_3x3", "nor_conv_1x1", "skip_connect")


class ReLUConvBN(nn.Sequential):
    """ReLU - conv - BatchNorm with the BN's ``affine`` choice, the conv's bias its opposite."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, *, affine: bool, track_running_stats: bool) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=not affine),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )


class Zero(nn.Module):
    """The ``none`` op: the input times zero (the autograd graph still runs through it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_candidate(name: str, channels: int) -> nn.Module:
    """One candidate op of a cell edge, as the reference's cells build it."""
    if name == "none":
        return Zero()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1, affine=False, track_running_stats=False)
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0, affine=False, track_running_stats=False)
    if name == "skip_connect":
        return nn.Identity()
    raise ValueError(f"unknown NAS-Bench-201 op {name!r}")


class MaskedCell(nn.Module):
    """A 4-node cell holding all five candidate ops on each of its six edges.

    ``candidates`` is flat, edge-major (edges in ``arch_str`` order), op-minor
    (:data:`CANDIDATE_OPS` order); ``active[e]`` is the index in it of edge ``e``'s op, the
    only one of the edge's five that runs.
    """

    def __init__(self, node_ops: tuple[tuple[str, ...], ...], channels: int) -> None:
        super().__init__()
        self.candidates = nn.ModuleList()
        self.active: list[int] = []
        self.edge_inputs: list[list[tuple[int, int]]] = []  # per node: (edge, source node)
        edge = 0
        for ops in node_ops:
            inputs = []
            for source, op_name in enumerate(ops):
                base = len(self.candidates)
                self.candidates.extend(make_candidate(name, channels) for name in CANDIDATE_OPS)
                self.active.append(base + CANDIDATE_OPS.index(op_name))
                inputs.append((edge, source))
                edge += 1
            self.edge_inputs.append(inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for inputs in self.edge_inputs:
            nodes.append(sum(self.candidates[self.active[edge]](nodes[source]) for edge, source in inputs))
        return nodes[-1]


class Reduction(nn.Module):
    """The block between stages: shortcut (2x2 average pool, 1x1 conv without bias) plus two
    ReLU-conv-BN (affine BN, no conv bias; the first with stride 2). The shortcut's modules are
    created first, as in the reference."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0), nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False))
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1, affine=True, track_running_stats=True)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, affine=True, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.conv_b(self.conv_a(x))


class ZeroCostNasNetwork(nn.Module):
    """zero-cost-nas's NAS-Bench-201 network: stem (3x3 conv without bias + BN), three stages of
    ``cells_per_stage`` masked cells at ``channels``, 2x and 4x channels with a reduction block
    between stages, then BN + ReLU, global average pooling and a linear classifier. Returns logits."""

    def __init__(self, node_ops: tuple[tuple[str, ...], ...], channels: int, cells_per_stage: int, num_classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(Reduction(c, 2 * c))
                c *= 2
            layers.extend(MaskedCell(node_ops, c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(out).flatten(1))
