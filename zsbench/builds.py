"""Benchmark tables made by ``zsbench build`` and the :class:`BuiltBenchmark` that reads them.

A build named ``NAME`` in folder ``OUT`` leaves three files:

- ``OUT/NAME.jsonl``: every training record (the source of truth, used to resume);
- ``OUT/NAME.csv``: the benchmark table, one row per architecture trained with the
  build's seed(s): ``arch``, ``accuracy`` (official test split, percent; the mean when a
  build averages several trainings per network), ``valid_accuracy`` (NAS-valid split,
  percent), ``flops``, ``params``, ``depth``, ``train_seconds``, ``accuracy_seed<S>`` for
  each averaged training, and the repeat column (:func:`repeat_column`) for architectures
  trained again with other seeds (the noise ceiling);
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


def repeat_column(repeat_seed: int, runs: int = 1) -> str:
    """The table column of the retrained networks' accuracy: ``accuracy_seed<R>`` for single
    trainings, ``accuracy_seeds<R>-<R+runs-1>`` (the mean of the repeat set) when ``runs``
    trainings are averaged."""
    return f"accuracy_seed{repeat_seed}" if runs <= 1 else f"accuracy_seeds{repeat_seed}-{repeat_seed + runs - 1}"


def make_table(
    records: list[dict[str, Any]], archs: list[str], train_seed: int, repeat_seed: int | None, runs: int = 1
) -> list[dict[str, Any]]:
    """Rows of the benchmark table, in pool order, for the architectures done with every training seed.

    With ``runs`` > 1 each network is trained with seeds ``train_seed`` to ``train_seed +
    runs - 1``: ``accuracy`` and ``valid_accuracy`` are their means, ``train_seconds`` their
    sum, ``accuracy_seed<S>`` each training's test accuracy; the repeat column (see
    :func:`repeat_column`) is the mean over seeds ``repeat_seed`` to ``repeat_seed + runs - 1``,
    present once all of them are done.
    """
    by_arch_seed: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        if record.get("status") == "ok":
            by_arch_seed.setdefault((record["arch"], int(record["seed"])), record)
    runs = max(1, int(runs))
    rows = []
    for arch in archs:
        trained = [by_arch_seed.get((arch, train_seed + i)) for i in range(runs)]
        if any(t is None for t in trained):
            continue
        first = trained[0]
        row = {
            "arch": arch,
            "accuracy": _mean([t["test_accuracy"] for t in trained]),
            "valid_accuracy": _mean([t["valid_accuracy"] for t in trained]),
            "flops": first["flops"],
            "params": first["params"],
            "depth": first["depth"],
            "train_seconds": round(sum(float(t.get("train_seconds", float("nan"))) for t in trained), 2),
        }
        if runs > 1:
            row.update({f"accuracy_seed{train_seed + i}": t["test_accuracy"] for i, t in enumerate(trained)})
        if repeat_seed is not None:
            repeats = [by_arch_seed.get((arch, repeat_seed + i)) for i in range(runs)]
            done = None not in repeats
            row[repeat_column(repeat_seed, runs)] = _mean([r["test_accuracy"] for r in repeats]) if done else None
        rows.append(row)
    return rows


def table_columns(train_seed: int, repeat_seed: int | None, runs: int = 1) -> list[str]:
    """The CSV columns of a build (see :func:`make_table`)."""
    columns = list(TABLE_COLUMNS)
    if runs > 1:
        columns += [f"accuracy_seed{train_seed + i}" for i in range(runs)]
    if repeat_seed is not None:
        columns.append(repeat_column(repeat_seed, runs))
    return columns


def _mean(values: list[float]) -> float:
    """The mean; a single value is returned as it is (so single-training tables keep their exact values)."""
    return values[0] if len(values) == 1 else round(sum(float(v) for v in values) / len(values), 4)


def noise_ceiling(rows: list[dict[str, Any]], repeat_seed: int | None, runs: int = 1) -> dict[str, Any]:
    """Spearman and Kendall correlation between the table's accuracy and the repeat set's,
    over the networks trained with both (see :func:`retrain_agreement`).

    With ``runs`` > 1 both sides are means of ``runs`` trainings, so this measures the
    reliability of the table's accuracy itself, not of one training. Returns
    ``{"pairs": 0, ...}`` without a repeat seed.
    """
    if repeat_seed is None:
        return {"pairs": 0, "spearman": None, "kendall": None}
    column = repeat_column(repeat_seed, runs)
    repeated = [r for r in rows if r.get(column) is not None]
    return retrain_agreement([r["accuracy"] for r in repeated], [r[column] for r in repeated])


#: Fewest retrained networks for which :func:`retrain_agreement` gives a bootstrap interval.
MIN_PAIRS_FOR_INTERVAL = 8


def retrain_agreement(
    first: Sequence[float],
    second: Sequence[float],
    *,
    runs_averaged: int = 1,
    bootstrap: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """How well two trainings of the same networks agree, and what that allows a proxy.

    Returns ``{"pairs": n, "spearman": rho, "kendall": tau, "spearman_ci": [low, high],
    "runs_averaged": k, "bound": b, "bound_ci": [low, high]}``, rounded to 4 digits:

    - ``spearman_ci``: 95 % percentile-bootstrap interval of rho over the networks
      (``bootstrap`` resamples, seeded); with 30 pairs it is wide. ``None`` below
      :data:`MIN_PAIRS_FOR_INTERVAL` pairs: so few networks have few distinct resamples, and
      4 that agree give the interval [1, 1], a certainty the data cannot carry.
    - ``bound``: the highest correlation a proxy can be expected to reach with the
      benchmark's accuracy, about the square root of that accuracy's test-retest reliability
      (attenuation: a proxy is compared with a noisy measurement, not with the true
      quality). When the accuracy is the mean of ``runs_averaged`` trainings, its reliability
      is the Spearman-Brown value ``k rho / (1 + (k - 1) rho)``. ``bound_ci`` maps the
      interval's ends the same way.

    Values are ``None`` with fewer than 3 pairs or when a correlation is undefined
    (constant values); the bound is ``None`` unless rho is positive.
    """
    empty = {"pairs": len(first), "spearman": None, "kendall": None, "spearman_ci": None,
             "runs_averaged": runs_averaged, "bound": None, "bound_ci": None}
    if len(first) < 3:
        return empty
    import warnings

    import numpy as np
    from scipy import stats

    x, y = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    rho = float(stats.spearmanr(x, y).statistic)
    tau = float(stats.kendalltau(x, y).statistic)
    if math.isnan(rho):
        return {**empty, "kendall": None if math.isnan(tau) else round(tau, 4)}
    interval = None
    if bootstrap > 0 and len(x) >= MIN_PAIRS_FOR_INTERVAL:
        rng = np.random.default_rng(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            draws = np.array([stats.spearmanr(x[i], y[i]).statistic for i in (rng.integers(0, len(x), len(x)) for _ in range(bootstrap))])
        draws = draws[np.isfinite(draws)]
        if len(draws):
            interval = [round(float(v), 4) for v in np.quantile(draws, [0.025, 0.975])]
    bound = correlation_bound(rho, runs_averaged)
    return {
        "pairs": len(first),
        "spearman": round(rho, 4),
        "kendall": None if math.isnan(tau) else round(tau, 4),
        "spearman_ci": interval,
        "runs_averaged": runs_averaged,
        "bound": None if bound is None else round(bound, 4),
        "bound_ci": None if interval is None else [_rounded(correlation_bound(v, runs_averaged)) for v in interval],
    }


def correlation_bound(test_retest: float, runs_averaged: int = 1) -> float | None:
    """About the highest correlation a proxy can reach with an accuracy whose single
    trainings correlate ``test_retest`` with each other, the accuracy being the mean of
    ``runs_averaged`` of them: ``sqrt(k r / (1 + (k - 1) r))``; ``None`` unless ``r > 0``."""
    if test_retest is None or not test_retest > 0:
        return None
    k = max(1, int(runs_averaged))
    return math.sqrt(k * test_retest / (1 + (k - 1) * test_retest))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def write_table(path: Path, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Write the CSV with ``columns`` (see :func:`table_columns`) atomically (a kill never
    leaves half a table)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
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
        runs = int(meta.get("runs", 1))
        details = [f"{done} networks" + (f", each the mean of {runs} trainings" if runs > 1 else "")]
        if meta.get("pool_max_flops"):
            details.append(f"<= {float(meta['pool_max_flops']) / 1e6:g} M MACs at 32x32")
        ceiling = meta.get("noise_ceiling") or {}
        if ceiling.get("spearman") is not None:
            shown = f"noise ceiling Spearman {ceiling['spearman']:.2f}"
            span = ceiling.get("spearman_ci")
            if span and None not in span:
                shown += f" [{span[0]:.2f}, {span[1]:.2f}]"
            details.append(f"{shown} over {ceiling.get('pairs')} retrained")
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

    def caveat(self) -> str | None:
        """For a build that is not complete: how far it is, and that its indices will move."""
        if self.meta.get("complete"):
            return None
        done, pool = self.meta.get("networks_done", "?"), self.meta.get("pool_size", "?")
        resume = self.meta.get("command")
        return (
            f"{self.name} is a partial build: {done} of {pool} networks trained so far, so these indices "
            "describe those networks and will move as the build goes on"
            + (f" (resume it with: {resume})" if resume else "")
        )

    def noise_ceiling(self, data_root: Path | None = None) -> dict[str, Any] | None:
        """The build's measured noise ceiling: Spearman and Kendall between the test
        accuracies of the networks trained with both seeds (both seed sets, for a build that
        averages several trainings per network), with the interval and the bound of
        :func:`retrain_agreement` (``None`` below 3 pairs)."""
        ceiling = self.meta.get("noise_ceiling") or {}
        if int(ceiling.get("pairs") or 0) < 3 or ceiling.get("spearman") is None:
            return None
        if self.meta.get("repeat_seed") is None:  # a hand-made metadata file: its stored values as they are
            return dict(ceiling)
        train_seed, repeat_seed = int(self.meta.get("train_seed", 0)), int(self.meta["repeat_seed"])
        runs = int(self.meta.get("runs", 1))
        column = repeat_column(repeat_seed, runs)
        if runs == 1:
            what = f"test accuracy of {{pairs}} networks trained with seeds {train_seed} and {repeat_seed}"
        else:
            what = (
                f"test accuracy, the mean of {runs} trainings, of {{pairs}} networks trained with seeds "
                f"{train_seed}-{train_seed + runs - 1} and again with seeds {repeat_seed}-{repeat_seed + runs - 1}"
            )
        measured = dict(ceiling)
        try:
            import pandas as pd

            frame = pd.read_csv(self.table, usecols=["accuracy", column]).dropna()
            if len(frame) >= 3:
                measured = retrain_agreement(frame["accuracy"].tolist(), frame[column].tolist())
        except (OSError, ValueError, KeyError):  # an old table without the repeat column: the stored values
            pass
        return {**measured, "trainings_per_side": runs, "note": what.format(pairs=measured["pairs"])}


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
