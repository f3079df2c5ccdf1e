"""Hostile fake proxies for the reliability tests (a module, so worker processes can import it).

Each proxy misbehaves in one way a third-party plugin might: it changes global torch / NumPy /
Python state, edits its input batch in place, returns something that is not a float, prints
to stdout, raises ``SystemExit`` or ``KeyboardInterrupt``, or hangs. ``hostile_probe`` is the
victim: its score depends on the default dtype, grad mode, the RNGs and the batch, so any leak
from a proxy that ran before it changes its bits.

``hostile_hang`` sleeps ``$HOSTILE_HANG_SECONDS`` (default 3600) on the architectures listed in
``$HOSTILE_HANG_ARCHS`` (comma-separated; all when unset) and returns 1.0 on the others.

``hostile_leak`` leaks memory on the architectures listed in ``$HOSTILE_LEAK_ARCHS`` (none when
unset): with ``$HOSTILE_LEAK_MODE=oom-kill`` it holds 64 MiB blocks until 256 MiB, then its worker
is killed with ``SIGKILL`` as the kernel's out-of-memory killer would (at a limit of 256 MiB);
with ``rlimit`` it lowers the worker's address-space limit (``ulimit -v``) to 256 MiB above what it
uses and allocates until the allocation fails, restoring the limit afterwards.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import zsbench


class Probe(zsbench.Proxy):
    """Sensitive to everything the others change."""

    name = "hostile_probe"

    def score(self, model, batch) -> float:
        import numpy as np
        import torch

        loss = torch.nn.functional.cross_entropy(model(batch.inputs), batch.targets)
        loss.backward()  # fails when grad mode was left off
        grads = sum(float(p.grad.double().abs().sum()) for p in model.parameters() if p.grad is not None)
        noise = float(torch.rand(1)) + float(np.random.rand()) + random.random()
        dtype = 0.0 if torch.get_default_dtype() == torch.float32 else 1000.0
        return grads + noise + float(batch.inputs.double().sum()) + dtype + torch.get_num_threads()


def _hostile(name: str, act: Callable[[Any, Any], Any]) -> zsbench.Proxy:
    cls = type(f"Hostile_{name}", (zsbench.Proxy,), {"name": f"hostile_{name}", "score": lambda self, m, b: act(m, b)})
    return cls()


def _dtype(model, batch):
    import torch

    torch.set_default_dtype(torch.float64)
    return 1.0


def _rng(model, batch):
    import numpy as np
    import torch

    torch.manual_seed(12345)
    torch.rand(100)
    np.random.seed(7)
    random.seed(9)
    return 1.0


def _grad(model, batch):
    import torch

    torch.set_grad_enabled(False)
    return 1.0


def _threads(model, batch):
    import torch

    torch.set_num_threads(torch.get_num_threads() + 2)
    return 1.0


def _inplace(model, batch):
    batch.inputs.mul_(100.0)
    batch.targets.zero_()
    return 1.0


def _print(model, batch):
    print("hello from a chatty proxy")
    sys.stdout.flush()
    os.write(1, b"and from C code, straight to file descriptor 1\n")
    return 2.0


def _hang(model, batch):
    archs = os.environ.get("HOSTILE_HANG_ARCHS")
    if archs is None or getattr(model, "toy_arch", None) in archs.split(","):
        time.sleep(float(os.environ.get("HOSTILE_HANG_SECONDS", "3600")))
    return 1.0


def _leak(model, batch):
    if getattr(model, "toy_arch", None) not in os.environ.get("HOSTILE_LEAK_ARCHS", "").split(","):
        return 1.0
    block = 64 << 20
    held = []
    if os.environ.get("HOSTILE_LEAK_MODE") == "oom-kill":
        while len(held) * block < 256 << 20:
            held.append(bytearray(block))  # zero-filled: the pages are really used
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + (256 << 20), hard))
    try:
        while True:
            held.append(bytearray(block))
    finally:
        held.clear()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _raise(exc: BaseException) -> Callable[[Any, Any], Any]:
    def act(model, batch):
        raise exc

    return act


def _return(value: Any) -> Callable[[Any, Any], Any]:
    def act(model, batch):
        return value() if callable(value) else value

    return act


def _tensor():
    import torch

    return torch.tensor(1.5)


STATE_CHANGERS = ("hostile_dtype", "hostile_rng", "hostile_grad", "hostile_threads", "hostile_inplace")
#: proxy -> the start of the failure reason it must be recorded with
BAD_RETURNS = {
    "hostile_inf": "non-finite score inf",
    "hostile_nan": "non-finite score nan",
    "hostile_none": "returned None, not a float",
    "hostile_string": "returned a str '1.5', not a float",
    "hostile_complex": "returned a complex, not a float",
    "hostile_tensor": "returned a torch.Tensor, not a float",
    "hostile_bool": "returned a bool, not a float",
    "hostile_exit": "SystemExit: 3",
    "hostile_interrupt": "KeyboardInterrupt: raised by the plugin",
}

PROXIES = [
    Probe(),
    _hostile("dtype", _dtype),
    _hostile("rng", _rng),
    _hostile("grad", _grad),
    _hostile("threads", _threads),
    _hostile("inplace", _inplace),
    _hostile("print", _print),
    _hostile("hang", _hang),
    _hostile("leak", _leak),
    _hostile("inf", _return(float("inf"))),
    _hostile("nan", _return(float("nan"))),
    _hostile("none", _return(None)),
    _hostile("string", _return("1.5")),
    _hostile("complex", _return(1 + 2j)),
    _hostile("tensor", _return(_tensor)),
    _hostile("bool", _return(True)),
    _hostile("exit", _raise(SystemExit(3))),
    _hostile("interrupt", _raise(KeyboardInterrupt("raised by the plugin"))),
]


@zsbench.hookimpl
def register_proxies(register: Callable[[Any], None]) -> None:
    for proxy in PROXIES:
        register(proxy)


def hostile_host() -> zsbench.PluginHost:
    """The toy host (space, benchmark, proxies, real metrics) plus the hostile proxies."""
    import hostile_plugins
    from toy_plugins import toy_host

    host = toy_host()
    host.register_plugin(hostile_plugins, name="hostile")
    return host
