"""NAS-Bench-Macro: the MobileNetV2-style macro space of Su et al., CVPR 2021 (CIFAR-10).

An architecture is 8 digits, one per searchable layer: ``0`` identity, ``1`` inverted
residual with kernel 3 and expansion 3, ``2`` inverted residual with kernel 5 and
expansion 6, e.g. ``22212220`` (the benchmark's best network).

The network is built as the benchmark's ``train/model.py`` builds it: stem 3x3 conv to 32
channels + BN + ReLU; three stages of 2, 3, 3 layers whose first layer has stride 2 and
doubles the width (32 -> 64 -> 128 -> 256), the others stride 1; an identity in a
stride-2 position is a 1x1 conv + BN projection; inverted residual = 1x1 expand, kxk
depthwise (stride), 1x1 project, BN after each conv, ReLU after the first two, residual
when the shape is kept; head 1x1 conv to 1280 + BN + ReLU, global average pool, linear.

Canonical form: within a stage, identity layers after the first layer are no-ops, so
moving them to the end of the stage gives the same network; the benchmark trained only
that form (its ``canonical_arch``). :meth:`NasBenchMacroSpace.canonical` applies the same
rule, so all 3^8 = 6,561 digit strings parse, but the space holds 3,969 distinct
networks: :meth:`size`, :meth:`enumerate` and :meth:`sample` count and return canonical
strings only.

Cost conventions: FLOPs are multiply-accumulates of convolutions and the linear layer
for one image (``zsbench.costs.count_flops``; the classifier's bias is not counted).
This is exactly the convention of the benchmark's ``flops`` column (7,713,280 for
``00000000``), and params equal its ``params`` column, for every architecture; both are
computed analytically and checked against the table and against built networks.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import zsbench
from zsbench.errors import InvalidArchitectureError
from zsbench_spaces._macro import _Tally, conv_out_size

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["LAYER_OPS", "NUM_ENCODINGS", "STAGE_LAYERS", "NasBenchMacroSpace", "canonical_digits"]

# digit -> (kernel, expansion) of the inverted residual, None for identity
LAYER_OPS: dict[str, tuple[int, int] | None] = {"0": None, "1": (3, 3), "2": (5, 6)}
LAYER_NAMES = {"0": "identity", "1": "mb_k3e3", "2": "mb_k5e6"}
STAGE_LAYERS = (2, 3, 3)
STEM_WIDTH = 32
HEAD_WIDTH = 1280
NUM_LAYERS = sum(STAGE_LAYERS)
NUM_ENCODINGS = len(LAYER_OPS) ** NUM_LAYERS


def canonical_digits(digits: str) -> str:
    """Move the identity layers after each stage's first layer to the end of the stage
    (the benchmark's ``get_real_arch`` rule); ``digits`` must be 8 valid digits."""
    out = []
    start = 0
    for count in STAGE_LAYERS:
        stage = digits[start : start + count]
        rest = stage[1:]
        kept = rest.replace("0", "")
        out.append(stage[0] + kept + "0" * (len(rest) - len(kept)))
        start += count
    return "".join(out)


def _layer_plan(digits: str) -> Iterator[tuple[str, int, int, int]]:
    """(digit, c_in, c_out, stride) of every searchable layer."""
    channels = STEM_WIDTH
    index = 0
    for count in STAGE_LAYERS:
        for position in range(count):
            if position == 0:
                yield digits[index], channels, 2 * channels, 2
                channels *= 2
            else:
                yield digits[index], channels, channels, 1
            index += 1


class NasBenchMacroSpace(zsbench.SearchSpace):
    """NAS-Bench-Macro (8 layers, 3 choices each); architectures are 8-digit strings.

    FLOPs from :meth:`cost` are multiply-accumulates (MACs), identical to the benchmark's ``flops``.
    """

    name = "nasbench-macro"
    description = "NAS-Bench-Macro: 8 layers of identity / MB k3e3 / MB k5e6 (3,969 distinct of 6,561 encodings)"
    default_input_size = 32

    def size(self) -> int:
        """Number of distinct networks (canonical strings): 3,969 of the 6,561 encodings."""
        return sum(1 for _ in self.enumerate())

    def parse(self, arch: str) -> str:
        """Validate an 8-digit string; returns the digits as given (``encode`` canonicalises).

        Raises:
            InvalidArchitectureError: naming the wrong part and the allowed values.
        """
        if not isinstance(arch, str):
            raise InvalidArchitectureError(f"nasbench-macro architecture must be a string, got {type(arch).__name__}")
        if len(arch) != NUM_LAYERS:
            raise InvalidArchitectureError(
                f"nasbench-macro architecture {arch!r}: has {len(arch)} characters; expected {NUM_LAYERS} digits, "
                "one per layer, each 0 (identity), 1 (MB k3 e3) or 2 (MB k5 e6)"
            )
        for position, digit in enumerate(arch, start=1):
            if digit not in LAYER_OPS:
                raise InvalidArchitectureError(
                    f"nasbench-macro architecture {arch!r}: layer {position} is {digit!r}; allowed: "
                    "0 (identity), 1 (MB k3 e3), 2 (MB k5 e6)"
                )
        return arch

    def encode(self, spec: str) -> str:
        """The canonical string (identities moved to the end of their stage)."""
        return canonical_digits(self.parse(spec))

    def enumerate(self) -> Iterator[str]:
        """Every distinct network once, as its canonical string, in increasing digit order."""
        for digits in itertools.product("012", repeat=NUM_LAYERS):
            text = "".join(digits)
            if canonical_digits(text) == text:
                yield text

    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        """``n`` distinct canonical architectures drawn uniformly, deterministically for ``seed``;
        with ``max_flops``, the default rejection sampler of :class:`zsbench.SearchSpace`."""
        if max_flops is not None:  # no faster way than costing candidates
            return self.sample_by_rejection(n, seed, max_flops)
        pool = _every_network()
        if n < 0 or n > len(pool):
            raise ValueError(f"cannot draw {n} distinct architectures from space 'nasbench-macro' of size {len(pool)}")
        return random.Random(f"nasbench-macro:{seed}").sample(pool, n)

    def mutate(self, arch: str, rng: random.Random) -> str:
        """A neighbour of ``arch`` for an evolutionary search: one of the 8 layers, chosen
        uniformly, gets one of its two other choices (identity, MB k3 e3, MB k5 e6), and the
        result is canonicalised (identities to the end of their stage). The canonical form
        of the result always differs from ``arch``: the move changes which choices a stage holds."""
        digits = list(self.parse(arch))
        layer = rng.randrange(NUM_LAYERS)
        digits[layer] = rng.choice([d for d in LAYER_OPS if d != digits[layer]])
        return self.encode("".join(digits))

    # -- building ----------------------------------------------------------------------

    def build(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        seed: int | None = None,
        input_size: int | None = None,
    ) -> torch.nn.Module:
        """Build the network of ``canonical(arch)`` (the same function as ``arch``); with
        ``seed`` set the initial weights (PyTorch defaults) are a pure function of it and
        the global RNG state is restored afterwards. ``input_size`` is unused."""
        import torch

        digits = self.canonical(arch)
        if seed is None:
            return self._build_network(digits, num_classes)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self._build_network(digits, num_classes)

    @staticmethod
    def _build_network(digits: str, num_classes: int) -> torch.nn.Module:
        from torch import nn

        from zsbench_spaces._layers import InvertedResidual, MacroNetwork, conv_bn, projection

        layers: list[nn.Module] = []
        for digit, c_in, c_out, stride in _layer_plan(digits):
            op = LAYER_OPS[digit]
            if op is None:
                layers.append(projection(c_in, c_out, stride) or nn.Identity())
            else:
                kernel, expansion = op
                layers.append(InvertedResidual(c_in, c_out, stride, expansion, kernel=kernel, activation=nn.ReLU))
        stem = nn.Sequential(*conv_bn(3, STEM_WIDTH, 3), nn.ReLU(inplace=True))
        channels = STEM_WIDTH * 2 ** len(STAGE_LAYERS)
        head = nn.Sequential(*conv_bn(channels, HEAD_WIDTH, 1), nn.ReLU(inplace=True))
        return MacroNetwork(stem, nn.Sequential(*layers), HEAD_WIDTH, num_classes, head=head)

    # -- cost and features -------------------------------------------------------------

    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None) -> zsbench.Cost:
        """FLOPs (multiply-accumulates), params and depth of ``arch``, computed analytically."""
        digits = self.canonical(arch)
        size = input_size or self.default_input_size
        tally = _Tally()
        tally.conv(3, STEM_WIDTH, 3, size)
        tally.batchnorm(STEM_WIDTH)
        depth = 1
        channels = STEM_WIDTH
        for digit, c_in, c_out, stride in _layer_plan(digits):
            out = conv_out_size(size, 3, stride, 1)
            op = LAYER_OPS[digit]
            if op is None:
                if stride != 1 or c_in != c_out:
                    tally.conv(c_in, c_out, 1, out)
                    tally.batchnorm(c_out)
                    depth += 1
            else:
                kernel, expansion = op
                hidden = c_in * expansion
                tally.conv(c_in, hidden, 1, size)
                tally.conv(hidden, hidden, kernel, out, groups=hidden)
                tally.conv(hidden, c_out, 1, out)
                for width in (hidden, hidden, c_out):
                    tally.batchnorm(width)
                depth += 3
            size, channels = out, c_out
        tally.conv(channels, HEAD_WIDTH, 1, size)
        tally.batchnorm(HEAD_WIDTH)
        tally.linear(HEAD_WIDTH, num_classes)
        return zsbench.Cost(flops=float(tally.macs), params=tally.params, depth=depth + 2)

    def features(self, arch: str) -> dict[str, float]:
        """``L1`` ... ``L8`` (the canonical digit of each layer), ``num_identity``,
        ``num_mb_k3e3``, ``num_mb_k5e6``, and per stage ``S<i>_in``, ``S<i>_out``,
        ``S<i>_stride``, ``S<i>_depth`` (depth = inverted-residual blocks in the stage)."""
        digits = self.canonical(arch)
        feats: dict[str, float] = {f"L{i + 1}": float(d) for i, d in enumerate(digits)}
        for digit, name in LAYER_NAMES.items():
            feats[f"num_{name}"] = float(digits.count(digit))
        start = 0
        channels = STEM_WIDTH
        for stage, count in enumerate(STAGE_LAYERS, start=1):
            part = digits[start : start + count]
            feats[f"S{stage}_in"] = float(channels)
            feats[f"S{stage}_out"] = float(2 * channels)
            feats[f"S{stage}_stride"] = 2.0
            feats[f"S{stage}_depth"] = float(sum(d != "0" for d in part))
            channels *= 2
            start += count
        return feats


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register NAS-Bench-Macro."""
    register(NasBenchMacroSpace())


@functools.cache
def _every_network() -> tuple[str, ...]:
    # listed once per process: a search draws one network at a time, thousands of times
    return tuple(NasBenchMacroSpace().enumerate())
