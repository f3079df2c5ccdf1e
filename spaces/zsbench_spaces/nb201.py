"""NAS-Bench-201: the 15,625-cell topology space (Dong & Yang, ICLR 2020).

Architectures are the benchmark's own ``arch_str`` keys, e.g.
``|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|``:
three groups separated by ``+`` for nodes 1, 2, 3 of the cell; ``op~j`` in the group of
node ``i`` is the op on the edge from node ``j`` to node ``i``. Ops: ``none``,
``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3``, ``avg_pool_3x3``.

The network is built as the benchmark's model code builds it (TinyNetwork, C=16, N=5):
3x3 conv stem to 16 channels + BN; three stages of 5 identical cells at 16, 32, 64
channels, with a ResNet basic block (stride 2, shortcut = 2x2 average pool + 1x1 conv)
between stages; BN + ReLU; global average pool; linear classifier (with bias). Cell
convolutions are ReLU-conv-BN, BatchNorm is affine. ``forward`` returns the logits only.

The ``none`` op multiplies its input by zero (as the benchmark's ``Zero`` does). A cell
in which no path of non-``none`` edges links node 0 to node 3 is *disconnected*: its
output is always zero, so the network's output does not depend on the input (341 of the
15,625 cells; they score 10 % on CIFAR-10). Such cells still hold their parameters
and their convolutions still run, so params and FLOPs count them, and the autograd graph
still passes through the zero multiplication, so ``depth`` does too.
``features(arch)["connected"]`` tells them apart.

Cost conventions:

- **params** equal the benchmark's ``params`` (e.g. ``params_cifar10_m`` x 1e6), and
  ``zsbench.costs.count_params`` of the built network.
- **FLOPs** follow NAS-Bench-201's published convention, which is the one of its
  counter (xautodl ``utils/flop_benchmark.get_model_infos``): multiply-accumulates of
  every ``Conv2d`` and ``Linear`` for one image, plus one addition per output element of
  a layer with a bias; pooling, BatchNorm, activations and the cell sums are not counted
  (the counter hooks pooling layers but leaves them out of the total). The only layer
  with a bias is the classifier, so FLOPs = ``zsbench.costs.count_flops`` +
  ``num_classes``. On CIFAR-10 (32x32) they range from 7,783,050 (every edge
  parameter-free) to 220,119,690 (every edge ``nor_conv_3x3``); the benchmark's paper
  prints this range as 7.78 M to 220.11 M. NASLib's "flops" figures (NAS-Bench-Suite-Zero)
  come from a different network implementation and are larger (see spaces/README.md).
- **depth** is ``zsbench.costs.count_depth``: weight layers on the longest path, i.e.
  ``6 + 15 * d`` where ``d`` (0 to 3) is the number of convolutions on the longest path
  through the cell counting every edge, ``none`` included.

Every cost is computed analytically from the string; the tests check them against
networks built and counted.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import zsbench
from zsbench.errors import InvalidArchitectureError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["CELLS_PER_STAGE", "EDGES", "INIT_CHANNELS", "OPS", "NB201Space", "cell_conv_depth", "is_connected"]

# NAS-Bench-201's op list, in the benchmark's order.
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (to_node, from_node) of the six cell edges, in arch_str order.
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
INIT_CHANNELS = 16
CELLS_PER_STAGE = 5
_CONV_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}

NodeOps = tuple[tuple[str, ...], ...]


def is_connected(node_ops: NodeOps) -> bool:
    """Whether a path of non-``none`` edges leads from the cell's input (node 0) to its output (node 3)."""
    reached = {0}
    for node, ops in enumerate(node_ops, start=1):
        if any(op != "none" and source in reached for source, op in enumerate(ops)):
            reached.add(node)
    return 3 in reached


def cell_conv_depth(node_ops: NodeOps) -> int:
    """Convolutions on the longest node-0-to-node-3 path, counting every edge (``none`` too,
    as the autograd graph does)."""
    longest = [0]
    for ops in node_ops:
        longest.append(max(longest[source] + (op in _CONV_KERNEL) for source, op in enumerate(ops)))
    return longest[-1]


class NB201Space(zsbench.SearchSpace):
    """NAS-Bench-201 cells; architectures are the benchmark's ``arch_str`` strings.

    FLOPs from :meth:`cost` are multiply-accumulates in NAS-Bench-201's own convention
    (``zsbench.costs.count_flops`` plus the classifier's bias additions, see the module docstring).
    """

    name = "nb201"
    description = "NAS-Bench-201 cell space (15,625 cells, TinyNetwork C=16 N=5), keys are the benchmark's arch_str"
    default_input_size = 32

    def size(self) -> int:
        """5 ops on each of 6 edges: 15,625 cells."""
        return len(OPS) ** len(EDGES)

    # -- encoding ----------------------------------------------------------------------

    def parse(self, arch: str) -> NodeOps:
        """Parse an ``arch_str`` into per-node op tuples ``((op10,), (op20, op21), (op30, op31, op32))``.

        Raises:
            InvalidArchitectureError: naming the wrong part and the allowed values.
        """
        if not isinstance(arch, str):
            raise InvalidArchitectureError(f"nb201 architecture must be a string, got {type(arch).__name__}")
        groups = arch.split("+")
        if len(groups) != 3:
            raise self._fail(arch, f"has {len(groups)} node groups separated by '+'; expected 3, like |op~0|+|op~0|op~1|+|op~0|op~1|op~2|")
        node_ops = []
        for node, group in enumerate(groups, start=1):
            if len(group) < 2 or not group.startswith("|") or not group.endswith("|"):
                raise self._fail(arch, f"node {node} group {group!r} must be enclosed in '|', like |op~0|")
            entries = group[1:-1].split("|")
            if len(entries) != node:
                raise self._fail(arch, f"node {node} has {len(entries)} inputs; it must have {node} (op~0 ... op~{node - 1})")
            ops = []
            for source, entry in enumerate(entries):
                op, sep, src = entry.partition("~")
                if not sep or src != str(source):
                    raise self._fail(arch, f"node {node} entry {entry!r} must be <op>~{source}")
                if op not in OPS:
                    raise self._fail(arch, f"node {node} input {source}: op {op!r} not allowed; allowed: {', '.join(OPS)}")
                ops.append(op)
            node_ops.append(tuple(ops))
        return tuple(node_ops)

    def encode(self, spec: NodeOps) -> str:
        """The benchmark's ``arch_str`` of per-node op tuples."""
        text = "+".join("|" + "|".join(f"{op}~{source}" for source, op in enumerate(ops)) + "|" for ops in spec)
        if self.parse(text) != tuple(tuple(ops) for ops in spec):
            raise InvalidArchitectureError(f"nb201: {spec!r} is not a valid cell")
        return text

    def _fail(self, arch: str, message: str) -> InvalidArchitectureError:
        return InvalidArchitectureError(f"nb201 architecture {arch!r}: {message}")

    @staticmethod
    def _from_edge_ops(edge_ops: tuple[str, ...]) -> NodeOps:
        return (edge_ops[0:1], edge_ops[1:3], edge_ops[3:6])

    def enumerate(self) -> Iterator[str]:
        """All 15,625 cells, ops varying fastest on the last edge (not the benchmark's index order)."""
        for edge_ops in itertools.product(OPS, repeat=len(EDGES)):
            yield self.encode(self._from_edge_ops(edge_ops))

    def from_index(self, index: int) -> str:
        """The ``index``-th cell of :meth:`enumerate` (not the benchmark's ``arch_index``)."""
        if not 0 <= index < self.size():
            raise IndexError(f"nb201 index {index} out of range 0..{self.size() - 1}")
        digits = []
        for _ in EDGES:
            index, digit = divmod(index, len(OPS))
            digits.append(OPS[digit])
        return self.encode(self._from_edge_ops(tuple(reversed(digits))))

    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        """``n`` distinct cells drawn uniformly without replacement, deterministically for ``seed``;
        with ``max_flops``, the default rejection sampler of :class:`zsbench.SearchSpace`."""
        if max_flops is not None:  # no faster way than costing candidates
            return self.sample_by_rejection(n, seed, max_flops)
        if n < 0 or n > self.size():
            raise ValueError(f"cannot draw {n} distinct architectures from space 'nb201' of size {self.size()}")
        rng = random.Random(f"nb201:{seed}")
        return [self.from_index(i) for i in rng.sample(range(self.size()), n)]

    def mutate(self, arch: str, rng: random.Random) -> str:
        """A neighbour of ``arch`` for an evolutionary search: one edge of the cell, chosen
        uniformly, gets one of the four other operations (uniformly), as in the mutation of
        regularized evolution on NAS-Bench-201 (Dong & Yang, 2020). Each cell has 24 neighbours."""
        edge_ops = [op for ops in self.parse(arch) for op in ops]
        edge = rng.randrange(len(edge_ops))
        edge_ops[edge] = rng.choice([op for op in OPS if op != edge_ops[edge]])
        return self.encode(self._from_edge_ops(tuple(edge_ops)))

    # -- building ----------------------------------------------------------------------

    def build(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        seed: int | None = None,
        input_size: int | None = None,
    ) -> torch.nn.Module:
        """Build TinyNetwork (C=16, N=5) for ``arch``; with ``seed`` set the initial weights
        (PyTorch defaults, created in the benchmark's module order) are a pure function of
        it and the global RNG state is restored afterwards. ``input_size`` is unused."""
        import torch

        from zsbench_spaces._nb201_layers import TinyNetwork

        node_ops = self.parse(arch)
        if seed is None:
            return TinyNetwork(node_ops, INIT_CHANNELS, CELLS_PER_STAGE, num_classes)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return TinyNetwork(node_ops, INIT_CHANNELS, CELLS_PER_STAGE, num_classes)

    # -- cost and features -------------------------------------------------------------

    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None) -> zsbench.Cost:
        """FLOPs (multiply-accumulates, NAS-Bench-201 convention: ``count_flops`` + ``num_classes``),
        params and depth of ``arch``, computed analytically."""
        node_ops = self.parse(arch)
        size = input_size or self.default_input_size
        if size % 4:
            # the reduction blocks' conv and average-pool branches disagree on odd sizes: the network cannot run
            raise zsbench.UsageError(f"nb201 needs an input size divisible by 4, got {size}")
        c = INIT_CHANNELS
        macs = 3 * c * 9 * size * size  # stem conv
        params = 3 * c * 9 + 2 * c  # stem conv + BN
        cell_macs_per_pixel_channel2 = sum(_CONV_KERNEL.get(op, 0) ** 2 for ops in node_ops for op in ops)
        cell_convs = sum(op in _CONV_KERNEL for ops in node_ops for op in ops)
        for stage in range(3):
            if stage > 0:
                c_out = 2 * c
                out = (size - 1) // 2 + 1
                macs += 9 * c * c_out * out * out + 9 * c_out * c_out * out * out  # conv_a, conv_b
                macs += c * c_out * (size // 2) ** 2  # 1x1 conv after the 2x2 average pool
                params += 9 * c * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out + c * c_out
                c, size = c_out, out
            macs += CELLS_PER_STAGE * cell_macs_per_pixel_channel2 * c * c * size * size
            params += CELLS_PER_STAGE * (cell_macs_per_pixel_channel2 * c * c + cell_convs * 2 * c)
        params += 2 * c  # last BN
        params += c * num_classes + num_classes
        macs += c * num_classes + num_classes  # the benchmark's counter adds the bias
        depth = 1 + 3 * CELLS_PER_STAGE * cell_conv_depth(node_ops) + 2 * 2 + 1
        return zsbench.Cost(flops=float(macs), params=params, depth=depth)

    def features(self, arch: str) -> dict[str, float]:
        """Cell features: ``edge_<i><j>`` (index into :data:`OPS` of the op from node j to
        node i), ``num_<op>`` (edges with each op), ``cell_depth`` (convolutions on the
        longest path, see :func:`cell_conv_depth`) and ``connected`` (1 or 0).

        The per-stage figures of the macro spaces are constant here (16/32/64 channels,
        5 cells per stage) and are not repeated."""
        node_ops = self.parse(arch)
        feats: dict[str, float] = {}
        for node, ops in enumerate(node_ops, start=1):
            for source, op in enumerate(ops):
                feats[f"edge_{node}{source}"] = float(OPS.index(op))
        flat = [op for ops in node_ops for op in ops]
        for op in OPS:
            feats[f"num_{op}"] = float(flat.count(op))
        feats["cell_depth"] = float(cell_conv_depth(node_ops))
        feats["connected"] = float(is_connected(node_ops))
        return feats


@zsbench.hookimpl
def register_search_spaces(register: Callable[[Any], None]) -> None:
    """Register the NAS-Bench-201 space."""
    register(NB201Space())
