"""The ``torch.nn`` building blocks of the macro spaces (imported only when a network is built).

All convolutions have no bias (BatchNorm follows each one); weights keep PyTorch's default
initialisation.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    """A ``kernel x kernel`` convolution with 'same' padding, no bias, then BatchNorm."""
    return [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]


def projection(c_in: int, c_out: int, stride: int) -> nn.Module | None:
    """The ResNet shortcut: a 1x1 conv + BN where the shape changes, else ``None`` (identity)."""
    if stride == 1 and c_in == c_out:
        return None
    return nn.Sequential(*conv_bn(c_in, c_out, 1, stride))


class BasicBlock(nn.Module):
    """ResNet-18/34 block: 3x3 conv (stride) - BN - ReLU - 3x3 conv - BN, plus shortcut, ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), nn.ReLU(inplace=True), *conv_bn(c_out, c_out, 3))
        self.shortcut = projection(c_in, c_out, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.act(self.body(x) + identity)


class Bottleneck(nn.Module):
    """ResNet-50 block (torchvision's v1.5 layout: the stride sits on the 3x3 conv):
    1x1 conv to ``mid`` - 3x3 conv (stride) - 1x1 conv to ``c_out``, BN after each, plus shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int, mid: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *conv_bn(c_in, mid, 1),
            nn.ReLU(inplace=True),
            *conv_bn(mid, mid, 3, stride),
            nn.ReLU(inplace=True),
            *conv_bn(mid, c_out, 1),
        )
        self.shortcut = projection(c_in, c_out, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.act(self.body(x) + identity)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand - kxk depthwise (stride) - 1x1 linear projection, BN
    after each conv, activation after the first two; residual when stride is 1 and the
    width is unchanged. As in torchvision, expansion 1 drops the expand conv."""

    def __init__(
        self, c_in: int, c_out: int, stride: int, expansion: int, kernel: int = 3, activation: type[nn.Module] = nn.ReLU6
    ) -> None:
        super().__init__()
        hidden = round(c_in * expansion)
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [*conv_bn(c_in, hidden, 1), activation(inplace=True)]
        layers += [*conv_bn(hidden, hidden, kernel, stride, groups=hidden), activation(inplace=True)]
        layers += conv_bn(hidden, c_out, 1)
        self.body = nn.Sequential(*layers)
        self.use_residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.use_residual else out


class MacroNetwork(nn.Module):
    """Stem, blocks, optional head convolution, global average pool, linear classifier."""

    def __init__(
        self, stem: nn.Module, blocks: nn.Module, channels: int, num_classes: int, head: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.stem = stem
        self.blocks = blocks
        self.head = head if head is not None else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))
