"""Test helpers for plugin authors (loaded by pytest through the ``pytest11`` entry point).

Fixtures:
    zsbench_host: an isolated :class:`~zsbench.PluginHost` with no entry points loaded;
        register a throwaway plugin with ``zsbench_host.register_plugin(obj, name="x")``.
    tiny_model_factory: ``factory(num_classes=10, seed=0)`` builds a small, deterministic
        CNN (conv-BN-ReLU stages, a residual block, global pool, linear head).
    tiny_batch: a seeded 8-image Gaussian :class:`~zsbench.Batch` (3x16x16, 10 classes).

Contract tests: subclass :class:`ProxyContract` in your test module and set ``proxy``::

    from zsbench.testing import ProxyContract
    from zsbench_proxy_myidea import MyIdea

    class TestMyIdea(ProxyContract):
        proxy = MyIdea()
        entry_point = "myidea"   # optional: also check it is discoverable once installed

The inherited tests check the name, that ``score`` returns a finite float on the CPU for the
tiny CNN (a proxy that returns NaN there, or raises, fails: NaN is for networks a proxy
cannot score, not for an ordinary conv-BN-ReLU network), that two runs under the same seed
are bit-identical, that a proxy declaring a shared pass (:meth:`~zsbench.Proxy.requires`)
scores the same from the pass's products as on its own (within ``shared_tolerance``, by default the proxy's ``tolerance``), and,
with ``entry_point`` set, that the installed plugin is found through the ``zsbench``
entry-point group.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from zsbench.interfaces import Batch, Proxy
from zsbench.plugins import PluginHost

if TYPE_CHECKING:  # pragma: no cover
    import torch

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def make_tiny_model(num_classes: int = 10, seed: int = 0) -> torch.nn.Module:
    """A small deterministic CNN with BatchNorm, ReLU, a residual block and a linear head."""
    import torch
    from torch import nn

    class _Residual(nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
                nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels),
            )
            self.act = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(x + self.body(x))

    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            _Residual(8),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(16, num_classes),
        )
    finally:
        torch.random.set_rng_state(state)
    return model.train()


def make_tiny_batch(batch_size: int = 8, num_classes: int = 10, size: int = 16, seed: int = 0) -> Batch:
    """A seeded Gaussian batch with uniform labels."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn((batch_size, 3, size, size), generator=generator)
    targets = torch.randint(0, num_classes, (batch_size,), generator=generator)
    return Batch(inputs=inputs, targets=targets, num_classes=num_classes, source="gaussian")


@pytest.fixture
def zsbench_host() -> PluginHost:
    """An isolated plugin host: nothing installed is loaded."""
    return PluginHost(entry_points=False)


@pytest.fixture
def tiny_model_factory() -> Callable[..., Any]:
    """Returns :func:`make_tiny_model`."""
    return make_tiny_model


@pytest.fixture
def tiny_batch() -> Batch:
    """A seeded 8-image Gaussian batch (3x16x16, 10 classes)."""
    return make_tiny_batch()


class ProxyContract:
    """Inherit in a test class and set ``proxy`` (an instance) to run the contract checks."""

    proxy: ClassVar[Proxy]
    entry_point: ClassVar[str | None] = None
    #: How far a score from a shared pass may differ from the proxy's own, relatively: a pass may
    #: sum in another order or solve in float32 (first-party fisher needs 1e-5, ntk 1e-4).
    #: ``None``: the proxy's own :attr:`zsbench.Proxy.tolerance`, the one ``zsbench packs verify`` uses.
    shared_tolerance: ClassVar[float | None] = None

    def _score(self, seed: int = 0) -> float:
        """The proxy's score of the tiny CNN, through the host's scoring path."""
        from zsbench.engine.harness import score_model

        [result] = score_model(lambda: make_tiny_model(seed=seed), [self.proxy], make_tiny_batch(), seed=seed)
        if result.error is not None or result.value is None:
            raise AssertionError(
                f"{self.proxy.name} gave no score for the tiny CNN ({result.error or 'no value'}); "
                "a proxy must score an ordinary conv-BN-ReLU network with a finite float"
            )
        return result.value

    def test_declares_a_valid_name(self) -> None:
        assert isinstance(self.proxy, Proxy)
        assert NAME_PATTERN.match(self.proxy.name), f"proxy name {self.proxy.name!r} must match {NAME_PATTERN.pattern}"
        assert isinstance(self.proxy.higher_is_better, bool)
        assert isinstance(self.proxy.version, str) and self.proxy.version

    def test_returns_a_finite_float_on_cpu(self) -> None:
        value = self._score()
        assert isinstance(value, float) and math.isfinite(value), f"{self.proxy.name} returned {value!r}"

    def test_is_deterministic_under_a_seed(self) -> None:
        first, second = self._score(seed=0), self._score(seed=0)
        assert first == second, f"{self.proxy.name} gave {first!r} and then {second!r} under the same seed"

    def test_shared_pass_gives_its_own_score(self) -> None:
        """A proxy that declares a shared pass scores the same from the pass's products as on its own."""
        import torch

        from zsbench.engine.harness import _score_group

        request = self.proxy.requires()
        if request is None:
            pytest.skip(f"{self.proxy.name} declares no shared pass (requires() is None): nothing to compare")
        own = self._score()
        batch = make_tiny_batch()
        # The engine's own group path (one model, the pass once), not a copy of its seeding.
        shared = _score_group(lambda: make_tiny_model(seed=0), [(0, self.proxy, request)], batch, batch, 0, torch.device("cpu"))
        assert shared is not None, f"the pass {request.shared_pass.key!r} declined or failed on the tiny CNN"
        result = shared[0]
        assert result.error is None and result.value is not None, (
            f"{self.proxy.name} gave no score from its shared pass ({result.error or 'no value'})"
        )
        tolerance = self.shared_tolerance if self.shared_tolerance is not None else float(self.proxy.tolerance)
        assert math.isclose(result.value, own, rel_tol=tolerance, abs_tol=1e-12), (
            f"{self.proxy.name} scores {result.value!r} from its shared pass but {own!r} on its own "
            f"(relative tolerance {tolerance})"
        )

    def test_is_discoverable_through_its_entry_point(self) -> None:
        if self.entry_point is None:
            pytest.skip("set entry_point on the test class to check discovery of the installed plugin")
        host = PluginHost(load=[self.entry_point], strict=True)
        assert self.proxy.name in host.proxies, f"entry point {self.entry_point!r} did not register {self.proxy.name!r}"
