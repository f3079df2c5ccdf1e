"""Shared pieces of the reproduction studies: scores from zsbench (computed or read from the
cache), Spearman correlations with percentile-bootstrap intervals, and markdown tables.

Every study scores NAS-Bench-201 cells with ``zsbench.evaluate`` (so the score cache makes a
study resumable and shares its scores with ``zsbench evaluate`` runs of the same settings),
then correlates the scores with columns of the shipped NAS-Bench-201 table itself, so that
the ground truth can be the one the paper used.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import zsbench

BOOTSTRAP = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Correlation:
    """A Spearman correlation with its percentile-bootstrap interval over ``n`` pairs."""

    value: float
    low: float
    high: float
    n: int


def spearman_interval(x: Sequence[float], y: Sequence[float], *, bootstrap: int = BOOTSTRAP, seed: int = 0) -> Correlation:
    """Spearman's rho of the finite pairs of ``x`` and ``y`` and its 95 % percentile-bootstrap
    interval (``bootstrap`` resamples of the pairs, seeded); NaN when fewer than 3 pairs."""
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x_arr) & np.isfinite(y_arr)
    x_arr, y_arr = x_arr[keep], y_arr[keep]
    n = len(x_arr)
    if n < 3:
        return Correlation(float("nan"), float("nan"), float("nan"), n)
    value = float(stats.spearmanr(x_arr, y_arr).statistic)
    if bootstrap <= 0:
        return Correlation(value, float("nan"), float("nan"), n)
    rng = np.random.default_rng(seed)
    draws = np.empty(bootstrap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)  # a resample of tied values: NaN, dropped below
        for b in range(bootstrap):
            index = rng.integers(0, n, size=n)
            draws[b] = stats.spearmanr(x_arr[index], y_arr[index]).statistic
    draws = draws[np.isfinite(draws)]
    alpha = (1 - CONFIDENCE) / 2
    low, high = (np.quantile(draws, [alpha, 1 - alpha]) if len(draws) else (np.nan, np.nan))
    return Correlation(value, float(low), float(high), n)


def nb201_ground_truth() -> pd.DataFrame:
    """The shipped NAS-Bench-201 table (all columns), indexed by cell string."""
    from zsbench_benchmarks.nb201 import nb201_table

    return nb201_table().set_index("arch_str")


def score_cells(
    proxies: Sequence[str],
    benchmark: str | Path,
    *,
    limit: int | None,
    cache: str | Path | None,
    cached_only: bool,
    batch: zsbench.Batch | None = None,
    space: str | None = None,
    data_root: str | Path | None = None,
) -> tuple[pd.DataFrame, str]:
    """Scores of ``proxies`` on the benchmark's cells (``limit``: zsbench's seeded sample, seed 0).

    Returns ``(scores, input_source)``: one row per cell, ``arch`` and one column per proxy
    (oriented so that higher means better: a lower-is-better proxy is negated), NaN where the
    proxy failed or, with ``cached_only``, where the cache has no score yet.
    """
    host = zsbench.get_host()
    entries = host.proxies.select_entries(",".join(proxies))
    if cached_only:
        frame, source = _cached_scores(host, entries, benchmark, limit=limit, cache=cache, batch=batch, space=space, data_root=data_root)
    else:
        result = zsbench.evaluate(
            ",".join(proxies),
            benchmark,
            metrics="spearman",
            pool=zsbench.PoolOptions(space=space, limit=limit, data_root=data_root),
            scoring=zsbench.ScoringOptions(batch=batch),
            run=zsbench.RunOptions(cache=cache),
            indices=zsbench.IndexOptions(bootstrap=0),
            progress=True,
        )
        columns = {e.obj.name: _score_column(result.scores, e.obj.name) for e in entries}
        frame = pd.DataFrame({"arch": result.scores["arch"], **columns})
        source = batch.source if batch is not None else _batch_for(host, benchmark, space, data_root).source
    for entry in entries:
        if not entry.obj.higher_is_better:
            frame[entry.obj.name] = -frame[entry.obj.name]
    return frame, source


def _score_column(scores: pd.DataFrame, name: str) -> pd.Series:
    # The cost proxies flops/params/depth share their names with the cost columns.
    return scores[f"proxy:{name}"] if f"proxy:{name}" in scores.columns else scores[name]


def _batch_for(host: Any, benchmark: str | Path, space: str | None, data_root: str | Path | None) -> zsbench.Batch:
    import warnings

    from zsbench.engine.evaluation import make_batch, resolve_benchmark

    bench = resolve_benchmark(host, benchmark, space)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # evaluate already warned about Gaussian inputs
        return make_batch(bench, batch_size=64, seed=0, data_root=data_root)


def _cached_scores(
    host: Any,
    entries: list[Any],
    benchmark: str | Path,
    *,
    limit: int | None,
    cache: str | Path | None,
    batch: zsbench.Batch | None,
    space: str | None,
    data_root: str | Path | None,
) -> tuple[pd.DataFrame, str]:
    """What ``zsbench.evaluate`` would return, read from the cache and the score packs only (a study
    still running)."""
    from zsbench.engine.cache import ScoreCache
    from zsbench.engine.evaluation import resolve_benchmark, sample_rows, score_contract_key
    from zsbench.engine.packs import layer_of
    from zsbench.settings import use_packs
    from zsbench.tables import load_benchmark_table

    bench = resolve_benchmark(host, benchmark, space)
    space_obj = host.spaces.get(bench.space)
    table = load_benchmark_table(bench, data_root)
    table = table.iloc[sample_rows(len(table), limit, 0)].reset_index(drop=True)
    batch = batch if batch is not None else _batch_for(host, benchmark, space, data_root)
    archs = [space_obj.canonical(key) for key in table["arch"]]
    frame = pd.DataFrame({"arch": table["arch"]})
    packs = layer_of(host) if use_packs() else None
    with ScoreCache(cache) as store:
        for entry in entries:
            key = (space_obj.name, archs, entry.obj.name, entry.obj.version, score_contract_key(entry.obj, batch, 0, "cpu", bench))
            found = {a: record for a, (record, _) in packs.get_scores(*key).items()} if packs is not None else {}
            found.update(store.get_scores(*key))  # the cache first, as evaluate reads them
            frame[entry.obj.name] = [
                found[a].value if a in found and found[a].value is not None else np.nan for a in archs
            ]
    return frame, batch.source


def fmt(value: float, digits: int = 3) -> str:
    """A number for a table cell (``n/a`` for NaN)."""
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def interval(c: Correlation) -> str:
    """``[low, high]`` of a correlation's interval."""
    return f"[{fmt(c.low)}, {fmt(c.high)}]"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(path: str | Path | None, text: str) -> None:
    """Print the report and write it to ``path`` (when given)."""
    print(text)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text + "\n")


def run_stamp(script: str, argv: Sequence[str]) -> str:
    """The line every report ends with: the command that made it (absolute paths shown as
    ``<path>``), zsbench's version, the date."""
    shown = ["<path>" if Path(a).is_absolute() else a for a in argv]
    day = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")
    return f"Made by `python benchmarks/repro/{script} {' '.join(shown)}` with zsbench {zsbench.__version__} on {day}."
