"""``nb201-zc``: NAS-Bench-201's cells built as zero-cost-nas builds them.

The same 15,625 cells and the same keys as ``nb201`` (the benchmark's ``arch_str``), built as
the network that zero-cost-nas (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS",
ICLR 2021) scored its published NAS-Bench-201 figures on (see
:mod:`zsbench_spaces._nb201_zc_layers`): every cell edge holds all five candidate ops and
the architecture chooses which one runs; the cells' BatchNorm is not affine and keeps no
running statistics, and their convolutions carry a bias. Stem, reduction blocks and head are
the benchmark's.

It is a space of its own, not an option of ``nb201``, because a proxy's value depends on the
build: zsbench keys every score by its space, so scores of the two builds never mix in the
cache, and the contract of ``nb201``'s scores is unchanged.

Costs:

- **params** count every parameter of the built network, the idle candidate convolutions
  included: 60 C^2 + 12 C per cell at C channels (on each of six edges a 3x3 and a 1x1
  conv with bias), whatever the cell. So params are the same for every cell (1,692,826 with
  10 classes) and say nothing about the architecture; use ``nb201``'s for that.
- **FLOPs** are NAS-Bench-201's counting convention (its counter's: multiply-accumulates of
  the Conv2d and Linear layers that run, plus one addition per output element of a layer with
  a bias) applied to this build: ``nb201``'s figure plus C x H x W for each cell convolution,
  whose bias this build adds.
- **depth** equals ``nb201``'s (the same layers run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zsbench
from zsbench.errors import InvalidArchitectureError
from zsbench_spaces.nb201 import _CONV_KERNEL, CELLS_PER_STAGE, INIT_CHANNELS, NB201Space

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["NB201ZeroCostSpace", "cell_params"]


def cell_params(channels: int) -> int:
    """Parameters of one cell at ``channels``: on each of its 6 edges a 3x3 and a 1x1 conv, both
    with bias, exist whatever the edge's op (the cell BN, not affine, has none)."""
    per_edge = (9 * channels * channels + channels) + (channels * channels + channels)
    return 6 * per_edge


class NB201ZeroCostSpace(NB201Space):
    """NAS-Bench-201 cells in zero-cost-nas's build (masked cells, non-affine BN, conv bias)."""

    name = "nb201-zc"
    description = (
        "NAS-Bench-201 cells built as zero-cost-nas builds them (all candidate ops per edge, masked; "
        "cell BN not affine, no running stats; cell convs with bias); keys are the benchmark's arch_str"
    )

    def _fail(self, arch: str, message: str) -> InvalidArchitectureError:
        return InvalidArchitectureError(f"{self.name} architecture {arch!r}: {message}")

    def build(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        seed: int | None = None,
        input_size: int | None = None,
    ) -> torch.nn.Module:
        """Build zero-cost-nas's network (C=16, 5 cells per stage) for ``arch``; with ``seed`` the
        initial weights (PyTorch defaults, in the reference's module order) are a pure function of
        it and the global RNG state is restored afterwards. ``input_size`` is unused."""
        import torch

        from zsbench_spaces._nb201_zc_layers import ZeroCostNasNetwork

        node_ops = self.parse(arch)
        if seed is None:
            return ZeroCostNasNetwork(node_ops, INIT_CHANNELS, CELLS_PER_STAGE, num_classes)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return ZeroCostNasNetwork(node_ops, INIT_CHANNELS, CELLS_PER_STAGE, num_classes)

    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None) -> zsbench.Cost:
        """FLOPs (NAS-Bench-201's convention on this build), params (every parameter, idle
        candidates included: the same for every cell) and depth (``nb201``'s), analytically."""
        base = super().cost(arch, num_classes, input_size)
        node_ops = self.parse(arch)
        convs = sum(op in _CONV_KERNEL for ops in node_ops for op in ops)
        size = input_size or self.default_input_size
        bias_adds = 0
        params = base.params
        c = INIT_CHANNELS
        for stage in range(3):
            if stage > 0:
                c, size = 2 * c, (size - 1) // 2 + 1
            bias_adds += CELLS_PER_STAGE * convs * c * size * size
            # replace the benchmark build's cell parameters (active convs, affine BN) by this build's
            cell_convs = [_CONV_KERNEL[op] ** 2 for ops in node_ops for op in ops if op in _CONV_KERNEL]
            params += CELLS_PER_STAGE * (cell_params(c) - (sum(cell_convs) * c * c + len(cell_convs) * 2 * c))
        return zsbench.Cost(flops=base.flops + bias_adds, params=params, depth=base.depth)


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register the zero-cost-nas build of the NAS-Bench-201 space."""
    register(NB201ZeroCostSpace())
