"""Channel-Bench-Macro: the width spaces of Su et al. (BCNet, CVPR 2021 / TPAMI 2022), CIFAR-10.

Two spaces of 4^7 = 16,384 networks each, one of ResNet blocks (``cbm-resnet``) and one of
MobileNetV2 inverted-residual blocks (``cbm-mobilenet``). The layout of every network is
fixed; seven layers have a searched width, each ``d / 4`` of its maximum for a digit ``d``
in 1..4. An architecture is the benchmark's key, the seven digits in layer order
(``4432214``); width ``i`` is ``d_i * max_i / 4`` (every maximum is divisible by 4).

The networks are built as the benchmark's ``model.py`` builds them (its code doubles the
channel figures of its README's tables; the code is what was trained):

- ``cbm-resnet``, maxima (256, 256, 256, 512, 512, 512, 512): stem 3x3 conv stride 2 to
  width 1, BN, ReLU; five blocks of two 3x3 convs (conv - BN - ReLU - conv - BN), the first
  conv to the block's hidden width, the second back to its output width: blocks 1 and 2
  (hidden widths 2, 3) keep width 1 and add the input; block 3 (hidden width 4, stride 2 on
  its first conv) goes to width 5 with **no** shortcut; blocks 4 and 5 (hidden widths 6, 7)
  keep width 5 and add the input; a ReLU after every block; global average pool, linear.
- ``cbm-mobilenet``, maxima (128, 768, 768, 768, 256, 1536, 1024): stem 3x3 conv stride 2
  to width 1, BN, ReLU; four inverted residuals (1x1 conv to the hidden width, 3x3
  depthwise, 1x1 linear projection; BN after each conv, ReLU after the first two): blocks 1
  and 2 (hidden widths 2, 3) keep width 1 with a residual, block 3 (hidden width 4, stride
  2 on its depthwise conv) goes to width 5, block 4 (hidden width 6) keeps width 5 with a
  residual; a 1x1 conv to width 7, BN, ReLU, global average pool, linear.

Every convolution has no bias; modules are created in the source's order, so a seed gives
the same initial weights as the source's network under the same seed.

Costs: FLOPs are multiply-accumulates of convolutions and the linear layer for one 32x32
image, the classifier's bias not counted (``zsbench.costs.count_flops``, the zsbench
convention); params are all parameters. Both equal the benchmark's ``flops`` and
``params`` for all 32,768 networks (``benchmarks/channel_bench_macro_costs.py``). Depth is
the same for every network of a space: 12 (ResNet: stem, 10 convs, linear) and 15
(MobileNet: stem, 12 convs, head conv, linear).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import zsbench
from zsbench.errors import InvalidArchitectureError
from zsbench_spaces._macro import _Tally, conv_out_size

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["DIGITS", "NUM_LAYERS", "ChannelBenchMacroSpace", "ChannelMobileNetSpace", "ChannelResNetSpace", "widths_of"]

DIGITS = "1234"
NUM_LAYERS = 7
RESNET_MAX_WIDTHS = (256, 256, 256, 512, 512, 512, 512)
MOBILENET_MAX_WIDTHS = (128, 768, 768, 768, 256, 1536, 1024)
# (input width, hidden width, output width, stride, residual) of each block, as indices into the 7 widths;
# the input width of block 1 is the stem's (width 0).
RESNET_BLOCKS = ((0, 1, 0, 1, True), (0, 2, 0, 1, True), (0, 3, 4, 2, False), (4, 5, 4, 1, True), (4, 6, 4, 1, True))
MOBILENET_BLOCKS = ((0, 1, 0, 1, True), (0, 2, 0, 1, True), (0, 3, 4, 2, False), (4, 5, 4, 1, True))


def widths_of(digits: str, maxima: tuple[int, ...]) -> tuple[int, ...]:
    """The seven channel widths of ``digits`` (each ``d * max / 4``)."""
    return tuple(int(d) * m // 4 for d, m in zip(digits, maxima, strict=True))


class ChannelBenchMacroSpace(zsbench.SearchSpace):
    """Base of the two Channel-Bench-Macro spaces: 7 digits in 1..4, one per searched width.

    Subclass attributes:
        max_widths: the seven maximum widths.
        blocks: ``(in, hidden, out, stride, residual)`` of each block, indices into the widths.
        block_name: the block's name in messages and descriptions.
    """

    max_widths: ClassVar[tuple[int, ...]]
    blocks: ClassVar[tuple[tuple[int, int, int, int, bool], ...]]
    block_name: ClassVar[str]
    default_input_size = 32

    def size(self) -> int:
        """4^7 = 16,384 networks."""
        return len(DIGITS) ** NUM_LAYERS

    def parse(self, arch: str) -> str:
        """Validate a 7-digit key; returns it unchanged (every key is canonical).

        Raises:
            InvalidArchitectureError: naming the wrong part and the allowed values.
        """
        if not isinstance(arch, str):
            raise InvalidArchitectureError(f"{self.name} architecture must be a string, got {type(arch).__name__}")
        if len(arch) != NUM_LAYERS:
            raise InvalidArchitectureError(
                f"{self.name} architecture {arch!r}: has {len(arch)} characters; expected {NUM_LAYERS} digits, "
                "one per searched layer, each 1..4 (width 0.25, 0.5, 0.75 or 1.0 of the layer's maximum)"
            )
        for position, digit in enumerate(arch, start=1):
            if digit not in DIGITS:
                raise InvalidArchitectureError(
                    f"{self.name} architecture {arch!r}: layer {position} is {digit!r}; allowed: 1, 2, 3, 4 "
                    "(width 0.25, 0.5, 0.75, 1.0 of its maximum)"
                )
        return arch

    def encode(self, spec: str) -> str:
        """The key itself (it is its own canonical form)."""
        return self.parse(spec)

    def enumerate(self) -> Iterator[str]:
        """Every key once, in the benchmark's order (``1111111``, ``1111112``, ... ``4444444``)."""
        for digits in itertools.product(DIGITS, repeat=NUM_LAYERS):
            yield "".join(digits)

    def from_index(self, index: int) -> str:
        """The ``index``-th key of :meth:`enumerate` (0 .. 16,383)."""
        if not 0 <= index < self.size():
            raise ValueError(f"{self.name} index {index} out of range 0..{self.size() - 1}")
        out = []
        for _ in range(NUM_LAYERS):
            index, digit = divmod(index, len(DIGITS))
            out.append(DIGITS[digit])
        return "".join(reversed(out))

    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        """``n`` distinct keys drawn uniformly, deterministically for ``seed``; with ``max_flops``,
        uniformly among the keys whose FLOPs (MACs, 10 classes) are at most that (the costs are
        analytic, so all 16,384 are costed).

        Raises:
            ValueError: ``n`` is negative or larger than the (bounded) space.
        """
        rng = random.Random(f"{self.name}:{seed}")
        if max_flops is None:
            if n < 0 or n > self.size():
                raise ValueError(f"cannot draw {n} distinct architectures from space {self.name!r} of size {self.size()}")
            return [self.from_index(i) for i in rng.sample(range(self.size()), n)]
        if not max_flops > 0:
            raise ValueError(f"max_flops must be positive, got {max_flops!r}")
        pool = [a for a in self.enumerate() if self.cost(a).flops <= max_flops]
        if n < 0 or n > len(pool):
            raise ValueError(
                f"found only {len(pool)} of {n} architectures of space {self.name!r} within max_flops={max_flops:g} "
                f"among {self.size()} candidates; raise max_flops or lower n"
            )
        return rng.sample(pool, n)

    def widths(self, arch: str) -> tuple[int, ...]:
        """The seven channel widths of ``arch``."""
        return widths_of(self.canonical(arch), self.max_widths)

    def features(self, arch: str) -> dict[str, float]:
        """``W1`` .. ``W7`` (the searched widths in channels), then the two stages at 16x16 and
        8x8 as the other macro spaces give them: ``S<i>_in``, ``S<i>_out``, ``S<i>_stride``
        (1 for the first: the stem has the stride), ``S<i>_depth`` (blocks)."""
        widths = self.widths(arch)
        feats: dict[str, float] = {f"W{i + 1}": float(w) for i, w in enumerate(widths)}
        first = [b for b in self.blocks if b[3] == 1 and b[2] == 0]
        second = [b for b in self.blocks if b not in first]
        for stage, members in ((1, first), (2, second)):
            feats[f"S{stage}_in"] = float(widths[members[0][0]])
            feats[f"S{stage}_out"] = float(widths[members[-1][2]])
            feats[f"S{stage}_stride"] = float(members[0][3])
            feats[f"S{stage}_depth"] = float(len(members))
        return feats

    # -- building ----------------------------------------------------------------------

    def build(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        seed: int | None = None,
        input_size: int | None = None,
    ) -> torch.nn.Module:
        """Build the network of ``arch``; with ``seed`` set the initial weights (PyTorch
        defaults) are a pure function of it and the global RNG state is restored afterwards.
        ``input_size`` is unused (the network pools globally)."""
        import torch

        widths = self.widths(arch)
        if seed is None:
            return self._build_network(widths, num_classes)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self._build_network(widths, num_classes)

    def _build_network(self, widths: tuple[int, ...], num_classes: int) -> torch.nn.Module:
        raise NotImplementedError

    # -- cost ------------------------------------------------------------------------------

    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None) -> zsbench.Cost:
        """FLOPs (multiply-accumulates), params and depth of ``arch``, computed analytically."""
        widths = self.widths(arch)
        size = conv_out_size(input_size or self.default_input_size, 3, 2, 1)
        tally = _Tally()
        tally.conv(3, widths[0], 3, size)
        tally.batchnorm(widths[0])
        depth = 1
        for c_in, hidden, c_out, stride in ((widths[i], widths[h], widths[o], s) for i, h, o, s, _ in self.blocks):
            size, layers = self._tally_block(tally, c_in, hidden, c_out, stride, size)
            depth += layers
        channels, head_layers = self._tally_head(tally, widths, size)
        tally.linear(channels, num_classes)
        return zsbench.Cost(flops=float(tally.macs), params=tally.params, depth=depth + head_layers + 1)

    def _tally_block(self, tally: _Tally, c_in: int, hidden: int, c_out: int, stride: int, size: int) -> tuple[int, int]:
        raise NotImplementedError

    def _tally_head(self, tally: _Tally, widths: tuple[int, ...], size: int) -> tuple[int, int]:
        raise NotImplementedError


class ChannelResNetSpace(ChannelBenchMacroSpace):
    """Channel-Bench-Macro, ResNet blocks: 7 searched widths, 16,384 networks."""

    name = "cbm-resnet"
    description = "Channel-Bench-Macro ResNet: 5 basic blocks, 7 searched widths of 4 ratios each (16,384 networks)"
    max_widths = RESNET_MAX_WIDTHS
    blocks = RESNET_BLOCKS
    block_name = "ResNet block"

    def _build_network(self, widths: tuple[int, ...], num_classes: int) -> torch.nn.Module:
        from zsbench_spaces._channel_layers import ChannelResNet

        return ChannelResNet(widths, self.blocks, num_classes)

    def _tally_block(self, tally: _Tally, c_in: int, hidden: int, c_out: int, stride: int, size: int) -> tuple[int, int]:
        out = conv_out_size(size, 3, stride, 1)
        tally.conv(c_in, hidden, 3, out)
        tally.batchnorm(hidden)
        tally.conv(hidden, c_out, 3, out)
        tally.batchnorm(c_out)
        return out, 2

    def _tally_head(self, tally: _Tally, widths: tuple[int, ...], size: int) -> tuple[int, int]:
        return widths[self.blocks[-1][2]], 0


class ChannelMobileNetSpace(ChannelBenchMacroSpace):
    """Channel-Bench-Macro, MobileNetV2 blocks: 7 searched widths, 16,384 networks."""

    name = "cbm-mobilenet"
    description = "Channel-Bench-Macro MobileNet: 4 inverted residuals + 1x1 head, 7 searched widths of 4 ratios (16,384)"
    max_widths = MOBILENET_MAX_WIDTHS
    blocks = MOBILENET_BLOCKS
    block_name = "inverted residual"

    def _build_network(self, widths: tuple[int, ...], num_classes: int) -> torch.nn.Module:
        from zsbench_spaces._channel_layers import ChannelMobileNet

        return ChannelMobileNet(widths, self.blocks, num_classes)

    def _tally_block(self, tally: _Tally, c_in: int, hidden: int, c_out: int, stride: int, size: int) -> tuple[int, int]:
        out = conv_out_size(size, 3, stride, 1)
        tally.conv(c_in, hidden, 1, size)
        tally.conv(hidden, hidden, 3, out, groups=hidden)
        tally.conv(hidden, c_out, 1, out)
        for width in (hidden, hidden, c_out):
            tally.batchnorm(width)
        return out, 3

    def _tally_head(self, tally: _Tally, widths: tuple[int, ...], size: int) -> tuple[int, int]:
        tally.conv(widths[4], widths[6], 1, size)
        tally.batchnorm(widths[6])
        return widths[6], 1


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register the two Channel-Bench-Macro spaces."""
    register(ChannelResNetSpace())
    register(ChannelMobileNetSpace())
