"""Noise ceiling and size bias of nbzero-mini tables, against NAS-Bench-Macro.

For every benchmark named on the command line (default: the three nbzero-mini tables of
each version, and NAS-Bench-Macro) prints one row: the number of networks, the Spearman
correlation of accuracy with FLOPs and with params (95 % bootstrap interval), and, where
networks were trained twice, the noise ceiling (Spearman between the two seeds, with its
bootstrap interval), the seed-to-seed RMS difference, the spread of the repeated networks
and the ceiling projected from those two (see ``projected_ceiling``).

    ZSBENCH_DATA=<data-root> python benchmarks/nbzero_mini_study.py
    ZSBENCH_BUILDS=<folder> python benchmarks/nbzero_mini_study.py nbzero-mini-v2-r1

Used for the tables of benchmarks/nbzero-mini.md ("Size bias" and "Noise ceiling").
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from zsbench.builds import repeat_column, retrain_agreement
from zsbench.errors import DataMissingError, UsageError
from zsbench.plugins import PluginHost, get_host

DEFAULT = (
    "nbzero-mini-r1",
    "nbzero-mini-r2",
    "nbzero-mini-mb",
    "nbzero-mini-v2-r1",
    "nbzero-mini-v2-r2",
    "nbzero-mini-v2-mb",
    "nasbench-macro-cifar10",
)
BOOTSTRAP = 2000


def spearman_interval(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Spearman of ``x`` and ``y`` and its 95 % percentile bootstrap interval (resampling pairs,
    ``BOOTSTRAP`` draws): :func:`~zsbench.builds.retrain_agreement`, the interval the
    benchmarks' own ceilings carry, with more draws. No interval (NaN) below
    ``MIN_PAIRS_FOR_INTERVAL`` pairs or when every resample is constant."""
    agreement = retrain_agreement(x, y, bootstrap=BOOTSTRAP, seed=seed)
    rho = agreement["spearman"]
    low, high = agreement["spearman_ci"] or (math.nan, math.nan)
    return (math.nan if rho is None else rho), low, high


def projected_ceiling(first: np.ndarray, second: np.ndarray) -> dict[str, float]:
    """Variance components of two trainings of the same networks.

    ``noise_sd`` is one training's deviation from the network's own mean (RMS difference
    over sqrt 2), ``network_sd`` the spread of the networks' true accuracies (variance of
    the pair means less half the noise variance). Their ratio gives the reliability
    ``network_var / (network_var + noise_var)``: the correlation two seeds are expected to
    reach on networks spread like these, a steadier estimate than a few pairs' Spearman.
    """
    diff = first - second
    noise_var = float(np.mean(diff**2)) / 2.0
    network_var = max(0.0, float(np.var((first + second) / 2.0, ddof=1)) - noise_var / 2.0)
    total = network_var + noise_var
    return {
        "rms": math.sqrt(2.0 * noise_var),
        "noise_sd": math.sqrt(noise_var),
        "network_sd": math.sqrt(network_var),
        "reliability": network_var / total if total > 0 else float("nan"),
    }


def study(name: str, host: PluginHost) -> list[dict[str, Any]]:
    """The table's rows for one benchmark (none when it is not registered or has no data).

    A build that averages ``runs`` trainings per network gets a second row, ``NAME (one
    training)``: its first two training seeds against each other over every network trained
    with both, the reliability of a single training that the mean improves on."""
    try:
        benchmark = host.benchmarks.get(name)
        table = benchmark.load(None)
    except (KeyError, DataMissingError, UsageError):
        return []
    accuracy = table["accuracy"].to_numpy(float)
    row: dict[str, Any] = {"benchmark": name, "networks": len(table)}
    for column in ("flops", "params"):  # undefined below 3 networks
        row[column] = spearman_interval(accuracy, table[column].to_numpy(float)) if len(table) >= 3 else None
    meta = getattr(benchmark, "meta", {}) or {}
    runs = int(meta.get("runs", 1))
    if meta.get("repeat_seed") is not None:  # a build: its own repeat column
        repeat = repeat_column(int(meta["repeat_seed"]), runs)
    else:
        repeat = next((c for c in table.columns if c.startswith("accuracy_seed")), None)
    first = second = None
    rows = [row]
    if runs > 1:
        seed = int(meta.get("train_seed", 0))
        singles = table.dropna(subset=[f"accuracy_seed{seed}", f"accuracy_seed{seed + 1}"])
        single = {"benchmark": f"{name} (one training: seeds {seed}, {seed + 1})", "networks": len(singles),
                  "flops": None, "params": None}
        _add_ceiling(single, singles[f"accuracy_seed{seed}"].to_numpy(float),
                     singles[f"accuracy_seed{seed + 1}"].to_numpy(float))
        rows.append(single)
    if repeat in table.columns:
        pairs = table.dropna(subset=[repeat])
        first, second = pairs["accuracy"].to_numpy(float), pairs[repeat].to_numpy(float)
    elif name == "nasbench-macro-cifar10":  # two of its three single runs
        from zsbench_benchmarks.nasbench_macro import TABLE_PATH

        from zsbench.tables import read_table

        macro = read_table(TABLE_PATH, ("is_canonical", "test_acc_run0", "test_acc_run1"), name)
        macro = macro[macro["is_canonical"].astype(bool)]
        first, second = macro["test_acc_run0"].to_numpy(float), macro["test_acc_run1"].to_numpy(float)
    if first is not None:
        _add_ceiling(row, first, second)
    return rows


def _add_ceiling(row: dict[str, Any], first: np.ndarray, second: np.ndarray) -> None:
    if len(first) >= 3:
        row["pairs"] = len(first)
        row["ceiling"] = spearman_interval(first, second)
        row.update(projected_ceiling(first, second))


def main(names: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    host = get_host()
    out = Table(title="accuracy vs FLOPs / params, and noise ceiling (Spearman, 95 % bootstrap interval)")
    for column in ("benchmark", "networks", "FLOPs", "params", "pairs", "ceiling", "RMS", "noise SD", "net SD", "proj."):
        out.add_column(column)

    def fmt(value: tuple[float, float, float] | None) -> str:
        if value is None:
            return ""
        if math.isnan(value[1]):
            return f"{value[0]:+.2f} (no interval)"
        return f"{value[0]:+.2f} [{value[1]:+.2f}, {value[2]:+.2f}]"

    for row in (row for name in names for row in study(name, host)):
        out.add_row(
            row["benchmark"],
            str(row["networks"]),
            fmt(row["flops"]),
            fmt(row["params"]),
            str(row.get("pairs", "")),
            fmt(row.get("ceiling")),
            f"{row['rms']:.2f}" if "rms" in row else "",
            f"{row['noise_sd']:.2f}" if "rms" in row else "",
            f"{row['network_sd']:.2f}" if "rms" in row else "",
            f"{row['reliability']:.2f}" if "rms" in row else "",
        )
    Console(width=200).print(out)


if __name__ == "__main__":
    main(sys.argv[1:] or list(DEFAULT))
