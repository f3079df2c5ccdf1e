"""Checking a ``--device`` value before any work starts.

A device that does not exist (``cuda`` on a machine without a GPU, ``cuda:3`` on a machine
with two, a typo) would otherwise fail deep inside torch on the first architecture, with a
traceback, or be recorded as a failure of every proxy. :func:`check_device` turns it into one
line that names the problem and the fix.
"""

from __future__ import annotations

from zsbench.errors import UsageError

#: Device types zsbench runs on (torch knows more, such as ``meta``, that cannot score or train).
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


def check_device(device: str, *, allow_auto: bool = False, here: bool = True) -> str:
    """Validate a device string and return it.

    Args:
        device: ``cpu``, ``cuda``, ``cuda:N``, ``mps``, ``xpu`` (and ``auto`` when allowed).
        allow_auto: accept ``auto`` (CUDA when available, else CPU).
        here: the work runs on this machine, so the device must exist here; ``False`` (e.g.
            for a Ray cluster, whose workers may have GPUs the driver lacks) checks the
            spelling only.

    Raises:
        UsageError: an unknown device, or one this machine does not have.
    """
    import torch

    if device == "auto" and allow_auto:
        return device
    choices = "cpu, cuda or cuda:N" + (", or auto" if allow_auto else "")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise UsageError(f"unknown device {device!r}: use {choices}") from None
    if parsed.type not in DEVICE_TYPES:
        raise UsageError(f"device {device!r} cannot run networks: use {choices}")
    if not here or parsed.type == "cpu":
        return device
    backend = getattr(torch, parsed.type, None) if parsed.type != "mps" else getattr(torch.backends, "mps", None)
    available = bool(backend is not None and backend.is_available())
    if not available:
        raise UsageError(
            f"--device {device}: this machine has no {parsed.type.upper()} device "
            f"(torch {torch.__version__} sees none); use --device cpu"
        )
    if parsed.type == "cuda" and parsed.index is not None:
        count = torch.cuda.device_count()
        if parsed.index >= count:
            raise UsageError(
                f"--device {device}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}; pick one of them"
            )
    return device
