"""The scoring harness: run several proxies on one architecture.

The harness, not the proxies, owns the environment: it seeds the RNGs, builds a fresh,
identically initialised model in train mode for every proxy, times the call, and turns
an exception, an out-of-memory error or a non-finite value into a recorded failure with
its reason. It never substitutes a sentinel number and never stops at one failure.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zsbench.errors import describe_error
from zsbench.interfaces import Batch, Proxy

if TYPE_CHECKING:  # pragma: no cover
    import torch


@dataclass
class ProxyResult:
    """The outcome of one proxy on one architecture.

    Attributes:
        proxy: the proxy's name.
        value: the raw score, or ``None`` when the proxy failed.
        error: the failure reason (``"ValueError: ..."``, ``"non-finite score nan"``), else ``None``.
        seconds: wall time of the ``score`` call (model construction excluded).
        contract: the run contract the value was computed under (see :func:`run_contract`).
    """

    proxy: str
    value: float | None
    error: str | None
    seconds: float
    contract: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the proxy produced a finite value."""
        return self.error is None


def run_contract(proxy: Proxy, batch: Batch, seed: int, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Everything a score depends on besides the architecture: recorded with every score
    and part of every cache key. The device type is part of it because GPU kernels (and
    random inputs drawn on the GPU) give other float values than the CPU's."""
    import torch

    contract = dict(proxy.contract())
    contract.update(
        {"batch_size": batch.size, "input_source": batch.source, "seed": seed, "device": torch.device(device).type}
    )
    if proxy.input_kind == "none":  # pure function of the architecture
        contract.update({"batch_size": None, "input_source": None, "device": None})
    elif proxy.input_kind in ("batch-shape", "gaussian"):
        contract["input_source"] = proxy.input_kind
    return contract


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def score_model(
    build: Callable[[], torch.nn.Module],
    proxies: Sequence[Proxy],
    batch: Batch,
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> list[ProxyResult]:
    """Score one architecture with several proxies.

    Args:
        build: returns a freshly built model; called once per proxy, after seeding, so
            every proxy gets its own identically initialised copy.
        proxies: the proxies to run, in order.
        batch: the input batch (moved to ``device`` once).
        seed: seeds the global RNGs before each build and again before each ``score`` call,
            so a score does not depend on what ran before it in the process.
        device: where models and the batch live.

    Returns:
        One :class:`ProxyResult` per proxy, in the order given.
    """
    import torch

    device = torch.device(device)
    batch_on_device = Batch(
        inputs=batch.inputs.to(device),
        targets=batch.targets.to(device),
        num_classes=batch.num_classes,
        source=batch.source,
    )
    results = []
    for proxy in proxies:
        contract = run_contract(proxy, batch, seed, device)
        value: float | None = None
        error: str | None = None
        start = time.perf_counter()
        model = None
        try:
            seed_everything(seed)
            model = build().to(device).train()
            seed_everything(seed)
            start = time.perf_counter()
            raw = proxy.score(model, batch_on_device)
            value = float(raw)
            if not math.isfinite(value):
                error = f"non-finite score {value}"
                value = None
        except torch.OutOfMemoryError as exc:  # subclass of RuntimeError: catch first
            error = f"out of memory: {str(exc).splitlines()[0] if str(exc) else 'OutOfMemoryError'}"
        except MemoryError as exc:
            error = f"out of memory: {str(exc).splitlines()[0]}" if str(exc) else "out of memory: MemoryError"
        except Exception as exc:  # a failing proxy is recorded, never fatal
            error = describe_error(exc)
        seconds = time.perf_counter() - start
        del model
        if device.type == "cuda":
            # Free the model's device memory before the next build; on the CPU reference counting
            # frees it at once, and a full collection per proxy would cost more than many proxies.
            gc.collect()
            torch.cuda.empty_cache()
        results.append(ProxyResult(proxy.name, value, error, seconds, contract))
    return results
