"""SS-MB: MobileNetV2 inverted-residual blocks in a staged macro space (NAS-Bench-Zero, 3.1).

Same skeleton as SS-R1 (3 or 4 stages of which exactly three have stride 2, global
average pool, linear classifier) with MobileNetV2's block: 1x1 expand - 3x3 depthwise
(carrying the stride) - 1x1 linear projection, BN after each conv, ReLU6 after the first
two, a residual when stride is 1 and the width is unchanged (no projection shortcut), and
no expand conv when the expansion ratio is 1 (torchvision's ``InvertedResidual``). The
stem is a 3x3 conv, stride 1, BN, ReLU6. Following the paper's description ("a global-pool
+ linear head"), there is no 1x1 conv to 1280 channels before the pool.

Value sets and why:

- stem width in {16, 24, 32}: 32 is MobileNetV2's stem; 16 / 24 keep light networks light.
- stage width in {16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320}: MobileNetV2's stage
  widths (16, 24, 32, 64, 96, 160, 320) plus steps in between (Zen-NAS's MobileNet-like
  space mutates widths by similar factors).
- expansion ratio in {1, 3, 6}: MobileNetV2 uses 1 and 6; 3 is the other common choice
  (MnasNet, ProxylessNAS, NAS-Bench-Macro).
- stage depth in {1, 2, 3, 4}: MobileNetV2's stages have 1 to 4 blocks.

Every stage's blocks share its expansion ratio. Encoding:
``stem32,s2-e6-24x2,s1-e6-32x3,s2-e6-64x4,s2-e6-96x3``. The space holds 3,650,049,216
architectures; on 32x32 inputs FLOPs (multiply-accumulates) range from 0.58 M
(``stem16,s2-e1-16x1,s2-e1-16x1,s2-e1-16x1``) to 6.19 G (every stage ``e6-320x4``,
the first with stride 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zsbench
from zsbench_spaces._macro import MacroSpace, _Tally, conv_out_size

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["MBSpace"]


class MBSpace(MacroSpace):
    """SS-MB: MobileNetV2 macro space; encoding ``stem<W>,s<stride>-e<expansion>-<width>x<depth>,...``.

    FLOPs from :meth:`cost` are multiply-accumulates (MACs).
    """

    name = "MB"
    description = "SS-MB: MobileNetV2 inverted residuals, 3-4 stages of searchable width/depth/expansion (NAS-Bench-Zero)"
    default_input_size = 32
    stem_widths = (16, 24, 32)
    widths = (16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320)
    depths = (1, 2, 3, 4)
    expansions = (1, 3, 6)

    def _make_stem(self, width: int, stem: str) -> torch.nn.Module:
        from torch import nn

        from zsbench_spaces._layers import conv_bn

        # MobileNetV2's ImageNet stem is the same 3x3 conv with stride 2.
        return nn.Sequential(*conv_bn(3, width, 3, stride=2 if stem == "imagenet" else 1), nn.ReLU6(inplace=True))

    def _make_block(self, c_in: int, c_out: int, stride: int, expansion: int | None) -> torch.nn.Module:
        from zsbench_spaces._layers import InvertedResidual

        return InvertedResidual(c_in, c_out, stride, expansion=int(expansion or 1))

    def _stem_cost(self, tally: _Tally, width: int, size: int, stem: str) -> int:
        stride = 2 if stem == "imagenet" else 1
        out = conv_out_size(size, 3, stride, 1)
        tally.conv(3, width, 3, out)
        return out

    def _tally_block(
        self, tally: _Tally, c_in: int, c_out: int, stride: int, expansion: int | None, size: int
    ) -> tuple[int, int]:
        ratio = int(expansion or 1)
        hidden = c_in * ratio
        out = conv_out_size(size, 3, stride, 1)
        layers = 2
        if ratio != 1:
            tally.conv(c_in, hidden, 1, size)
            tally.batchnorm(hidden)
            layers = 3
        tally.conv(hidden, hidden, 3, out, groups=hidden)
        tally.batchnorm(hidden)
        tally.conv(hidden, c_out, 1, out)
        tally.batchnorm(c_out)
        return out, layers


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register SS-MB."""
    register(MBSpace())
