"""Shared machinery of the staged macro spaces SS-R1, SS-R2 and SS-MB.

A network of these spaces is a stem, then 3 or 4 stages, then a global-average-pool +
linear head. Exactly three stages downsample (stride 2); in a 4-stage network the one
remaining stage keeps stride 1, and its position is part of the architecture. Every
stage has its own output width and depth (number of blocks); SS-MB stages also have an
expansion ratio. The first block of a stage carries the stage's stride and changes the
width; the other blocks keep both.

Encoding (human-readable, parsed back exactly)::

    stem64,s1-64x2,s2-128x2,s2-256x2,s2-512x2          # R1 / R2: s<stride>-<width>x<depth>
    stem32,s2-e6-24x2,s1-e6-32x3,s2-e6-64x4,s2-e6-96x3   # MB: s<stride>-e<expansion>-<width>x<depth>

Cost conventions (see :mod:`zsbench.costs`): FLOPs are multiply-accumulates (MACs) of
convolutions and linear layers for one image, params are all parameters, depth is the
number of weight layers on the longest input-to-output path. :meth:`MacroSpace.cost`
computes the three figures analytically from the encoding (no network is built), and
the tests check that they equal ``count_flops`` / ``count_params`` / ``count_depth`` of
built networks.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

import zsbench
from zsbench.errors import InvalidArchitectureError

if TYPE_CHECKING:  # pragma: no cover
    import torch

NUM_DOWNSAMPLING_STAGES = 3
STAGE_COUNTS = (3, 4)
STEM_CHOICES = ("cifar", "imagenet")


@dataclass(frozen=True)
class StageSpec:
    """One stage of a macro network.

    Attributes:
        stride: 1 or 2, applied by the stage's first block.
        width: output channels of every block of the stage.
        depth: number of blocks.
        expansion: expansion ratio of the inverted-residual blocks (SS-MB only; ``None``
            for SS-R1 / SS-R2).
    """

    stride: int
    width: int
    depth: int
    expansion: int | None = None


@dataclass(frozen=True)
class MacroArch:
    """A parsed macro architecture: stem width and the stages in order."""

    stem_width: int
    stages: tuple[StageSpec, ...]

    def stage_inputs(self) -> list[int]:
        """Input width of every stage (the stem's width, then the previous stage's width)."""
        widths = [self.stem_width]
        for stage in self.stages[:-1]:
            widths.append(stage.width)
        return widths


def conv_out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Spatial output size of a convolution or pooling window (PyTorch's floor rule)."""
    return (size + 2 * padding - kernel) // stride + 1


@dataclass
class _Tally:
    """Running analytic cost of a network being walked layer by layer."""

    macs: int = 0
    params: int = 0

    def conv(self, c_in: int, c_out: int, kernel: int, out_hw: int, groups: int = 1) -> None:
        self.macs += c_out * out_hw * out_hw * (c_in // groups) * kernel * kernel
        self.params += c_out * (c_in // groups) * kernel * kernel

    def batchnorm(self, channels: int) -> None:
        self.params += 2 * channels

    def linear(self, c_in: int, c_out: int) -> None:
        # FlopCounterMode counts addmm as in*out MACs; the bias add is not a MAC.
        self.macs += c_in * c_out
        self.params += c_in * c_out + c_out


class MacroSpace(zsbench.SearchSpace):
    """Base class of SS-R1, SS-R2 and SS-MB; subclasses fix the block and the value sets.

    Subclass attributes:
        stem_widths: allowed stem widths.
        widths: allowed stage output widths.
        depths: allowed stage depths (blocks per stage).
        expansions: allowed expansion ratios; empty for spaces without one.
        block_weight_layers: weight layers on a block's main branch (for depth).
    """

    stem_widths: ClassVar[tuple[int, ...]]
    widths: ClassVar[tuple[int, ...]]
    depths: ClassVar[tuple[int, ...]]
    expansions: ClassVar[tuple[int, ...]] = ()

    _STEM_RE = re.compile(r"^stem(\d+)$")

    # -- size and sampling -------------------------------------------------------------

    def _choices_per_stage(self) -> int:
        return len(self.widths) * len(self.depths) * max(1, len(self.expansions))

    def size(self) -> int:
        """Number of distinct architectures: stem widths x (3-stage networks + 4-stage
        networks, the latter times 4 positions of the stride-1 stage)."""
        per_stage = self._choices_per_stage()
        three = per_stage**3
        four = 4 * per_stage**4
        return len(self.stem_widths) * (three + four)

    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        """Draw ``n`` distinct architectures, deterministically for ``seed``.

        Sampling is hierarchical, not uniform over the members of the space (which would
        give almost only 4-stage networks): the number of stages is 3 or 4 with equal
        probability, the stride-1 stage of a 4-stage network is uniform over the 4
        positions, and the stem width and every stage's width, depth (and expansion) are
        uniform over their value sets. Duplicates are redrawn.

        Args:
            n: how many architectures.
            seed: seed of the draw.
            max_flops: if set, architectures whose FLOPs (MACs at the default input size,
                10 classes) exceed it are redrawn, e.g. to keep a pool cheap enough for CPUs.

        Raises:
            ValueError: if ``n`` is negative or larger than the space, or ``max_flops`` is
                below the space's smallest network.
        """
        if n < 0 or n > self.size():
            raise ValueError(f"cannot draw {n} distinct architectures from space {self.name!r} of size {self.size()}")
        if max_flops is not None and max_flops < self.cost(self.encode(self._smallest())).flops:
            raise ValueError(f"max_flops={max_flops:g} is below the smallest network of space {self.name!r}")
        rng = random.Random(f"{self.name}:{seed}")
        seen: set[str] = set()
        out: list[str] = []
        # a tight budget may leave fewer than n networks: give up instead of looping forever
        max_draws = 200 * n + 10_000
        draws = 0
        while len(out) < n:
            draws += 1
            if draws > max_draws:
                raise ValueError(
                    f"found only {len(out)} of {n} architectures of space {self.name!r} within max_flops={max_flops} "
                    f"in {max_draws} draws; raise max_flops or lower n"
                )
            arch = self.encode(self._draw(rng))
            if arch in seen:
                continue
            seen.add(arch)
            if max_flops is None or self.cost(arch).flops <= max_flops:
                out.append(arch)
        return out

    def _smallest(self) -> MacroArch:
        """The network with the fewest FLOPs: 3 stages, smallest values everywhere."""
        expansion = min(self.expansions) if self.expansions else None
        stage = StageSpec(2, min(self.widths), min(self.depths), expansion)
        return MacroArch(min(self.stem_widths), (stage,) * 3)

    def _draw(self, rng: random.Random) -> MacroArch:
        num_stages = rng.choice(STAGE_COUNTS)
        strides = [2] * num_stages
        if num_stages == 4:
            strides[rng.randrange(4)] = 1
        stages = tuple(
            StageSpec(
                stride=s,
                width=rng.choice(self.widths),
                depth=rng.choice(self.depths),
                expansion=rng.choice(self.expansions) if self.expansions else None,
            )
            for s in strides
        )
        return MacroArch(rng.choice(self.stem_widths), stages)

    # -- mutation (zsbench search) ------------------------------------------------------

    def mutate(self, arch: str, rng: random.Random) -> str:
        """A neighbour of ``arch`` in the manner of Zen-NAS's evolution: one or two changes,
        each (with these odds) a stage's width (45 %: scaled by a factor between 1/2.5 and
        2.5, log-uniform, and rounded to the nearest width of the space), its depth (35 %:
        +-1 or +-2 blocks, kept within the space's depths), its expansion ratio (MB only,
        10 %), the stem width (5 %), or the stage structure (5 %: a 3-stage network gains a
        stride-1 stage, a 4-stage one loses its stride-1 stage). The spaces have no kernel
        choice (every convolution is 3x3), so no kernel move."""
        spec = self.parse(arch)
        for _ in range(100):  # a move can land back on arch (two moves that cancel): draw again
            new = spec
            for _ in range(rng.choice((1, 2))):
                new = self._mutate_once(new, rng)
            text = self.encode(new)
            if text != arch:
                return text
        return arch  # pragma: no cover - every move changes the network

    def _mutate_once(self, spec: MacroArch, rng: random.Random) -> MacroArch:
        draw = rng.random()
        if draw < 0.05:
            return MacroArch(_neighbour(self.stem_widths, spec.stem_width, rng), spec.stages)
        if draw < 0.10:
            return self._mutate_structure(spec, rng)
        index = rng.randrange(len(spec.stages))
        stage = spec.stages[index]
        if draw < 0.55:
            width = _snap(self.widths, stage.width * math.exp(rng.uniform(-math.log(2.5), math.log(2.5))))
            stage = replace(stage, width=width if width != stage.width else _neighbour(self.widths, stage.width, rng))
        elif draw < 0.90 or not self.expansions:
            stage = replace(stage, depth=_step(self.depths, stage.depth, rng.choice((-2, -1, 1, 2))))
        else:
            stage = replace(stage, expansion=rng.choice([e for e in self.expansions if e != stage.expansion]))
        return MacroArch(spec.stem_width, (*spec.stages[:index], stage, *spec.stages[index + 1 :]))

    def _mutate_structure(self, spec: MacroArch, rng: random.Random) -> MacroArch:
        stages = list(spec.stages)
        if len(stages) == 4:
            return MacroArch(spec.stem_width, tuple(s for s in stages if s.stride == 2))
        position = rng.randrange(4)
        width_before = stages[position - 1].width if position else spec.stem_width
        expansion = rng.choice(self.expansions) if self.expansions else None
        stages.insert(position, StageSpec(1, _snap(self.widths, width_before), min(self.depths), expansion))
        return MacroArch(spec.stem_width, tuple(stages))

    # -- encoding ----------------------------------------------------------------------

    def _allowed(self, values: Sequence[int]) -> str:
        return "{" + ", ".join(str(v) for v in values) + "}"

    def _fail(self, arch: str, message: str) -> InvalidArchitectureError:
        return InvalidArchitectureError(f"{self.name} architecture {arch!r}: {message}")

    def _stage_pattern(self) -> str:
        return "s<stride>-e<expansion>-<width>x<depth>" if self.expansions else "s<stride>-<width>x<depth>"

    def parse(self, arch: str) -> MacroArch:
        """Parse ``stem<W>,<stage>,<stage>,<stage>[,<stage>]`` into a :class:`MacroArch`.

        Raises:
            InvalidArchitectureError: naming the wrong part and the allowed values.
        """
        if not isinstance(arch, str):
            raise InvalidArchitectureError(f"{self.name} architecture must be a string, got {type(arch).__name__}")
        parts = arch.split(",")
        stem_match = self._STEM_RE.match(parts[0])
        if stem_match is None:
            raise self._fail(arch, f"first part {parts[0]!r} must be stem<width> with width in {self._allowed(self.stem_widths)}")
        stem_width = int(stem_match.group(1))
        if stem_width not in self.stem_widths or stem_match.group(1) != str(stem_width):
            raise self._fail(arch, f"stem width {stem_match.group(1)!r} not allowed; allowed: {self._allowed(self.stem_widths)}")
        stage_parts = parts[1:]
        if len(stage_parts) not in STAGE_COUNTS:
            raise self._fail(arch, f"has {len(stage_parts)} stages; allowed: 3 or 4 stages, each {self._stage_pattern()}")
        stages = tuple(self._parse_stage(arch, i + 1, text) for i, text in enumerate(stage_parts))
        num_down = sum(1 for s in stages if s.stride == 2)
        if num_down != NUM_DOWNSAMPLING_STAGES:
            raise self._fail(
                arch,
                f"{num_down} stages have stride 2; exactly 3 must (a 4-stage network has one stride-1 stage, "
                "a 3-stage network none)",
            )
        return MacroArch(stem_width, stages)

    def _parse_stage(self, arch: str, index: int, text: str) -> StageSpec:
        fields = text.split("-")
        expected = 3 if self.expansions else 2
        if len(fields) != expected or "x" not in fields[-1]:
            raise self._fail(arch, f"stage {index} {text!r} must look like {self._stage_pattern()}")
        stride_text = fields[0]
        if stride_text not in ("s1", "s2"):
            raise self._fail(arch, f"stage {index} stride {stride_text!r} not allowed; allowed: s1, s2")
        expansion = None
        if self.expansions:
            exp_text = fields[1]
            value = _strict_int(exp_text[1:]) if exp_text.startswith("e") else None
            if value not in self.expansions:
                raise self._fail(
                    arch, f"stage {index} expansion {exp_text!r} not allowed; allowed: e<r> with r in {self._allowed(self.expansions)}"
                )
            expansion = value
        width_text, _, depth_text = fields[-1].partition("x")
        width = _strict_int(width_text)
        if width not in self.widths:
            raise self._fail(arch, f"stage {index} width {width_text!r} not allowed; allowed: {self._allowed(self.widths)}")
        depth = _strict_int(depth_text)
        if depth not in self.depths:
            raise self._fail(arch, f"stage {index} depth {depth_text!r} not allowed; allowed: {self._allowed(self.depths)}")
        return StageSpec(int(stride_text[1]), width, depth, expansion)

    def encode(self, spec: MacroArch) -> str:
        """The canonical string of ``spec`` (validated by parsing it back)."""
        parts = [f"stem{spec.stem_width}"]
        for stage in spec.stages:
            if self.expansions:
                parts.append(f"s{stage.stride}-e{stage.expansion}-{stage.width}x{stage.depth}")
            else:
                parts.append(f"s{stage.stride}-{stage.width}x{stage.depth}")
        text = ",".join(parts)
        if self.parse(text) != spec:  # rejects specs outside the space
            raise InvalidArchitectureError(f"{self.name}: {spec!r} does not round-trip")
        return text

    # -- building ----------------------------------------------------------------------

    def build(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        seed: int | None = None,
        input_size: int | None = None,
        stem: str = "cifar",
    ) -> torch.nn.Module:
        """Build the network of ``arch``.

        Args:
            arch: an encoding of this space.
            num_classes: width of the linear classifier.
            seed: when set, the initial weights (PyTorch's default initialisation) are a
                pure function of it and the global RNG state is restored afterwards.
            input_size: unused (the networks are size-agnostic); accepted for the contract.
            stem: ``"cifar"`` (the space's stem: 3x3 conv, stride 1) or ``"imagenet"``
                (the family's ImageNet stem, for parity checks with torchvision models).
        """
        import torch

        spec = self.parse(arch)
        if stem not in STEM_CHOICES:
            raise zsbench.UsageError(f"stem {stem!r} not allowed; allowed: {', '.join(STEM_CHOICES)}")
        if seed is None:
            return self._build_network(spec, num_classes, stem)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self._build_network(spec, num_classes, stem)

    def _build_network(self, spec: MacroArch, num_classes: int, stem: str) -> torch.nn.Module:
        from torch import nn

        from zsbench_spaces._layers import MacroNetwork

        blocks: list[nn.Module] = []
        c_in = spec.stem_width
        for stage in spec.stages:
            for index in range(stage.depth):
                stride = stage.stride if index == 0 else 1
                blocks.append(self._make_block(c_in, stage.width, stride, stage.expansion))
                c_in = stage.width
        return MacroNetwork(self._make_stem(spec.stem_width, stem), nn.Sequential(*blocks), c_in, num_classes)

    def _make_stem(self, width: int, stem: str) -> torch.nn.Module:
        from torch import nn

        if stem == "imagenet":
            return nn.Sequential(
                nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, stride=2, padding=1),
            )
        return nn.Sequential(nn.Conv2d(3, width, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True))

    def _make_block(self, c_in: int, c_out: int, stride: int, expansion: int | None) -> torch.nn.Module:
        raise NotImplementedError

    # -- cost and features -------------------------------------------------------------

    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None, *, stem: str = "cifar") -> zsbench.Cost:
        """FLOPs (multiply-accumulates of convolutions and the linear layer, one image),
        params and depth of ``arch``, computed analytically (no network is built); they
        equal ``zsbench.costs.count_flops`` / ``count_params`` / ``count_depth`` of
        ``build(arch)``."""
        spec = self.parse(arch)
        size = input_size or self.default_input_size
        tally = _Tally()
        if stem not in STEM_CHOICES:
            raise zsbench.UsageError(f"stem {stem!r} not allowed; allowed: {', '.join(STEM_CHOICES)}")
        size = self._stem_cost(tally, spec.stem_width, size, stem)
        tally.batchnorm(spec.stem_width)
        depth = 1
        c_in = spec.stem_width
        for stage in spec.stages:
            for index in range(stage.depth):
                stride = stage.stride if index == 0 else 1
                size, block_depth = self._tally_block(tally, c_in, stage.width, stride, stage.expansion, size)
                depth += block_depth
                c_in = stage.width
        tally.linear(c_in, num_classes)
        return zsbench.Cost(flops=float(tally.macs), params=tally.params, depth=depth + 1)

    def _stem_cost(self, tally: _Tally, width: int, size: int, stem: str) -> int:
        """Add the stem's conv to ``tally`` (its BN is added by the caller); return the output size."""
        if stem == "imagenet":
            size = conv_out_size(size, 7, 2, 3)
            tally.conv(3, width, 7, size)
            return conv_out_size(size, 3, 2, 1)
        tally.conv(3, width, 3, size)
        return size

    def _tally_block(
        self, tally: _Tally, c_in: int, c_out: int, stride: int, expansion: int | None, size: int
    ) -> tuple[int, int]:
        """Add one block's MACs and params to ``tally``; return (output size, weight layers)."""
        raise NotImplementedError

    def features(self, arch: str) -> dict[str, float]:
        """Per stage ``S<i>_in``, ``S<i>_out``, ``S<i>_stride``, ``S<i>_depth`` (the paper's
        S_i^in, S_i^out, s, L) for i = 1..4, plus ``S<i>_expansion`` in SS-MB; a 3-stage
        network has zeros for stage 4. Also ``stem_width``, ``num_stages`` and
        ``stride1_stage`` (1-based position of the stride-1 stage, 0 when there is none)."""
        spec = self.parse(arch)
        feats: dict[str, float] = {"stem_width": float(spec.stem_width), "num_stages": float(len(spec.stages))}
        stride1 = [i + 1 for i, s in enumerate(spec.stages) if s.stride == 1]
        feats["stride1_stage"] = float(stride1[0]) if stride1 else 0.0
        inputs = spec.stage_inputs()
        for i in range(max(STAGE_COUNTS)):
            key = f"S{i + 1}"
            if i < len(spec.stages):
                stage = spec.stages[i]
                values = (inputs[i], stage.width, stage.stride, stage.depth, stage.expansion or 0)
            else:
                values = (0, 0, 0, 0, 0)
            feats[f"{key}_in"], feats[f"{key}_out"], feats[f"{key}_stride"], feats[f"{key}_depth"] = map(float, values[:4])
            if self.expansions:
                feats[f"{key}_expansion"] = float(values[4])
        return feats


def _strict_int(text: str) -> int | None:
    """``int(text)`` for plain decimal text without sign or leading zeros, else ``None``."""
    if not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        return None
    return int(text)


def _snap(values: Sequence[int], target: float) -> int:
    """The value of ``values`` nearest to ``target`` on a log scale (widths grow by factors)."""
    return min(values, key=lambda v: abs(math.log(v) - math.log(max(target, 1e-9))))


def _neighbour(values: Sequence[int], current: int, rng: random.Random) -> int:
    """The next smaller or larger value of the sorted ``values`` (whichever exists, or a coin flip)."""
    ordered = sorted(values)
    position = ordered.index(current)
    options = [ordered[i] for i in (position - 1, position + 1) if 0 <= i < len(ordered)]
    return rng.choice(options)


def _step(values: Sequence[int], current: int, delta: int) -> int:
    """``current + delta`` kept within ``values``' range; the other direction when the bound holds it."""
    low, high = min(values), max(values)
    moved = min(high, max(low, current + delta))
    if moved == current:
        moved = min(high, max(low, current - delta))
    return moved
