"""Rewriting a score cache written before batch fingerprints (``zsbench cache migrate``).

Before, a run contract named its input batch by a string, ``"cifar10:train:augmented:seed=0"``,
whatever copy of the dataset the images came from (the JPEG copy the shipped batch is made from,
or the official release, whose pixels differ). Now it names the batch by its content
(:func:`zsbench.data.batch_fingerprint`). A migration rebuilds the batch each old string names and
writes its fingerprint into the contract:

- ``gaussian:seed=S``: the Gaussian batch is a pure function of its seed, size and class count;
- a string naming a shipped batch (CIFAR-10, seed 0, 64 images, 32 or 16 px): the shipped batch,
  which is bit-identical to what the CIFAR-10 JPEG copy gave before (so the scores stay valid for
  records computed from that copy; ``from_data_root`` rebuilds it from the data root instead, for
  records computed from another copy, e.g. torchvision's download);
- any other ``<dataset>:train:augmented:seed=S``: rebuilt from the data root's images.

What cannot be rebuilt (no data root, a custom batch's name) is left as it is and reported, or
deleted with ``drop_unmigrated``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsbench.engine.cache import ScoreCache, contract_key

_AUGMENTED = re.compile(r"^(?P<dataset>[^:]+):train:augmented:seed=(?P<seed>-?\d+)$")
_GAUSSIAN = re.compile(r"^gaussian:seed=(?P<seed>-?\d+)$")


@dataclass
class Migration:
    """What a migration did: per old batch description, its new fingerprint (or why none) and scores."""

    rewritten: dict[tuple[str, str], int] = field(default_factory=dict)  # (old description, fingerprint) -> scores
    unmigrated: dict[tuple[str, str], int] = field(default_factory=dict)  # (old description, reason) -> scores
    dropped: int = 0

    @property
    def moved(self) -> int:
        """Scores rewritten."""
        return sum(self.rewritten.values())

    @property
    def left(self) -> int:
        """Scores left under their old contract."""
        return sum(self.unmigrated.values())


def new_contract(
    contract: str, *, data_root: str | Path | None = None, from_data_root: bool = False, memo: dict | None = None
) -> tuple[str | None, str]:
    """The contract text with its batch named by fingerprint, or ``(None, reason)``.

    Returns:
        ``(new contract or None, fingerprint or the reason it could not be rebuilt)``.
    """
    fields: dict[str, Any] = json.loads(contract)
    source = str(fields.get("input_source"))
    size, input_size = fields.get("batch_size"), fields.get("input_size")
    classes = fields.get("num_classes")
    if not isinstance(size, int) or not isinstance(input_size, int) or not isinstance(classes, int):
        return None, "the contract lacks the batch size, input size or class count"
    key = (source, size, input_size, classes, from_data_root)
    memo = {} if memo is None else memo
    if key not in memo:
        memo[key] = _rebuild(source, size, input_size, classes, data_root, from_data_root)
    fingerprint, reason = memo[key]
    if fingerprint is None:
        return None, reason
    fields["input_source"] = fingerprint
    return contract_key(fields), fingerprint


def _rebuild(
    source: str, size: int, input_size: int, classes: int, data_root: str | Path | None, from_data_root: bool
) -> tuple[str | None, str]:
    """``(fingerprint, "")`` of the batch an old contract names, or ``(None, reason)``."""
    import warnings

    from zsbench.data import batch_fingerprint as fingerprint
    from zsbench.data import gaussian_batch as gaussian
    from zsbench.data import proxy_batch, resolve_data_root
    from zsbench.data import shipped_batch_key as shipped_key
    from zsbench.errors import ZsbenchError

    gaussian_match = _GAUSSIAN.match(source)
    if gaussian_match:
        return fingerprint(gaussian(size, int(gaussian_match["seed"]), input_size, classes)), ""
    match = _AUGMENTED.match(source)
    if not match:
        return None, f"{source!r} names no batch zsbench can rebuild"
    dataset, seed = match["dataset"], int(match["seed"])
    shipped = shipped_key(dataset, seed, size, input_size) is not None
    if shipped and not from_data_root:
        return fingerprint(proxy_batch(dataset, size, seed, None, input_size, classes)), ""
    if resolve_data_root(data_root) is None:
        return None, "needs the images it was drawn from: pass --data-root DIR"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch = proxy_batch(dataset, size, seed, data_root, input_size, classes, batch_source="data")
    except (ZsbenchError, ValueError) as exc:
        return None, str(exc)
    return fingerprint(batch), ""


def migrate_cache(
    store: ScoreCache, *, data_root: str | Path | None = None, from_data_root: bool = False, drop_unmigrated: bool = False
) -> Migration:
    """Rewrite every old-style contract of ``store`` (see the module docstring), in one transaction."""
    report = Migration()
    mapping: dict[str, str | None] = {}
    memo: dict = {}
    for contract, count in store.old_batch_contracts().items():
        old = str(json.loads(contract).get("input_source"))
        text, detail = new_contract(contract, data_root=data_root, from_data_root=from_data_root, memo=memo)
        if text is not None:
            mapping[contract] = text
            report.rewritten[(old, detail)] = report.rewritten.get((old, detail), 0) + count
        elif drop_unmigrated:
            mapping[contract] = None
            report.dropped += count
        else:
            report.unmigrated[(old, detail)] = report.unmigrated.get((old, detail), 0) + count
    if mapping:
        store.rewrite_contracts(mapping)
    return report
