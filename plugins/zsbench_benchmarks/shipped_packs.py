"""The score packs shipped with the first-party benchmarks: every first-party proxy's scores,
precomputed on the shipped CIFAR-10 proxy batch (``packs/<benchmark>.jsonl.gz``; what each
covers and how it was built: ``packs/README.md``, ``zsbench packs list``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import zsbench

PACKS_DIR = Path(__file__).parent / "packs"


@zsbench.hookimpl
def register_packs(register: Callable[[Any], None]) -> None:
    """Register every pack file of ``packs/``, named after its benchmark."""
    for path in sorted(PACKS_DIR.glob("*.jsonl.gz")):
        name = path.name.removesuffix(".jsonl.gz")
        register(zsbench.ScorePack(name, path, f"first-party proxies' scores on {name}"))
