"""Published figures of other works, shipped as data so tables can show them beside zsbench's.

Each ``<name>.json`` holds a work's citation, notes on how its figures map to zsbench's
indices (``entries``), and ``columns``: one per benchmark the work reports, with its values
per index entry and proxy (proxy names as zsbench spells them). ``--published NAME`` on the
transfer tables adds these columns.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from zsbench.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def available() -> list[str]:
    """Names of the shipped sets of published figures."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))


@cache
def load(name: str) -> dict[str, Any]:
    """The published figures ``name`` (see the module docstring).

    Raises:
        UsageError: no such set.
    """
    names = available()
    if name not in names:
        raise UsageError(f"no published figures named {name!r}; shipped: {', '.join(names)}")
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text())


def frame(name: str, entries: list[str] | None = None) -> pd.DataFrame:
    """The published figures as a transfer table: one row per (proxy, entry), one column per
    published benchmark (``nbzero:R1/cifar10``, ...), NaN where the work gives no figure.

    Raises:
        UsageError: an entry the work does not report.
    """
    import numpy as np
    import pandas as pd

    data = load(name)
    known = list(data["entries"])
    chosen = entries or known
    absent = [e for e in chosen if e not in known]
    if absent:
        raise UsageError(f"{name} publishes {', '.join(known)}, not {', '.join(absent)}; choose --index accordingly")
    proxies: list[str] = []
    for column in data["columns"]:
        for entry in chosen:
            proxies.extend(p for p in column["values"].get(entry, {}) if p not in proxies)
    if "oracle" in proxies:
        proxies.remove("oracle")
        proxies.insert(0, "oracle")
    rows = []
    for proxy in proxies:
        for entry in chosen:
            row: dict[str, Any] = {"proxy": proxy, "entry": entry}
            for column in data["columns"]:
                row[column["key"]] = column["values"].get(entry, {}).get(proxy, np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def caption(name: str) -> str:
    """One line: the citation and the notes of the published figures ``name``."""
    data = load(name)
    return f"{name}: {data['citation']} " + " ".join(data.get("notes", []))


__all__ = ["available", "caption", "frame", "load"]
