"""Benchmark tables: reading them with clear errors, checking them, and a benchmark made
from a user's own file.

A benchmark table has one row per architecture and the columns

- ``arch`` (string): the architecture key, a string the benchmark's search space parses;
- ``accuracy`` (number): the trained accuracy (any scale, e.g. percent);
- optional ``flops`` (MACs of one forward pass on one image), ``params`` and ``depth``
  (weight layers on the longest path); costs that are missing are computed with the space.

``zsbench evaluate --benchmark path/to/table.parquet --space R1`` uses such a file directly
(Parquet, CSV, or tab-separated ``.tsv``) through :class:`TableBenchmark`. Benchmark plugins
read their own files with :func:`data_file` and :func:`read_table`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from zsbench.data import resolve_data_root
from zsbench.errors import DataMissingError, ZsbenchError
from zsbench.interfaces import Benchmark

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

REQUIRED_COLUMNS = ("arch", "accuracy")
COST_COLUMNS = ("flops", "params", "depth")
OPTIONAL_COLUMNS = COST_COLUMNS
TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv")
TABLE_FORMAT = "one row per architecture, columns arch (str), accuracy (float), optional flops, params, depth"


class BenchmarkTableError(ZsbenchError):
    """A benchmark table that exists but cannot be used (missing columns, unreadable)."""

    exit_code = 1


def data_file(data_root: Path | str | None, relative: str, benchmark: str, file_format: str) -> Path:
    """The path of ``relative`` under the data root, or a one-line :class:`DataMissingError`
    naming the file and its format."""
    root = resolve_data_root(data_root)
    hint = f"{benchmark} needs {relative} under the data root ({file_format}); see benchmarks/README.md"
    if root is None:
        raise DataMissingError(f"no data root: pass --data-root DIR or set ZSBENCH_DATA; {hint}")
    path = root / relative
    if not path.is_file():
        raise DataMissingError(f"{path} not found: {hint}")
    return path


def read_table(path: Path, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Read a Parquet/CSV/TSV table and check it has ``columns``.

    Raises:
        DataMissingError: the file does not exist.
        BenchmarkTableError: it cannot be read, or lacks some of ``columns`` (named in the message).
    """
    import pandas as pd

    if not path.is_file():
        raise DataMissingError(f"benchmark table {path} not found ({TABLE_FORMAT})")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            present = set(pq.read_schema(path).names)
            table = pd.read_parquet(path, columns=[c for c in columns if c in present] + _extra(present, columns))
        elif suffix in (".csv", ".tsv"):
            # Keys stay strings: NAS-Bench-Macro's "00000112" must not become the number 112.
            table = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype={"arch": str}, keep_default_na=False, na_values=[""])
        else:
            raise BenchmarkTableError(f"{path.name}: unknown table format {suffix!r}; use .parquet, .csv or .tsv")
    except (OSError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BenchmarkTableError(f"cannot read {what} {path}: {message}") from None
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise BenchmarkTableError(
            f"{what} {path} lacks column(s) {', '.join(absent)}; it has {', '.join(map(str, table.columns))}"
        )
    return table


def _extra(present: set[str], columns: Sequence[str]) -> list[str]:
    """Optional cost columns to read along with the required ones."""
    return [c for c in OPTIONAL_COLUMNS if c in present and c not in columns]


def looks_like_table_file(benchmark: str | Path) -> bool:
    """A ``--benchmark`` value naming a table file rather than a registered benchmark."""
    text = str(benchmark)
    return isinstance(benchmark, Path) or text.lower().endswith(TABLE_SUFFIXES) or "/" in text or "\\" in text


class TableBenchmark(Benchmark):
    """A benchmark read from a user's table file (see the module docstring).

    Args:
        path: the Parquet/CSV/TSV file.
        space: name of the search space that parses its ``arch`` column.
        dataset: dataset the accuracies were measured on (selects the proxies' input batch).
        num_classes: classifier width for that dataset.
        input_size: image size (default: the space's, else 32).
    """

    name = "table"
    space = ""
    dataset = "cifar10"

    def __init__(
        self,
        path: Path | str,
        space: str,
        *,
        dataset: str = "cifar10",
        num_classes: int = 10,
        input_size: int = 32,
    ) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.space = space
        self.dataset = dataset
        self.num_classes = num_classes
        self.input_size = input_size
        self.description = f"user table {self.path.name} on space {space}"

    def load(self, data_root: Path | None = None) -> pd.DataFrame:
        """The table with ``arch`` as strings and ``accuracy`` as floats, plus any cost columns."""
        table = read_table(self.path, REQUIRED_COLUMNS, "benchmark table")
        keep = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in table.columns]
        table = table[keep].copy()
        table["arch"] = table["arch"].astype(str)
        table["accuracy"] = numeric_column(table["accuracy"], "accuracy", self.path)
        return table


def numeric_column(values: pd.Series, column: str, path: Path) -> pd.Series:
    """``values`` as floats; empty cells become NaN (dropped later with a warning).

    Raises:
        BenchmarkTableError: some cells hold text that is not a number (the message quotes
            the first one and its row).
    """
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    text = values.notna() & numbers.isna() & (values.astype(str).str.strip().str.lower() != "nan")
    if text.any():
        row = int(text.to_numpy().nonzero()[0][0])
        raise BenchmarkTableError(
            f"benchmark table {path}: column {column} must hold numbers, but {int(text.sum())} cell(s) do not "
            f"(first: {values.iloc[row]!r} in data row {row + 1}); write plain numbers such as 93.1"
        )
    return numbers


def load_benchmark_table(bench: Benchmark, data_root: str | Path | None) -> pd.DataFrame:
    """The benchmark's table, checked: string ``arch`` keys, unique, finite accuracy.

    Rows without a finite accuracy are dropped with a warning (they cannot be ranked).
    """
    import numpy as np
    import pandas as pd

    table = bench.load(Path(data_root) if data_root is not None else None)
    if not isinstance(table, pd.DataFrame):
        raise ZsbenchError(f"benchmark {bench.name} returned {type(table).__name__}, not a pandas DataFrame")
    absent = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if absent:
        raise ZsbenchError(f"benchmark {bench.name} has no column {', '.join(absent)} (needs arch and accuracy)")
    table = table.reset_index(drop=True)
    keyless = table["arch"].isna().to_numpy() | (table["arch"].astype(str).str.strip() == "").to_numpy()
    if keyless.any():
        raise ZsbenchError(
            f"benchmark {bench.name}: {int(keyless.sum())} row(s) have no architecture key (first: data row "
            f"{int(keyless.nonzero()[0][0]) + 1}); fill in their arch cell or delete those rows"
        )
    table["arch"] = table["arch"].astype(str)
    duplicated = table["arch"][table["arch"].duplicated()]
    if len(duplicated):
        raise ZsbenchError(
            f"benchmark {bench.name}: architecture {duplicated.iloc[0]!r} appears more than once "
            f"({len(duplicated)} duplicate rows); keep one row per architecture"
        )
    accuracy = pd.to_numeric(table["accuracy"], errors="coerce").astype(float)
    finite = np.isfinite(accuracy.to_numpy())
    if not finite.all():
        warnings.warn(
            f"benchmark {bench.name}: dropped {int((~finite).sum())} rows without a finite accuracy", stacklevel=2
        )
    table = table.assign(accuracy=accuracy)[finite].reset_index(drop=True)
    if table.empty:
        raise ZsbenchError(f"benchmark {bench.name} has no architecture with an accuracy")
    return table


__all__ = [
    "BenchmarkTableError",
    "TableBenchmark",
    "data_file",
    "load_benchmark_table",
    "looks_like_table_file",
    "numeric_column",
    "read_table",
]
