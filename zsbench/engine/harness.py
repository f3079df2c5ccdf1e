"""The scoring harness: run several proxies on one architecture.

The harness, not the proxies, owns the environment: it seeds the RNGs, builds a fresh,
identically initialised model in train mode for every proxy (or one for every group of
proxies that declare a common shared pass, see :class:`zsbench.SharedPass`), times the
call, and turns an exception, an out-of-memory error, a non-finite value or anything but a
real number into a recorded failure with its reason. It never substitutes a sentinel number
and never stops at one failure. Around every plugin call it restores the process-wide state
a plugin may change (RNGs, default dtype, grad mode, threads) and gives each proxy its own
copy of the batch, so no score depends on the proxies that ran before it; a ``SystemExit`` or
``KeyboardInterrupt`` raised by a plugin is its failure, a signal stops the run (see
:mod:`zsbench.engine.isolation`).
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zsbench.data import batch_fingerprint
from zsbench.engine.isolation import PLUGIN_ERRORS, as_score, is_real_interrupt, preserved_global_state
from zsbench.errors import ZsbenchError, describe_error
from zsbench.interfaces import Batch, PassRequest, Proxy, SharedPass

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
    random inputs drawn on the GPU) give other float values than the CPU's. A proxy that reads
    the batch records its content fingerprint (:func:`zsbench.data.batch_fingerprint`) as
    ``input_source``."""
    import torch

    contract = dict(proxy.contract())
    contract.update({"batch_size": batch.size, "input_source": None, "seed": seed, "device": torch.device(device).type})
    if proxy.input_kind == "none":  # pure function of the architecture
        contract.update({"batch_size": None, "input_source": None, "device": None})
    elif proxy.input_kind in ("batch-shape", "gaussian"):
        contract["input_source"] = proxy.input_kind
    else:
        # the batch's content, not its name: two copies of a dataset that differ in pixels never share a key
        contract["input_source"] = batch_fingerprint(batch)
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
    share_passes: bool = True,
    on_result: Callable[[int, ProxyResult], None] | None = None,
) -> list[ProxyResult]:
    """Score one architecture with several proxies.

    Proxies whose :meth:`~zsbench.Proxy.requires` name the same shared pass (equal
    :attr:`~zsbench.SharedPass.key`) are scored together when there are at least two of
    them: one model is built for the group, the pass runs once, and each proxy reduces its
    products (:meth:`~zsbench.Proxy.score_shared`). Every other proxy gets its own model and
    its :meth:`~zsbench.Proxy.score` call, as does every proxy of a group whose pass declines
    the model or raises (then each proxy's own failure reason is recorded).

    Args:
        build: returns a freshly built model; called once per proxy (once per shared group),
            after seeding, so every proxy gets an identically initialised model.
        proxies: the proxies to run, in order.
        batch: the input batch (moved to ``device`` once).
        seed: seeds the global RNGs before each build and again before each ``score`` call
            (and each shared pass), so a score does not depend on what ran before it.
        device: where models and the batch live.
        share_passes: ``False`` scores every proxy on its own model (the reference path).
        on_result: called with ``(position, result)`` as soon as each proxy's result is
            known (a worker reports finished proxies, so a time limit loses only the others).

    Returns:
        One :class:`ProxyResult` per proxy, in the order given. In a shared group a proxy's
        ``seconds`` is its own reduction time, the time of the pass's work that only its
        products needed (:meth:`SharedPass.product_seconds`, split among the proxies reading
        them) and an equal share of the rest, so the seconds of a group add up to its wall
        time and an expensive product (ntk's backward passes) shows in its proxy's seconds.
    """
    import torch

    device = torch.device(device)
    batch_on_device = Batch(
        inputs=batch.inputs.to(device),
        targets=batch.targets.to(device),
        num_classes=batch.num_classes,
        source=batch.source,
    )
    results: dict[int, ProxyResult] = {}
    groups: dict[str, list[tuple[int, Proxy, PassRequest]]] = {}
    separate: list[int] = []
    for index, proxy in enumerate(proxies):
        request = _request_of(proxy) if share_passes else None
        if request is None:
            separate.append(index)
        else:
            group = groups.setdefault(request.shared_pass.key, [])
            if group and not _same_pass(group[0][2].shared_pass, request.shared_pass):
                raise ZsbenchError(
                    f"proxies {group[0][1].name!r} and {proxy.name!r} declare two different shared passes under the key "
                    f"{request.shared_pass.key!r}; a key names one computation: give one of the passes a key of its own"
                )
            group.append((index, proxy, request))
    for members in groups.values():
        if len(members) < 2:
            separate.extend(index for index, _, _ in members)
            continue
        shared = _score_group(build, members, batch, batch_on_device, seed, device)
        if shared is None:  # the pass declined the model or failed as a whole
            separate.extend(index for index, _, _ in members)
        else:
            results.update(shared)
            for index in sorted(shared):
                if on_result is not None:
                    on_result(index, shared[index])
    for index in sorted(separate):
        results[index] = _score_alone(build, proxies[index], batch, batch_on_device, seed, device)
        if on_result is not None:
            on_result(index, results[index])
    return [results[index] for index in range(len(proxies))]


def _same_pass(first: SharedPass, second: SharedPass) -> bool:
    # One instance shared by the proxies, or equal instances (a pass that defines ``__eq__``).
    return first is second or (type(first) is type(second) and first == second)


def _request_of(proxy: Proxy) -> PassRequest | None:
    # A proxy whose declaration itself fails is scored on its own, where its failure is recorded.
    try:
        with preserved_global_state():
            request = proxy.requires()
    except PLUGIN_ERRORS as exc:
        _reraise_real_interrupt(exc)
        return None
    return request if isinstance(request, PassRequest) else None


def _failure_reason(exc: BaseException) -> str:
    import torch

    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        message = str(exc).splitlines()[0] if str(exc) else ""
        return f"out of memory: {message}" if message else f"out of memory: {type(exc).__name__}"
    return describe_error(exc)


def _reraise_real_interrupt(exc: BaseException) -> None:
    """Re-raise a signal's ``KeyboardInterrupt`` caught around a plugin call: it stops the run."""
    if is_real_interrupt(exc):
        raise exc


def _private_batch(batch: Batch) -> Batch:
    """A copy of the batch for one plugin call: a proxy that edits its inputs in place must
    not change the inputs of the next (a copy costs far less than building a model)."""
    return Batch(batch.inputs.clone(), batch.targets.clone(), batch.num_classes, batch.source)


def _release(device: torch.device) -> None:
    import torch

    if device.type == "cuda":
        # Free the model's device memory before the next build; on the CPU reference counting
        # frees it at once, and a full collection per proxy would cost more than many proxies.
        gc.collect()
        torch.cuda.empty_cache()


def _score_alone(
    build: Callable[[], torch.nn.Module],
    proxy: Proxy,
    batch: Batch,
    batch_on_device: Batch,
    seed: int,
    device: torch.device,
) -> ProxyResult:
    """One proxy on its own freshly built model (the reference path)."""
    contract = run_contract(proxy, batch, seed, device)
    value: float | None = None
    error: str | None = None
    start = time.perf_counter()
    model = None
    try:
        with preserved_global_state():
            seed_everything(seed)
            model = build().to(device).train()
            seed_everything(seed)
            private = _private_batch(batch_on_device)
            start = time.perf_counter()
            value, error = as_score(proxy.score(model, private))
    except PLUGIN_ERRORS as exc:  # a failing proxy (out of memory included) is recorded, never fatal
        _reraise_real_interrupt(exc)
        error = _failure_reason(exc)
    seconds = time.perf_counter() - start
    del model
    _release(device)
    return ProxyResult(proxy.name, value, error, seconds, contract)


class _Products(Mapping[str, Any]):
    """A pass's products as a read-only mapping that raises a stored exception when read."""

    def __init__(self, products: Mapping[str, Any]) -> None:
        self._products = dict(products)

    def __getitem__(self, name: str) -> Any:
        value = self._products[name]
        if isinstance(value, BaseException):
            raise value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._products)

    def __len__(self) -> int:
        return len(self._products)


def _pass_charges(shared_pass: SharedPass, members: list[tuple[int, Proxy, PassRequest]], pass_seconds: float) -> dict[int, float]:
    """Each member's share of the pass's time: its products' own seconds (split among their
    readers) plus an equal share of the rest."""
    try:
        own = {name: max(float(s), 0.0) for name, s in shared_pass.product_seconds().items()}
    except Exception:  # a pass's timing report is a courtesy: never fail scoring over it
        own = {}
    readers: dict[str, int] = {}
    for _, _, request in members:
        for name in request.products:
            readers[name] = readers.get(name, 0) + 1
    own = {name: s for name, s in own.items() if name in readers}
    common = max(pass_seconds - sum(own.values()), 0.0) / len(members)
    return {
        index: common + sum(own[name] / readers[name] for name in request.products if name in own)
        for index, _, request in members
    }


def _score_group(
    build: Callable[[], torch.nn.Module],
    members: list[tuple[int, Proxy, PassRequest]],
    batch: Batch,
    batch_on_device: Batch,
    seed: int,
    device: torch.device,
) -> dict[int, ProxyResult] | None:
    """Proxies sharing one pass on one model; ``None`` when they must be scored one at a time."""
    shared_pass = members[0][2].shared_pass
    wanted = frozenset().union(*(request.products for _, _, request in members))
    model = None
    try:
        with preserved_global_state():
            seed_everything(seed)
            model = build().to(device).train()
            if not shared_pass.accepts(model):
                del model
                _release(device)
                return None
            seed_everything(seed)
            private = _private_batch(batch_on_device)
            start = time.perf_counter()
            products = _Products(shared_pass.run(model, private, wanted))
            pass_seconds = time.perf_counter() - start
    except PLUGIN_ERRORS as exc:
        _reraise_real_interrupt(exc)
        # Each proxy alone then records its own reason (or succeeds with less memory).
        del model
        _release(device)
        return None
    charges = _pass_charges(shared_pass, members, pass_seconds)
    results = {}
    for index, proxy, _ in members:
        contract = run_contract(proxy, batch, seed, device)
        value: float | None = None
        error: str | None = None
        start = time.perf_counter()
        try:
            with preserved_global_state():
                value, error = as_score(proxy.score_shared(products, model, _private_batch(batch_on_device)))
        except PLUGIN_ERRORS as exc:  # a failing proxy (out of memory included) is recorded, never fatal
            _reraise_real_interrupt(exc)
            error = _failure_reason(exc)
        seconds = time.perf_counter() - start + charges[index]
        results[index] = ProxyResult(proxy.name, value, error, seconds, contract)
    del model, products
    _release(device)
    return results
