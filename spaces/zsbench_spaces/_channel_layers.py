"""The ``torch.nn`` networks of the Channel-Bench-Macro spaces (imported only when a network is built).

Layouts are described in :mod:`zsbench_spaces.channel_bench_macro`. Modules are created in
the order of the benchmark's own networks (stem, blocks, head, classifier; within a block
conv, BN, conv, BN ...), so that PyTorch's default initialisation draws the same numbers
for the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

Block = tuple[int, int, int, int, bool]


def _stem(width: int) -> nn.Sequential:
    """3x3 conv with stride 2 to ``width``, BN, ReLU."""
    return nn.Sequential(nn.Conv2d(3, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True))


class ResidualPair(nn.Module):
    """Two 3x3 convs (to ``hidden`` with ``stride``, then to ``c_out``), BN after each, ReLU
    between; the input is added when ``residual``; a ReLU at the end."""

    def __init__(self, c_in: int, hidden: int, c_out: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, c_out, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.residual = residual
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return self.act(x + out if self.residual else out)


class WidthInvertedResidual(nn.Module):
    """1x1 conv to ``hidden``, 3x3 depthwise (``stride``), 1x1 linear projection to ``c_out``;
    BN after each conv, ReLU after the first two; the input is added when ``residual``."""

    def __init__(self, c_in: int, hidden: int, c_out: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


def _check_residuals(widths: Sequence[int], blocks: Sequence[Block]) -> None:
    for c_in, _, c_out, stride, residual in blocks:
        if residual and (stride != 1 or widths[c_in] != widths[c_out]):  # a layout error, not a user's
            raise ValueError("a residual block must keep its width and resolution")


class ChannelResNet(nn.Module):
    """Stem, the ResNet blocks, global average pool, linear classifier."""

    def __init__(self, widths: Sequence[int], blocks: Sequence[Block], num_classes: int) -> None:
        super().__init__()
        _check_residuals(widths, blocks)
        self.stem = _stem(widths[0])
        self.blocks = nn.Sequential(*(ResidualPair(widths[i], widths[h], widths[o], s, r) for i, h, o, s, r in blocks))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(widths[blocks[-1][2]], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        return self.classifier(self.pool(x).flatten(1))


class ChannelMobileNet(nn.Module):
    """Stem, the inverted residuals, 1x1 conv to the last width + BN + ReLU, global average
    pool, linear classifier."""

    def __init__(self, widths: Sequence[int], blocks: Sequence[Block], num_classes: int) -> None:
        super().__init__()
        _check_residuals(widths, blocks)
        self.stem = _stem(widths[0])
        self.blocks = nn.Sequential(*(WidthInvertedResidual(widths[i], widths[h], widths[o], s, r) for i, h, o, s, r in blocks))
        last = widths[blocks[-1][2]]
        self.head = nn.Sequential(nn.Conv2d(last, widths[6], 1, bias=False), nn.BatchNorm2d(widths[6]), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(widths[6], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))
