"""What the harness does so that one plugin cannot change another's score or stop the run.

Third-party proxies run in the same process as each other and as zsbench. Three things keep
them apart:

- :func:`preserved_global_state`: the process-wide settings a proxy may change (the RNG
  states of Python, NumPy and torch, torch's default dtype, grad mode, anomaly detection,
  deterministic-algorithms mode, cuDNN flags and intra-op thread count) are saved before
  each proxy call and restored after it, so no score depends on which proxies ran before.
- :func:`as_score`: a proxy's return value is accepted only when it is a real number
  (``float``, ``int``, a NumPy real scalar); ``inf``, ``NaN``, ``None``, a string, a complex
  number, a tensor or a bool becomes that proxy's failure with the reason.
- :func:`is_real_interrupt` (with :class:`InterruptGuard`): a ``KeyboardInterrupt`` or
  ``SystemExit`` *raised* by a proxy is that proxy's failure; one delivered by a signal
  (Ctrl-C, ``SIGTERM``) stops the run. The guard's signal handler records that a signal
  arrived, which is how the two are told apart.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import random
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

#: What a plugin's code may raise that the harness records as that plugin's failure instead of
#: letting it end the run: every ``Exception``, and ``SystemExit`` / ``KeyboardInterrupt`` raised
#: by the code itself (see :func:`is_real_interrupt`).
PLUGIN_ERRORS: tuple[type[BaseException], ...] = (Exception, SystemExit, KeyboardInterrupt)


# -- return values ----------------------------------------------------------------------------------


def as_score(raw: Any) -> tuple[float | None, str | None]:
    """``(value, None)`` for a finite real number, else ``(None, reason)``.

    A bool, a string (even ``"1.5"``), a complex number, ``None`` or a tensor is refused:
    a proxy's contract is to return a ``float``, and accepting look-alikes would hide bugs
    (a string parsed as a number, a tensor that keeps its autograd graph alive).
    """
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
        return None, f"returned {_kind(raw)}, not a float"
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError) as exc:
        return None, f"returned {_kind(raw)} that is not a float ({exc})"
    if not math.isfinite(value):
        return None, f"non-finite score {value}"
    return value, None


def _kind(raw: Any) -> str:
    if raw is None:
        return "None"
    kind = type(raw)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(raw, (str, bytes)):
        text = repr(raw)
        return f"a {name} {text[:40]}{'...' if len(text) > 40 else ''}"
    return f"a {name}"


# -- global state -----------------------------------------------------------------------------------


def _snapshot() -> dict[str, Any]:
    import numpy as np
    import torch

    state: dict[str, Any] = {
        "random": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.random.get_rng_state(),
        "dtype": torch.get_default_dtype(),
        "grad": torch.is_grad_enabled(),
        "anomaly": torch.is_anomaly_enabled(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "deterministic_warn": torch.is_deterministic_algorithms_warn_only_enabled(),
        "threads": torch.get_num_threads(),
        "cudnn": (
            torch.backends.cudnn.enabled,
            torch.backends.cudnn.benchmark,
            torch.backends.cudnn.deterministic,
        ),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _restore(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["random"])
    np.random.set_state(state["numpy"])
    torch.random.set_rng_state(state["torch"])
    if torch.get_default_dtype() != state["dtype"]:
        torch.set_default_dtype(state["dtype"])
    torch.set_grad_enabled(state["grad"])
    if torch.is_anomaly_enabled() != state["anomaly"]:
        torch.set_anomaly_enabled(state["anomaly"])
    if (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()) != (
        state["deterministic"],
        state["deterministic_warn"],
    ):
        torch.use_deterministic_algorithms(state["deterministic"], warn_only=state["deterministic_warn"])
    if torch.get_num_threads() != state["threads"]:
        torch.set_num_threads(state["threads"])
    (
        torch.backends.cudnn.enabled,
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
    ) = state["cudnn"]
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def preserved_global_state() -> Iterator[None]:
    """Save the process-wide state a plugin may change (see the module docstring) and restore
    it on the way out, whatever the code inside did or raised."""
    state = _snapshot()
    try:
        yield
    finally:
        _restore(state)


# -- interrupts -------------------------------------------------------------------------------------


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal (``SIGINT`` or ``SIGTERM``); ``signum`` says which.

    A ``KeyboardInterrupt`` subclass, so every ``finally`` that cleans up after Ctrl-C
    (stopping worker processes, closing the cache) runs for ``SIGTERM`` as well.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 plus the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


class _GuardState:
    depth = 0  # nested guards active in this process
    received: int | None = None  # the first signal delivered while a guard was active
    in_worker = False  # a worker process: its signals are ignored, so no interrupt is real
    children: ClassVar[set[int]] = set()  # worker processes to kill when a second signal ends the run at once


def is_real_interrupt(exc: BaseException) -> bool:
    """Whether ``exc``, caught around a plugin call, must stop the run rather than fail the plugin.

    ``SystemExit`` raised inside a plugin call is never the run's (zsbench ends the process
    with ``os._exit`` on a second signal). A ``KeyboardInterrupt`` is real when a signal was
    delivered under an :class:`InterruptGuard`, or when no guard is active in this process
    (a library caller without one: Ctrl-C must still stop it). In a worker process signals
    are ignored, so none is real there.
    """
    if isinstance(exc, SystemExit):
        return False
    if not isinstance(exc, KeyboardInterrupt):
        return False
    if _GuardState.in_worker:
        return False
    return _GuardState.received is not None or _GuardState.depth == 0


def mark_worker_process(*, ignore_signals: bool = True) -> None:
    """Called in a worker process, whose ``SIGINT`` and ``SIGTERM`` are ignored (the caller
    stops it); a Ray worker keeps Ray's own handlers (``ignore_signals=False``)."""
    _GuardState.in_worker = True
    if not ignore_signals:
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    # Linux: the kernel kills this worker when its parent dies, even by SIGKILL, so a hung
    # proxy's worker never outlives the run.
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def register_child(pid: int) -> None:
    """A worker process to kill if a second signal ends the run at once."""
    _GuardState.children.add(pid)


def unregister_child(pid: int) -> None:
    _GuardState.children.discard(pid)


class InterruptGuard:
    """While active (``with InterruptGuard():``, main thread only), ``SIGINT`` and ``SIGTERM``
    raise :class:`RunInterrupted` once; a second signal kills the registered worker processes
    and ends the process at once with 128 + the signal number. Outside the main thread, or
    nested, it changes nothing. The previous handlers are restored on exit."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is not threading.main_thread():
            return self
        if _GuardState.depth == 0:
            _GuardState.received = None
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, _handler)
        _GuardState.depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        _GuardState.depth -= 1
        if _GuardState.depth == 0:
            for signum, previous in self._previous.items():
                signal.signal(signum, previous)
            _GuardState.received = None


def _handler(signum: int, frame: Any) -> None:
    if _GuardState.received is not None:
        # the second signal: no more cleaning up (a hung worker would keep the user waiting)
        for pid in list(_GuardState.children):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        os.write(2, f"\nsecond {signal.Signals(signum).name}: stopped at once\n".encode())
        os._exit(128 + signum)
    _GuardState.received = signum
    raise RunInterrupted(signum)
