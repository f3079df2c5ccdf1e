"""The perf scripts' ``--device``: refused in one line when this machine lacks it, and a
wait for the GPU's queued work before a timer stops (on a GPU, kernels run asynchronously)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch


def checked_device(parser: argparse.ArgumentParser, device: str) -> torch.device:
    """``device`` as a ``torch.device``; exits through ``parser.error`` (one line) when it is
    unknown or absent here (:func:`zsbench.devices.check_device`)."""
    import torch

    from zsbench.devices import check_device
    from zsbench.errors import UsageError

    try:
        check_device(device)
    except UsageError as exc:
        parser.error(str(exc))
    return torch.device(device)


def synchronize(device: str | torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
