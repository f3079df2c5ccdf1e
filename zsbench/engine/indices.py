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


def compute_with_interval(
    metric: Metric,
    data: MetricInput,
    resamples: np.ndarray | None,
    confidence: float = DEFAULT_CONFIDENCE,
    resampled_costs: Sequence[pd.DataFrame] | None = None,
) -> dict[str, float]:
    """An index's entries plus ``<entry>/ci_low`` and ``<entry>/ci_high`` for the entries
    whose role is ``index`` or ``estimate`` (the index itself and, e.g., its value at a
    second K); companions of other roles get none.

    The interval is the percentile bootstrap over architectures: ``metric.compute`` is
    called again on each resample (rows of ``resamples`` are index arrays). A metric that
    raises yields NaN entries and a warning instead of stopping the evaluation.
    ``resampled_costs``, when given, holds ``data.costs`` already resampled by each row.
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
    draws: dict[str, list[float]] = {key: [] for key in estimates}
    for number, indices in enumerate(resamples):
        if data.costs is None:
            sample_costs = None
        elif resampled_costs is not None:
            sample_costs = resampled_costs[number]
        else:
            sample_costs = data.costs.iloc[indices].reset_index(drop=True)
        sample = MetricInput(
            scores=data.scores[indices],
            accuracy=data.accuracy[indices],
            higher_is_better=data.higher_is_better,
            costs=sample_costs,
            options=data.options,
        )
        try:
            values = metric.compute(sample)
        except Exception:
            values = {}
        for key in estimates:
            draws[key].append(float(values.get(key, float("nan"))))
    tail = (1 - confidence) / 2 * 100
    for key in estimates:
        values = np.asarray(draws[key], dtype=float)
        values = values[np.isfinite(values)]
        low, high = np.percentile(values, [tail, 100 - tail]) if values.size else (np.nan, np.nan)
        result[f"{key}/ci_low"] = float(low)
        result[f"{key}/ci_high"] = float(high)
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
    "compute_with_interval",
    "entry_labels",
    "entry_roles",
    "order_metrics",
    "parse_option_assignments",
    "resolve_options",
]
