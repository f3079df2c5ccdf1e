"""SS-R2: ResNet-50 bottleneck blocks in a staged macro space (NAS-Bench-Zero, section 3.1).

Same skeleton as SS-R1 (CIFAR-style 3x3 stem, 3 or 4 stages of which exactly three have
stride 2, global average pool, linear classifier), with ResNet-50's bottleneck block:
1x1 conv - 3x3 conv (carrying the stride, as torchvision's v1.5) - 1x1 conv, BN after
each, 1x1 conv + BN projection where the shape changes. The bottleneck width is a
quarter of the stage's output width, as in ResNet-50 (expansion 4).

Value sets and why:

- stem width in {16, 32, 64}: as SS-R1 (64 is ResNet-50's).
- stage output width in {64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048}: the
  SS-R1 ladder times 4 (bottleneck widths 16 ... 512), so it holds ResNet-50's
  256, 512, 1024, 2048.
- stage depth in {1, 2, 3, 4, 5, 6}: holds ResNet-50's (3, 4, 6, 3).

ResNet-50 is ``stem64,s1-256x3,s2-512x4,s2-1024x6,s2-2048x3``; with
``build(..., stem="imagenet")`` and 1000 classes it has torchvision's exact parameter
count. The space holds 228,559,320 architectures; on 32x32 inputs FLOPs
(multiply-accumulates) range from 2.74 M (``stem16,s2-64x1,s2-64x1,s2-64x1``) to 37.9 G
(``stem64,s1-2048x6,s2-2048x6,s2-2048x6,s2-2048x6``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zsbench
from zsbench_spaces._macro import MacroSpace, _Tally, conv_out_size

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["BOTTLENECK_EXPANSION", "RESNET50", "R2Space"]

RESNET50 = "stem64,s1-256x3,s2-512x4,s2-1024x6,s2-2048x3"
BOTTLENECK_EXPANSION = 4


class R2Space(MacroSpace):
    """SS-R2: ResNet bottleneck macro space; encoding ``stem<W>,s<stride>-<width>x<depth>,...``
    where ``width`` is the stage's output width (bottleneck width = width / 4).

    FLOPs from :meth:`cost` are multiply-accumulates (MACs).
    """

    name = "R2"
    description = "SS-R2: ResNet-50 bottleneck blocks, 3-4 stages of searchable width/depth (NAS-Bench-Zero)"
    default_input_size = 32
    stem_widths = (16, 32, 64)
    widths = (64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
    depths = (1, 2, 3, 4, 5, 6)

    def _make_block(self, c_in: int, c_out: int, stride: int, expansion: int | None) -> torch.nn.Module:
        from zsbench_spaces._layers import Bottleneck

        return Bottleneck(c_in, c_out, stride, mid=c_out // BOTTLENECK_EXPANSION)

    def _tally_block(
        self, tally: _Tally, c_in: int, c_out: int, stride: int, expansion: int | None, size: int
    ) -> tuple[int, int]:
        mid = c_out // BOTTLENECK_EXPANSION
        out = conv_out_size(size, 3, stride, 1)
        tally.conv(c_in, mid, 1, size)
        tally.batchnorm(mid)
        tally.conv(mid, mid, 3, out)
        tally.batchnorm(mid)
        tally.conv(mid, c_out, 1, out)
        tally.batchnorm(c_out)
        if stride != 1 or c_in != c_out:
            tally.conv(c_in, c_out, 1, out)
            tally.batchnorm(c_out)
        return out, 3


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register SS-R2."""
    register(R2Space())
