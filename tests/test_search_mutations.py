"""The mutations of the space contract (``SearchSpace.mutate``): each first-party space's move
changes what its docstring says and stays in the space; a space that declares none falls back
to a fresh sample, so a third-party space is searchable."""

from __future__ import annotations

import random

import pytest
from toy_plugins import ToySpace
from zsbench_spaces import mb, nasbench_macro, nb201, r1, r2

import zsbench

MACRO = [r1.R1Space(), r2.R2Space(), mb.MBSpace()]
SPACES = [*MACRO, nb201.NB201Space(), nasbench_macro.NasBenchMacroSpace()]


@pytest.mark.parametrize("space", SPACES, ids=lambda s: s.name)
def test_mutation_is_declared_canonical_and_differs(space: zsbench.SearchSpace) -> None:
    assert space.declares_mutation()
    rng = random.Random(1)
    for arch in space.sample(40, seed=3):
        for _ in range(5):
            child = space.mutate(arch, rng)
            assert child != arch
            assert space.canonical(child) == child


def test_nb201_mutation_changes_exactly_one_edge() -> None:
    space = nb201.NB201Space()
    rng = random.Random(0)
    children = set()
    arch = space.sample(1, seed=5)[0]
    edges = [op for ops in space.parse(arch) for op in ops]
    for _ in range(2000):
        child = space.mutate(arch, rng)
        changed = [i for i, (a, b) in enumerate(zip(edges, [op for ops in space.parse(child) for op in ops], strict=True)) if a != b]
        assert len(changed) == 1
        children.add(child)
    assert len(children) == 24  # 6 edges x 4 other ops: every neighbour is reached


def test_nasbench_macro_mutation_changes_one_layer_up_to_canonical_order() -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    rng = random.Random(0)
    for arch in space.sample(50, seed=1):
        child = space.mutate(arch, rng)
        # one layer changed: the multiset of choices of exactly one stage changed by one element
        diffs = 0
        start = 0
        for count in nasbench_macro.STAGE_LAYERS:
            a, b = sorted(arch[start : start + count]), sorted(child[start : start + count])
            diffs += sum(1 for x, y in zip(a, b, strict=True) if x != y) > 0 or arch[start] != child[start]
            start += count
        assert diffs == 1


@pytest.mark.parametrize("space", MACRO, ids=lambda s: s.name)
def test_macro_mutation_moves_are_small_and_reach_the_whole_value_sets(space) -> None:
    rng = random.Random(7)
    arch = space.sample(1, seed=0)[0]
    widths, depths, stages = set(), set(), set()
    for _ in range(3000):
        child = space.mutate(arch, rng)
        a, b = space.parse(arch), space.parse(child)
        if [x.stride for x in a.stages] == [y.stride for y in b.stages]:  # no stage added or removed
            changed = sum(1 for x, y in zip(a.stages, b.stages, strict=True) if x != y) + (a.stem_width != b.stem_width)
            assert 1 <= changed <= 2  # one or two moves
            for x, y in zip(a.stages, b.stages, strict=True):
                assert abs(x.depth - y.depth) <= 4  # two moves of at most 2 blocks
                ratio = max(x.width, y.width) / min(x.width, y.width)
                assert ratio <= 2.5 * 2.5 * 1.5  # two scalings by at most 2.5, each snapped to the ladder
        arch = child  # a random walk
        spec = space.parse(arch)
        widths.update(s.width for s in spec.stages)
        depths.update(s.depth for s in spec.stages)
        stages.add(len(spec.stages))
    assert widths == set(space.widths) and depths == set(space.depths) and stages == {3, 4}


def test_a_space_without_a_mutation_is_searchable_by_fresh_samples() -> None:
    space = ToySpace()
    assert not space.declares_mutation()
    rng = random.Random(0)
    drawn = {space.mutate("w2-d1", rng) for _ in range(300)}
    assert drawn == set(space.enumerate())  # a fresh uniform sample: every architecture appears
    assert [space.mutate("w2-d1", random.Random(5)) for _ in range(3)] == [space.mutate("w2-d1", random.Random(5))] * 3
