"""SS-R1: ResNet-18/34 basic blocks in a staged macro space (NAS-Bench-Zero, section 3.1).

A network is a CIFAR-style stem (3x3 conv, stride 1, BN, ReLU), 3 or 4 stages of basic
blocks (two 3x3 convs in a residual, 1x1 conv + BN projection where the shape changes),
then global average pooling and a linear classifier. Exactly three stages have stride
2; in a 4-stage network the remaining stage keeps stride 1 at any of the 4 positions.

Value sets (the paper does not publish its own) and why:

- stem width in {16, 32, 64}: 64 is ResNet's; 16 and 32 are the CIFAR ResNets' and
  Zen-NAS's small stems, so light networks do not carry a heavy stem.
- stage width in {16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}: a ladder of steps of
  x1.5 / x1.33 (the width mutations of Zen-NAS's ResNet-like space are of this size)
  from the CIFAR ResNets' 16 to ResNet-18/34's 512, containing 64, 128, 256, 512.
- stage depth in {1, 2, 3, 4, 5, 6}: covers ResNet-18's (2, 2, 2, 2) and ResNet-34's
  (3, 4, 6, 3) stage depths.

So ResNet-18 is ``stem64,s1-64x2,s2-128x2,s2-256x2,s2-512x2`` and ResNet-34 is
``stem64,s1-64x3,s2-128x4,s2-256x6,s2-512x3`` (with ``build(..., stem="imagenet")`` and
1000 classes they have torchvision's exact parameter counts). Widths are not forced to
grow with depth. The space holds 228,559,320 architectures; on 32x32 inputs FLOPs
(multiply-accumulates) range from 2.08 M (``stem16,s2-16x1,s2-16x1,s2-16x1``) to 36.5 G
(``stem64,s1-512x6,s2-512x6,s2-512x6,s2-512x6``), more than four orders of magnitude.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zsbench
from zsbench_spaces._macro import MacroSpace, _Tally, conv_out_size

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["RESNET18", "RESNET34", "R1Space"]

RESNET18 = "stem64,s1-64x2,s2-128x2,s2-256x2,s2-512x2"
RESNET34 = "stem64,s1-64x3,s2-128x4,s2-256x6,s2-512x3"


class R1Space(MacroSpace):
    """SS-R1: ResNet basic-block macro space; encoding ``stem<W>,s<stride>-<width>x<depth>,...``.

    FLOPs from :meth:`cost` are multiply-accumulates (MACs).
    """

    name = "R1"
    description = "SS-R1: ResNet-18/34 basic blocks, 3-4 stages of searchable width/depth (NAS-Bench-Zero)"
    default_input_size = 32
    stem_widths = (16, 32, 64)
    widths = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
    depths = (1, 2, 3, 4, 5, 6)

    def _make_block(self, c_in: int, c_out: int, stride: int, expansion: int | None) -> torch.nn.Module:
        from zsbench_spaces._layers import BasicBlock

        return BasicBlock(c_in, c_out, stride)

    def _tally_block(
        self, tally: _Tally, c_in: int, c_out: int, stride: int, expansion: int | None, size: int
    ) -> tuple[int, int]:
        out = conv_out_size(size, 3, stride, 1)
        tally.conv(c_in, c_out, 3, out)
        tally.batchnorm(c_out)
        tally.conv(c_out, c_out, 3, out)
        tally.batchnorm(c_out)
        if stride != 1 or c_in != c_out:
            tally.conv(c_in, c_out, 1, out)
            tally.batchnorm(c_out)
        return out, 2


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register SS-R1."""
    register(R1Space())
