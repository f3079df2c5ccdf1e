"""Per-architecture score tables, the input of every study after scoring (hybrids, analyses).

A :class:`ScoreTable` is the frame :func:`zsbench.evaluate` returns as ``result.scores`` (or
writes with ``--output``): columns ``arch``, ``accuracy``, the costs ``flops``, ``params``,
``depth``, and one column per proxy. It knows each proxy column's declared direction, taken
from the installed proxy object (never assumed), or given by the user for a column that no
installed proxy computes.

Two ways to get one, neither recomputing a cached score:

- :func:`scores_from_benchmark`: through :func:`zsbench.evaluate` and its cache (only what is
  missing is computed);
- :func:`scores_from_file`: a file written by ``zsbench evaluate --output`` (or by hand, in
  the same format), with ``--space`` naming the space its ``arch`` keys belong to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.errors import UnknownComponentError, UsageError, ZsbenchError
from zsbench.plugins import PluginHost, get_host

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

COST_COLUMNS = ("flops", "params", "depth")
FIXED_COLUMNS = ("arch", "accuracy", *COST_COLUMNS)
#: prefix of a proxy column whose name is taken by a fixed column (see ``zsbench.engine.evaluation.score_column``)
PROXY_PREFIX = "proxy:"


@dataclass
class ScoreTable:
    """Scores of one population of architectures, with the directions of its proxies.

    Attributes:
        frame: one row per architecture (``arch``, ``accuracy``, costs, proxy columns).
        directions: proxy column -> ``higher_is_better``.
        benchmark: where the accuracies come from (a benchmark name or a file name).
        space: the search space's name (``None`` when unknown).
        failures: proxy column -> number of architectures it failed on (NaN scores).
    """

    frame: pd.DataFrame
    directions: dict[str, bool]
    benchmark: str
    space: str | None = None
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def proxies(self) -> list[str]:
        """The proxy columns, in table order."""
        return [c for c in self.frame.columns if c in self.directions]

    @property
    def accuracy(self) -> np.ndarray:
        """Ground-truth accuracy, one per architecture."""
        return self.frame["accuracy"].to_numpy(dtype=float)

    def costs(self) -> pd.DataFrame:
        """The cost columns present (``flops``, ``params``, ``depth``), index reset."""
        present = [c for c in COST_COLUMNS if c in self.frame.columns]
        return self.frame[present].reset_index(drop=True)

    def label(self, column: str) -> str:
        """The proxy's name as users type it (``proxy:flops`` -> ``flops``)."""
        return column[len(PROXY_PREFIX) :] if column.startswith(PROXY_PREFIX) else column

    def column(self, name: str) -> str:
        """The column holding proxy ``name`` (its own name or ``proxy:<name>``).

        Raises:
            UsageError: no such proxy in the table.
        """
        for candidate in (name, f"{PROXY_PREFIX}{name}"):
            if candidate in self.directions:
                return candidate
        raise UsageError(f"{self.benchmark} has no scores of {name!r}; it has {', '.join(self.label(c) for c in self.proxies) or 'none'}")


def scores_from_benchmark(
    proxies: str | Sequence[str],
    benchmark: str | Path | None,
    *,
    host: PluginHost | None = None,
    space: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    score_seed: int = 0,
    batch_size: int | None = None,
    device: str = "cpu",
    data_root: str | Path | None = None,
    cache: Any = None,
    progress: bool = False,
) -> ScoreTable:
    """Scores of ``proxies`` on ``benchmark`` through the cached engine (:func:`zsbench.evaluate`):
    scores already in the cache are read, missing ones computed and stored. The options mean
    what they mean for :func:`zsbench.evaluate` (same defaults, so the same cache entries)."""
    from zsbench.engine.evaluation import IndexOptions, PoolOptions, RunOptions, ScoringOptions, evaluate

    host = host if host is not None else get_host()
    scoring = ScoringOptions(score_seed=score_seed, device=device, **({"batch_size": batch_size} if batch_size else {}))
    result = evaluate(
        proxies,
        benchmark,
        # no index is needed here: one keeps evaluate from computing them all
        metrics=host.metrics.names()[:1] or "all",
        pool=PoolOptions(space=space, limit=limit, seed=seed, data_root=data_root),
        scoring=scoring,
        run=RunOptions(cache=cache),
        indices=IndexOptions(bootstrap=0),
        host=host,
        progress=progress,
    )
    return table_from_result(result, proxies, host=host)


def table_from_result(result: Any, proxies: str | Sequence[str], *, host: PluginHost | None = None) -> ScoreTable:
    """The :class:`ScoreTable` of an :class:`~zsbench.engine.evaluation.EvaluationResult` scored with
    the proxy selection ``proxies`` (their directions read from the installed proxies)."""
    host = host if host is not None else get_host()
    entries = host.proxies.select_entries(proxies)
    frame = result.scores
    directions = {}
    for entry in entries:
        for candidate in (entry.qualified_name, entry.obj.name, f"{PROXY_PREFIX}{entry.obj.name}", f"{PROXY_PREFIX}{entry.qualified_name}"):
            if candidate in frame.columns and candidate not in FIXED_COLUMNS:
                directions[candidate] = bool(entry.obj.higher_is_better)
                break
    return _finish(frame, directions, str(result.benchmark), result.space)


def scores_from_file(
    path: str | Path,
    *,
    space: str | None = None,
    directions: Mapping[str, bool] | None = None,
    host: PluginHost | None = None,
) -> ScoreTable:
    """A score table from a ``.parquet`` or ``.csv`` file written by ``zsbench evaluate --output``.

    Every column besides ``arch``, ``accuracy`` and the costs is a proxy. Its direction is
    the installed proxy's of the same name (``proxy:flops`` is the proxy ``flops``), unless
    ``directions`` gives it; a column matching neither is an error naming the fix.

    Args:
        path: the file.
        space: the search space of the ``arch`` keys (checked to be installed; needed for
            architecture features and for costs the file lacks).
        directions: column (or proxy name) -> ``higher_is_better``, for proxies that are not installed.
        host: plugin host (default: the process-wide one).
    """
    import pandas as pd

    host = host if host is not None else get_host()
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"--scores {str(source)!r} is not a file; write one with zsbench evaluate --output FILE")
    suffix = source.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(source)
    elif suffix in (".csv", ".tsv"):
        frame = pd.read_csv(source, sep="\t" if suffix == ".tsv" else ",")
    else:
        raise UsageError(f"--scores must be a .parquet or .csv file, got {source.name!r}")
    absent = [c for c in ("arch", "accuracy") if c not in frame.columns]
    if absent:
        raise UsageError(f"{source.name} has no column {', '.join(absent)}; a score file needs arch, accuracy and proxy columns")
    space_obj = None
    if space is not None:
        space_obj = host.spaces.get(space)
    given = dict(directions or {})
    found: dict[str, bool] = {}
    for column in frame.columns:
        if column in FIXED_COLUMNS:
            continue
        name = column[len(PROXY_PREFIX) :] if column.startswith(PROXY_PREFIX) else column
        if column in given or name in given:
            found[column] = bool(given.get(column, given.get(name)))
            continue
        try:
            found[column] = bool(host.proxies.get(name).higher_is_better)
        except UnknownComponentError:
            raise UsageError(
                f"{source.name}: column {column!r} is no installed proxy, so its direction is unknown; "
                f"pass --direction {name}=higher (or =lower)"
            ) from None
    frame = frame.copy()
    frame["arch"] = frame["arch"].astype(str)
    for column in ("accuracy", *found):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    missing_costs = [c for c in COST_COLUMNS if c not in frame.columns or frame[c].isna().any()]
    if missing_costs and space_obj is not None:
        frame = _fill_costs(frame, space_obj, missing_costs)
    frame = frame[frame["accuracy"].notna()].reset_index(drop=True)
    if frame.empty:
        raise ZsbenchError(f"{source.name} has no architecture with an accuracy")
    # named after the file's stem: a file written as <benchmark>.parquet reads as that benchmark
    return _finish(frame, found, source.stem, space_obj.name if space_obj is not None else None)


def parse_directions(pairs: Sequence[str] | str | None) -> dict[str, bool]:
    """``["myscore=higher", "loss=lower"]`` (or one comma string) -> ``{"myscore": True, "loss": False}``."""
    if not pairs:
        return {}
    items = pairs.split(",") if isinstance(pairs, str) else [p for item in pairs for p in item.split(",")]
    result: dict[str, bool] = {}
    for item in items:
        name, _, word = item.strip().partition("=")
        if not name or word not in ("higher", "lower"):
            raise UsageError(f"--direction takes NAME=higher or NAME=lower, got {item!r}")
        result[name] = word == "higher"
    return result


def _fill_costs(frame: pd.DataFrame, space_obj: Any, missing: Sequence[str]) -> pd.DataFrame:
    import numpy as np

    values = {c: frame[c].to_numpy(dtype=float) if c in frame.columns else np.full(len(frame), np.nan) for c in missing}
    for row, arch in enumerate(frame["arch"]):
        if all(np.isfinite(values[c][row]) for c in missing):
            continue
        cost = space_obj.cost(arch)
        for c in missing:
            if not np.isfinite(values[c][row]):
                values[c][row] = float(getattr(cost, c))
    return frame.assign(**values)


def _finish(frame: pd.DataFrame, directions: dict[str, bool], benchmark: str, space: str | None) -> ScoreTable:
    failures = {column: int(frame[column].isna().sum()) for column in directions}
    return ScoreTable(frame=frame.reset_index(drop=True), directions=directions, benchmark=benchmark, space=space, failures=failures)


__all__ = ["COST_COLUMNS", "ScoreTable", "parse_directions", "scores_from_benchmark", "scores_from_file", "table_from_result"]
