"""Computing indices for an evaluation: their order, their options, and bootstrap intervals.

Nothing here names an index: each :class:`~zsbench.Metric` declares its place
(``order``), its options (``options``) and the role of each companion entry it returns
(``companions``, see :meth:`~zsbench.Metric.entry_role`); this module only follows them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zsbench.errors import UsageError, describe_error
from zsbench.interfaces import Metric, MetricInput

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from zsbench.registry import Entry

DEFAULT_CONFIDENCE = 0.95
#: How intervals are computed (recorded in every run's settings).
INTERVAL_METHOD = "BCa bootstrap"
#: Jackknife subsets at most for the BCa acceleration (see :func:`jackknife_groups`).
MAX_JACKKNIFE_GROUPS = 100
#: Roles of the entries that get a bootstrap interval.
INTERVAL_ROLES = ("index", "estimate")


def order_metrics(entries: Sequence[Entry[Metric]]) -> list[Entry[Metric]]:
    """Indices in their declared ``order`` (ties, and undeclared ones, by name)."""
    return sorted(entries, key=lambda e: (getattr(e.obj, "order", 1000), e.obj.name))


def resolve_options(
    metrics: Sequence[Metric],
    shared: Mapping[str, Any] | None = None,
    per_metric: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every index's options, parsed: its declared defaults, then ``shared`` values (given to
    every index that declares the key, e.g. ``{"k": "0.01"}``), then ``per_metric[name]``.

    Raises:
        UsageError: an option for an index that is not selected, a key the index does not
            declare (the message lists those it does), or a value its parser rejects.
    """
    by_name = {metric.name: metric for metric in metrics}
    for name in per_metric or {}:
        if name not in by_name:
            raise UsageError(
                f"--metric-option names index {name!r}, which is not selected "
                f"(selected: {', '.join(by_name) or 'none'})"
            )
    resolved: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        declared = {option.key: option for option in getattr(metric, "options", ())}
        given: dict[str, Any] = {key: value for key, value in (shared or {}).items() if key in declared}
        for key, value in (per_metric or {}).get(metric.name, {}).items():
            if key not in declared:
                known = ", ".join(declared) or "none"
                raise UsageError(
                    f"index {metric.name!r} has no option {key!r} (its options: {known}; see zsbench metrics {metric.name})"
                )
            given[key] = value
        options = {key: option.default for key, option in declared.items()}
        for key, value in given.items():
            try:
                options[key] = declared[key].parse(value)
            except (TypeError, ValueError) as exc:
                raise UsageError(f"option {metric.name}.{key}={value!r}: {exc}") from None
        resolved[metric.name] = options
    return resolved


def parse_option_assignments(texts: Sequence[str]) -> dict[str, dict[str, str]]:
    """``["br_at_k.k=0.01,0.05", "mbr_flops.budgets=10"]`` -> ``{"br_at_k": {"k": "0.01,0.05"}, ...}``.

    Raises:
        UsageError: an assignment not of the form ``NAME.KEY=VALUE``.
    """
    parsed: dict[str, dict[str, str]] = {}
    for text in texts:
        target, sep, value = text.partition("=")
        name, dot, key = target.strip().rpartition(".")
        if not sep or not dot or not name or not key:
            raise UsageError(f"--metric-option takes NAME.KEY=VALUE (e.g. br_at_k.k=0.01,0.05), got {text!r}")
        parsed.setdefault(name, {})[key.strip()] = value.strip()
    return parsed


def jackknife_groups(n: int, groups: int = MAX_JACKKNIFE_GROUPS) -> list[np.ndarray]:
    """Index arrays of the jackknife that estimates the BCa acceleration: leave one
    architecture out when ``n <= groups``, else leave out one of ``groups`` near-equal blocks
    of a fixed permutation (the delete-a-group jackknife; it estimates the same acceleration
    at a cost that does not grow with ``n``)."""
    import numpy as np

    if n < 3:
        return []
    if n <= groups:
        return [np.delete(np.arange(n), i) for i in range(n)]
    # fixed seed: the groups do not follow the table's order, and every call agrees
    blocks = np.array_split(np.random.default_rng(0).permutation(n), groups)
    return [np.sort(np.setdiff1d(np.arange(n), block, assume_unique=True)) for block in blocks]


def bca_bounds(point: float, draws: np.ndarray, jackknife: np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """The bias-corrected and accelerated (BCa) bootstrap interval (Efron 1987).

    ``draws`` are the statistic on the bootstrap resamples, ``jackknife`` on the jackknife
    subsets (:func:`jackknife_groups`); non-finite values are dropped. The bias correction
    ``z0`` counts the draws below the point estimate and half of those equal to it (a
    mid-rank), so that a discrete statistic whose draws often equal the estimate (a best
    rank, a share of K) is not pushed to one side; it is clipped to ``1/(2B)`` from 0 and 1.
    The acceleration is 0 when the jackknife values do not vary. Every draw equal: that
    value, twice.
    """
    import numpy as np
    from scipy.special import ndtr, ndtri

    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    if draws.size == 0 or not np.isfinite(point):
        return float("nan"), float("nan")
    if np.ptp(draws) == 0:
        return float(draws[0]), float(draws[0])
    below = (np.count_nonzero(draws < point) + 0.5 * np.count_nonzero(draws == point)) / draws.size
    below = min(max(below, 0.5 / draws.size), 1 - 0.5 / draws.size)
    z0 = float(ndtri(below))
    values = np.asarray(jackknife, dtype=float)
    values = values[np.isfinite(values)]
    acceleration = 0.0
    if values.size >= 3:
        spread = values.mean() - values
        denominator = 6.0 * float(np.sum(spread**2)) ** 1.5
        if denominator > 0:
            acceleration = float(np.sum(spread**3)) / denominator
    tail = (1 - confidence) / 2
    z = ndtri(np.array([tail, 1 - tail]))
    shifted = z0 + z
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = ndtr(z0 + shifted / (1 - acceleration * shifted))
    levels = np.nan_to_num(levels, nan=0.5, posinf=1.0, neginf=0.0)
    low, high = np.quantile(draws, np.clip(levels, 0.0, 1.0))
    return float(low), float(high)


def compute_with_interval(
    metric: Metric,
    data: MetricInput,
    resamples: np.ndarray | None,
    confidence: float = DEFAULT_CONFIDENCE,
    resampled_costs: Sequence[pd.DataFrame] | None = None,
    jackknife: Sequence[np.ndarray] | None = None,
    jackknife_costs: Sequence[pd.DataFrame] | None = None,
) -> dict[str, float]:
    """An index's entries plus ``<entry>/ci_low`` and ``<entry>/ci_high`` for the entries
    whose role is ``index`` or ``estimate`` (the index itself and, e.g., its value at a
    second K); companions of other roles get none.

    The interval is the BCa bootstrap over architectures (:func:`bca_bounds`):
    ``metric.compute`` is called again on each resample (rows of ``resamples`` are index
    arrays) and on each jackknife subset (``jackknife``, default :func:`jackknife_groups`).
    The percentile bootstrap, used before, misses a biased or discrete statistic's value
    (best ranks, mBR, P@K at small K) on one side; BCa corrects for that bias and skew.
    A metric that raises yields NaN entries and a warning instead of stopping the evaluation.
    ``resampled_costs`` and ``jackknife_costs``, when given, hold ``data.costs`` already
    taken by each resample and each jackknife subset.
    """
    import numpy as np

    try:
        point = metric.compute(data)
    except Exception as exc:
        warnings.warn(f"index {metric.name} failed: {describe_error(exc)}", stacklevel=2)
        return {metric.name: float("nan")}
    result = {key: float(value) for key, value in point.items()}
    if resamples is None or len(resamples) == 0:
        return result
    estimates = [key for key in point if metric.entry_role(key) in INTERVAL_ROLES]

    def values_on(indices: np.ndarray, costs: pd.DataFrame | None) -> dict[str, float]:
        sample = MetricInput(
            scores=data.scores[indices],
            accuracy=data.accuracy[indices],
            higher_is_better=data.higher_is_better,
            costs=costs,
            options=data.options,
        )
        try:
            return metric.compute(sample)
        except Exception:
            return {}

    def subset_costs(indices: np.ndarray) -> pd.DataFrame | None:
        return None if data.costs is None else data.costs.iloc[indices].reset_index(drop=True)

    draws: dict[str, list[float]] = {key: [] for key in estimates}
    for number, indices in enumerate(resamples):
        costs = resampled_costs[number] if resampled_costs is not None and data.costs is not None else subset_costs(indices)
        values = values_on(indices, costs)
        for key in estimates:
            draws[key].append(float(values.get(key, float("nan"))))
    subsets = jackknife_groups(len(data.accuracy)) if jackknife is None else jackknife
    leave_out: dict[str, list[float]] = {key: [] for key in estimates}
    for number, indices in enumerate(subsets):
        known = jackknife_costs is not None and jackknife is not None and data.costs is not None
        values = values_on(indices, jackknife_costs[number] if known else subset_costs(indices))
        for key in estimates:
            leave_out[key].append(float(values.get(key, float("nan"))))
    for key in estimates:
        low, high = bca_bounds(result[key], np.asarray(draws[key]), np.asarray(leave_out[key]), confidence)
        result[f"{key}/ci_low"] = low
        result[f"{key}/ci_high"] = high
    return result


def entry_labels(metrics: Sequence[Metric], columns: Sequence[str]) -> dict[str, str]:
    """For every summary column an index produced (interval bounds aside): its label, what it
    is for (see :meth:`~zsbench.Metric.entry_label`)."""
    labels: dict[str, str] = {}
    for metric in metrics:
        for column in columns:
            if column.endswith(("/ci_low", "/ci_high")):
                continue
            if column == metric.name or column.startswith(f"{metric.name}/"):
                labels[column] = metric.entry_label(column)
    return labels


def entry_roles(metrics: Sequence[Metric], columns: Sequence[str]) -> dict[str, tuple[str, str]]:
    """For every summary column an index produced: ``(index name, role)``; interval columns
    (``/ci_low``, ``/ci_high``) are left out."""
    roles: dict[str, tuple[str, str]] = {}
    for metric in metrics:
        for column in columns:
            if column.endswith(("/ci_low", "/ci_high")):
                continue
            if column == metric.name or column.startswith(f"{metric.name}/"):
                roles[column] = (metric.name, metric.entry_role(column))
    return roles


__all__ = [
    "DEFAULT_CONFIDENCE",
    "INTERVAL_METHOD",
    "MAX_JACKKNIFE_GROUPS",
    "bca_bounds",
    "compute_with_interval",
    "entry_labels",
    "entry_roles",
    "jackknife_groups",
    "order_metrics",
    "parse_option_assignments",
    "resolve_options",
]
