"""The toy training space of ``toy_training``: round trips and deterministic builds."""

from __future__ import annotations

import pytest
import torch
from toy_training import ToySpace

import zsbench


def test_toy_space_round_trips_and_builds_deterministically() -> None:
    space = ToySpace()
    archs = space.sample(5, seed=3)
    assert len(set(archs)) == 5
    assert all(space.canonical(a) == a for a in archs)
    first = space.build("w8-d2", seed=7)
    second = space.build("w8-d2", seed=7)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(zsbench.InvalidArchitectureError):
        space.parse("w5-d2")
    # w8-d2: conv 3->8 (216) + BN (16) + conv 8->8 (576) + BN (16) + linear 8->10 (90).
    assert space.cost("w8-d2").params == 216 + 16 + 576 + 16 + 90
