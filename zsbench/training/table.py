"""Benchmark tables made by ``zsbench build`` and the :class:`BuiltBenchmark` that reads them.

A build named ``NAME`` in folder ``OUT`` leaves three files:

- ``OUT/NAME.jsonl``: every training record (the source of truth, used to resume);
- ``OUT/NAME.csv``: the benchmark table, one row per architecture trained with the
  build's seed: ``arch``, ``accuracy`` (official test split, percent),
  ``valid_accuracy`` (NAS-valid split, percent), ``flops``, ``params``, ``depth``,
  ``train_seconds``, and ``accuracy_seed<S>`` for architectures retrained with a second
  seed ``S`` (the noise ceiling);
- ``OUT/NAME.meta.json``: how it was built (space, dataset, recipe and its hash, pool
  size and seed, how many networks are done) and the noise ceiling.

This module imports no torch, so listing benchmarks stays fast.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.errors import DataMissingError
from zsbench.interfaces import Benchmark

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLE_COLUMNS = ("arch", "accuracy", "valid_accuracy", "flops", "params", "depth", "train_seconds")


def table_paths(out_dir: str | Path, name: str) -> tuple[Path, Path, Path]:
    """``(results.jsonl, table.csv, meta.json)`` of build ``name`` in ``out_dir``."""
    out = Path(out_dir)
    return out / f"{name}.jsonl", out / f"{name}.csv", out / f"{name}.meta.json"


def make_table(
    records: list[dict[str, Any]], archs: list[str], train_seed: int, repeat_seed: int | None
) -> list[dict[str, Any]]:
    """Rows of the benchmark table, in pool order, for the architectures done with ``train_seed``."""
    by_arch_seed: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        if record.get("status") == "ok":
            by_arch_seed.setdefault((record["arch"], int(record["seed"])), record)
    rows = []
    for arch in archs:
        primary = by_arch_seed.get((arch, train_seed))
        if primary is None:
            continue
        row = {
            "arch": arch,
            "accuracy": primary["test_accuracy"],
            "valid_accuracy": primary["valid_accuracy"],
            "flops": primary["flops"],
            "params": primary["params"],
            "depth": primary["depth"],
            "train_seconds": round(float(primary.get("train_seconds", float("nan"))), 2),
        }
        if repeat_seed is not None:
            repeat = by_arch_seed.get((arch, repeat_seed))
            row[f"accuracy_seed{repeat_seed}"] = repeat["test_accuracy"] if repeat else None
        rows.append(row)
    return rows


def noise_ceiling(rows: list[dict[str, Any]], repeat_seed: int | None) -> dict[str, Any]:
    """Spearman and Kendall correlation between the two seeds' test accuracies.

    Returns ``{"pairs": n, "spearman": rho, "kendall": tau}`` (NaN with fewer than 3 pairs).
    """
    if repeat_seed is None:
        return {"pairs": 0, "spearman": None, "kendall": None}
    column = f"accuracy_seed{repeat_seed}"
    repeated = [r for r in rows if r.get(column) is not None]
    return rank_agreement([r["accuracy"] for r in repeated], [r[column] for r in repeated])


def rank_agreement(first: Sequence[float], second: Sequence[float]) -> dict[str, Any]:
    """Spearman and Kendall correlation between two measurements of the same networks:
    ``{"pairs": n, "spearman": rho, "kendall": tau}``, rounded to 4 digits, ``None`` with
    fewer than 3 pairs or when a correlation is undefined (constant values)."""
    if len(first) < 3:
        return {"pairs": len(first), "spearman": None, "kendall": None}
    from scipy import stats

    rho = float(stats.spearmanr(first, second).statistic)
    tau = float(stats.kendalltau(first, second).statistic)
    return {
        "pairs": len(first),
        "spearman": None if math.isnan(rho) else round(rho, 4),
        "kendall": None if math.isnan(tau) else round(tau, 4),
    }


def write_table(path: Path, rows: list[dict[str, Any]], repeat_seed: int | None) -> None:
    """Write the CSV atomically (a kill never leaves half a table)."""
    import csv
    import io

    columns = list(TABLE_COLUMNS) + ([f"accuracy_seed{repeat_seed}"] if repeat_seed is not None else [])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: ("" if row.get(c) is None else row[c]) for c in columns})
    write_atomic(path, buffer.getvalue())


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_meta(path: str | Path) -> dict[str, Any]:
    """The build metadata in ``path``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


class BuiltBenchmark(Benchmark):
    """A benchmark backed by a table that ``zsbench build`` wrote.

    Args:
        name: registry name.
        table: the CSV file.
        meta: the build metadata (``space``, ``dataset``, ``num_classes``, ``input_size``, ...).
        description: one line for ``zsbench benchmarks`` (default: from the metadata).
    """

    def __init__(self, name: str, table: Path, meta: dict[str, Any], description: str | None = None) -> None:
        self.name = name  # type: ignore[misc]
        self.space = meta["space"]  # type: ignore[misc]
        self.dataset = meta["dataset"]  # type: ignore[misc]
        self.num_classes = int(meta.get("num_classes", 10))  # type: ignore[misc]
        self.input_size = int(meta.get("input_size", 32))  # type: ignore[misc]
        self.table = Path(table)
        self.meta = meta
        done, pool = meta.get("networks_done", "?"), meta.get("pool_size", "?")
        details = [f"{done} networks"]
        if meta.get("pool_max_flops"):
            details.append(f"<= {float(meta['pool_max_flops']) / 1e6:g} M MACs at 32x32")
        ceiling = meta.get("noise_ceiling") or {}
        if ceiling.get("spearman") is not None:
            details.append(f"noise ceiling Spearman {ceiling['spearman']:.2f} over {ceiling.get('pairs')} retrained")
        if not meta.get("complete"):
            details.append(f"PARTIAL: {done}/{pool} networks trained")
        self.description = description or (  # type: ignore[misc]
            f"{meta['space']} on {meta['dataset']}, recipe {meta.get('recipe_name')} ({'; '.join(details)})"
        )

    def load(self, data_root: Path | None = None) -> pd.DataFrame:
        """The table (``data_root`` is not used: the table ships with the build).

        Raises:
            DataMissingError: the table file is missing or holds no architecture.
        """
        import pandas as pd

        if not self.table.is_file():
            raise DataMissingError(
                f"benchmark {self.name!r} needs its table {self.table.name} (written by `zsbench build`); "
                f"rebuild it with: {self.meta.get('command', 'zsbench build')}"
            )
        frame = pd.read_csv(self.table)
        if frame.empty:
            raise DataMissingError(
                f"benchmark {self.name!r}: {self.table.name} holds no trained network yet; "
                f"resume the build with: {self.meta.get('command', 'zsbench build')}"
            )
        return frame

    def noise_ceiling(self, data_root: Path | None = None) -> dict[str, Any] | None:
        """The build's measured noise ceiling: Spearman and Kendall between the test
        accuracies of the networks trained with both seeds (``None`` below 3 pairs)."""
        ceiling = self.meta.get("noise_ceiling") or {}
        if int(ceiling.get("pairs") or 0) < 3 or ceiling.get("spearman") is None:
            return None
        seeds = f"seeds {self.meta.get('train_seed', 0)} and {self.meta.get('repeat_seed')}"
        return {
            "spearman": ceiling["spearman"],
            "kendall": ceiling["kendall"],
            "pairs": ceiling["pairs"],
            "note": f"test accuracy of {ceiling['pairs']} networks trained with {seeds}",
        }


def discover_builds(folder: str | Path) -> list[BuiltBenchmark]:
    """A :class:`BuiltBenchmark` for every ``*.meta.json`` with its table in ``folder``."""
    folder = Path(folder)
    found = []
    if not folder.is_dir():
        return found
    for meta_path in sorted(folder.glob("*.meta.json")):
        name = meta_path.name[: -len(".meta.json")]
        table = meta_path.with_name(f"{name}.csv")
        if table.is_file():
            found.append(BuiltBenchmark(name, table, read_meta(meta_path)))
    return found
