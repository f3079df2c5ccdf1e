"""Factor analysis and cross-benchmark tables of scored proxies (NAS-Bench-Zero, sections 4.2 to 4.5).

- :func:`importance` (section 4.5.1, Figure 7): which architecture features drive each proxy's
  score and the true accuracy, read from XGBoost regressors, each with its cross-validated R²
  so that an importance read from a model that explains nothing is visible as such.
- :func:`picks` (section 4.5.2, Figure 8): the architecture each proxy picks overall and under
  each cost budget, with its features (per-stage widths and depths), accuracy and true rank.
- :func:`agreement` (Figure 1): each proxy's picks judged by every other proxy's ranking, the
  oracle (true accuracy) included: entry ``[A, B]`` is the index (e.g. mBR) of A's scores
  when B's oriented scores stand in for the accuracy, so the ``oracle`` column is A's index.
- :func:`transfer` (Tables 2 and 3): proxies x benchmarks for one index entry, to set beside
  the published figures of :mod:`zsbench.studies.published`; :func:`column_agreement`: how alike two
  of its columns order the proxies (section 4.4).

Everything works from :class:`~zsbench.studies.scores.ScoreTable` objects (scores read through the
cache or from a score file); the architecture features come from the search space's
:meth:`~zsbench.SearchSpace.features`, the budgets from the cost columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zsbench.engine.indices import resolve_options
from zsbench.errors import UsageError
from zsbench.interfaces import Metric, MetricInput, SearchSpace
from zsbench.studies.hybrid import DEFAULT_FOLDS, default_regressor, fold_assignment, oriented

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from zsbench.studies.scores import ScoreTable

ORACLE = "oracle"


# -- features and importance -----------------------------------------------------------------------


def architecture_features(table: ScoreTable, space: SearchSpace) -> pd.DataFrame:
    """``space.features`` of every architecture of ``table``, one row each (aligned with it)."""
    import pandas as pd

    rows = [space.features(space.canonical(arch)) for arch in table.frame["arch"]]
    return pd.DataFrame(rows).astype(float).reset_index(drop=True)


@dataclass
class ImportanceResult:
    """What :func:`importance` returns.

    Attributes:
        importance: features (rows) x targets (columns): each model's gain importance
            (xgboost's mean gain of the splits on a feature, the default of its
            ``feature_importances_``), normalised to sum to 1 per target.
        r2: target -> R² of that target's (ranks') out-of-fold predictions (k-fold, seeded): near 0
            or below, the model explains nothing and its importances mean nothing.
        archs: target -> architectures used (those with a finite target).
        dropped: features left out because they are constant over the table.
    """

    importance: pd.DataFrame
    r2: dict[str, float]
    archs: dict[str, int]
    dropped: list[str]


def importance(
    features: pd.DataFrame,
    targets: Mapping[str, np.ndarray],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    model_factory: Callable[[int], Any] = default_regressor,
) -> ImportanceResult:
    """Gain importances of ``features`` for each target's ranking, with cross-validated R².

    Each model predicts the target's ranks scaled to [0, 1] (mean ranks for ties): a proxy is
    judged on the order it gives, and raw scores may span many orders of magnitude.

    Args:
        features: one row per architecture, numeric columns.
        targets: name -> one value per architecture (a proxy's scores, the accuracy); NaN
            rows are left out of that target's model.
        folds, seed: of the out-of-fold R².
        model_factory: ``seed -> model`` with ``fit(X, y, feature_names)``, ``predict(X)`` and
            ``gain_importance()`` (default: :func:`zsbench.studies.hybrid.default_regressor`).
    """
    import numpy as np
    import pandas as pd
    from scipy.stats import rankdata

    varying = [c for c in features.columns if features[c].nunique(dropna=True) > 1]
    dropped = [c for c in features.columns if c not in varying]
    if not varying:
        raise UsageError("every architecture feature is constant over this table: nothing to attribute")
    matrix = features[varying].to_numpy(dtype=float)
    columns: dict[str, pd.Series] = {}
    r2: dict[str, float] = {}
    archs: dict[str, int] = {}
    for name, values in targets.items():
        target = np.asarray(values, dtype=float)
        keep = np.isfinite(target)
        archs[name] = int(keep.sum())
        if keep.sum() < max(folds, 3):
            columns[name] = pd.Series(np.nan, index=varying)
            r2[name] = float("nan")
            continue
        # the target's ranks scaled to [0, 1]: a proxy is judged on its order, and raw scores can
        # span many orders of magnitude (synflow), which a squared loss would let the largest dominate
        x, y = matrix[keep], (rankdata(target[keep]) - 1) / max(int(keep.sum()) - 1, 1)
        model = model_factory(seed).fit(x, y, feature_names=varying)
        gains = pd.Series(model.gain_importance(), dtype=float).reindex(varying).fillna(0.0)
        total = gains.sum()
        columns[name] = gains / total if total > 0 else gains * np.nan
        r2[name] = _out_of_fold_r2(x, y, folds=folds, seed=seed, model_factory=model_factory, names=varying)
    return ImportanceResult(importance=pd.DataFrame(columns), r2=r2, archs=archs, dropped=dropped)


def _out_of_fold_r2(x: np.ndarray, y: np.ndarray, *, folds: int, seed: int, model_factory: Callable[[int], Any], names: list[str]) -> float:
    import numpy as np

    if np.ptp(y) == 0:
        return float("nan")
    ids = fold_assignment(len(y), folds, seed)
    predictions = np.empty(len(y))
    for fold in range(folds):
        test = ids == fold
        model = model_factory(seed + fold).fit(x[~test], y[~test], feature_names=names)
        predictions[test] = model.predict(x[test])
    return float(1.0 - ((y - predictions) ** 2).sum() / ((y - y.mean()) ** 2).sum())


# -- budgets and picks -----------------------------------------------------------------------------


def budget_masks(cost: np.ndarray, budgets: int) -> list[tuple[str, np.ndarray]]:
    """The nested budget pools of mBR: ``M`` thresholds evenly spaced over the cost range,
    ``t_m = lo + m / M (hi - lo)``; pool ``m`` holds the architectures costing at most
    ``t_m`` (``"20%"``, ..., ``"100%"``: the whole pool)."""
    import numpy as np

    if budgets < 1:
        raise UsageError(f"--budgets must be at least 1, got {budgets}")
    cost = np.asarray(cost, dtype=float)
    placed = np.isfinite(cost)
    if not placed.any():
        raise UsageError("no architecture has this cost: budgets cannot be drawn")
    lo, hi = float(cost[placed].min()), float(cost[placed].max())
    masks = []
    for m in range(1, budgets + 1):
        threshold = lo + (hi - lo) * m / budgets
        masks.append((f"{m * 100 / budgets:g}%", placed & (cost <= threshold + 1e-9 * max(1.0, abs(threshold)))))
    return masks


def picks(
    table: ScoreTable,
    *,
    proxies: Sequence[str] | None = None,
    cost: str = "flops",
    budgets: int = 5,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The architecture each proxy (and the oracle) picks under each budget of ``cost``.

    One row per (proxy, budget): ``proxy``, ``budget`` (``"100%"`` is the overall pick),
    ``pool`` (architectures in the budget), ``arch``, ``accuracy``, ``rank`` (1 = the most
    accurate of the pool; 1 + how many are strictly more accurate), ``tied`` (architectures
    sharing the best score: the first in table order is shown), ``score``, the pick's
    ``cost``, then the pick's ``features`` columns when given.
    """
    import numpy as np
    import pandas as pd

    if cost not in table.frame.columns:
        raise UsageError(f"{table.benchmark} has no {cost!r} column for budgets")
    columns = [table.column(p) for p in proxies] if proxies is not None else table.proxies
    accuracy = table.accuracy
    ranked = [(ORACLE, accuracy, accuracy)] + [
        (table.label(c), oriented(table.frame[c], table.directions[c]), table.frame[c].to_numpy(dtype=float)) for c in columns
    ]
    rows = []
    for label, mask in budget_masks(table.frame[cost].to_numpy(dtype=float), budgets):
        pool = np.flatnonzero(mask)
        pool_accuracy = accuracy[pool]
        for name, values, raw in ranked:
            scores = values[pool]
            scored = np.isfinite(scores)
            row: dict[str, Any] = {"proxy": name, "budget": label, "pool": int(pool.size)}
            if not scored.any():
                rows.append(row)
                continue
            best = scores[scored].max()
            tied = np.flatnonzero(scored & (scores == best))
            chosen = pool[tied[0]]
            row.update(
                arch=table.frame["arch"].iloc[chosen],
                accuracy=float(accuracy[chosen]),
                rank=int((pool_accuracy > accuracy[chosen]).sum()) + 1,
                tied=int(tied.size),
                score=float(raw[chosen]),
                cost=float(table.frame[cost].iloc[chosen]),
            )
            if features is not None:
                row.update({f: float(v) for f, v in features.iloc[chosen].items()})
            rows.append(row)
    return pd.DataFrame(rows)


# -- agreement -------------------------------------------------------------------------------------


def agreement(
    table: ScoreTable,
    metric: Metric,
    *,
    proxies: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Figure 1's matrix: rows pick, columns judge. Entry ``[A, B]`` is ``metric`` computed on
    A's scores with B's oriented scores in place of the accuracy (architectures B failed on
    leave B's pool); the ``oracle`` column (B = the accuracy) is A's own index and the
    diagonal is the index of a perfect ranking."""
    import numpy as np
    import pandas as pd

    columns = [table.column(p) for p in proxies] if proxies is not None else table.proxies
    names = [ORACLE] + [table.label(c) for c in columns]
    rankings = np.vstack([table.accuracy] + [oriented(table.frame[c], table.directions[c]) for c in columns])
    costs = table.costs()
    resolved = resolve_options([metric], options)[metric.name]
    matrix = np.full((len(names), len(names)), np.nan)
    for j in range(len(names)):
        data = MetricInput(scores=np.empty(0), accuracy=rankings[j], higher_is_better=True, costs=costs, options=resolved)
        values = metric.compute_many(rankings, data)[metric.name]
        matrix[:, j] = values
    return pd.DataFrame(matrix, index=pd.Index(names, name="picks"), columns=pd.Index(names, name="judged by"))


# -- transfer --------------------------------------------------------------------------------------


def default_index(metrics: Sequence[Metric]) -> Metric:
    """The index a transfer table or a hybrid search uses unless told: the first headline
    index (in declared order) that picks architectures (declares a ``pick`` companion, as the
    budget indices of the paper's Tables 2 and 3 do), else the first headline one, else the first.

    Raises:
        UsageError: no index is installed.
    """
    ordered = sorted(metrics, key=lambda m: (getattr(m, "order", 1000), m.name))
    if not ordered:
        raise UsageError("no index is installed; install one (zsbench metrics lists them)")
    headline = [m for m in ordered if getattr(m, "headline", False)]
    picking = [m for m in headline if any(role == "pick" for _, role in getattr(m, "companions", ()))]
    return (picking or headline or ordered)[0]


def overall_pick_entry(metric: Metric, entries: Sequence[str]) -> str | None:
    """The entry of ``entries`` holding the accuracy of the overall pick: the last one whose
    declared role is ``pick`` (budgeted indices list their picks from the smallest budget to
    the whole pool), ``None`` when the index declares none."""
    picks = [e for e in entries if metric.entry_role(e) == "pick"]
    return picks[-1] if picks else None


def transfer(
    tables: Sequence[ScoreTable],
    metric: Metric,
    *,
    entries: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
    oracle: bool = True,
) -> pd.DataFrame:
    """Proxies x benchmarks: one row per (proxy, entry) with one column per table's benchmark
    (``entries`` default: the index itself; e.g. ``["mbr_flops", "mbr_flops/acc@100%"]``).
    A proxy a table lacks is NaN there. Rows: ``oracle`` first, then proxies in order of appearance."""
    import numpy as np
    import pandas as pd

    entries = list(entries or [metric.name])
    resolved = resolve_options([metric], options)[metric.name]
    values: dict[tuple[str, str], dict[str, float]] = {}
    order: list[str] = [ORACLE] if oracle else []
    for table in tables:
        columns = table.proxies
        labels = [table.label(c) for c in columns]
        order.extend(label for label in labels if label not in order)
        rankings = [oriented(table.frame[c], table.directions[c]) for c in columns]
        if oracle:
            rankings.insert(0, table.accuracy)
            labels = [ORACLE, *labels]
        if not rankings:
            continue
        data = MetricInput(scores=np.empty(0), accuracy=table.accuracy, higher_is_better=True, costs=table.costs(), options=resolved)
        computed = metric.compute_many(np.vstack(rankings), data)
        for entry in entries:
            column = computed.get(entry)
            if column is None:
                raise UsageError(f"index {metric.name} has no entry {entry!r}; it gives {', '.join(computed)}")
            for label, value in zip(labels, column, strict=True):
                values.setdefault((label, entry), {})[table.benchmark] = float(value)
    rows = []
    for label in order:
        for entry in entries:
            row = {"proxy": label, "entry": entry}
            row.update({t.benchmark: values.get((label, entry), {}).get(t.benchmark, np.nan) for t in tables})
            rows.append(row)
    return pd.DataFrame(rows)


#: Fewest proxies two columns must share for :func:`column_agreement` to correlate them.
MIN_SHARED_PROXIES = 5


def shared_correlations(first: Sequence[float], second: Sequence[float], *, min_shared: int) -> tuple[int, float, float]:
    """``(n, spearman, kendall)`` of two columns over the rows where both are finite (a proxy
    both benchmarks scored); the correlations are NaN below ``min_shared`` such rows."""
    import numpy as np
    from scipy import stats

    x, y = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    shared = int(keep.sum())
    if shared < max(min_shared, 2):
        return shared, float("nan"), float("nan")
    x, y = x[keep], y[keep]
    return shared, float(stats.spearmanr(x, y).statistic), float(stats.kendalltau(x, y).statistic)


def column_agreement(frame: pd.DataFrame, entry: str, *, min_proxies: int = MIN_SHARED_PROXIES) -> pd.DataFrame:
    """How alike two columns of a transfer table order the proxies (NAS-Bench-Zero's question of
    section 4.4: does a proxy's standing carry over to another dataset or space?).

    For every pair of benchmark columns of ``frame`` (a :func:`transfer` table, published
    columns merged in or not), the Spearman and Kendall correlations of ``entry``'s values over
    the proxies both columns have, the oracle left out (it is best everywhere by definition).

    Args:
        frame: rows ``proxy``, ``entry`` and one column per benchmark.
        entry: the row kind compared, e.g. ``"mbr_flops"``.
        min_proxies: below this many shared proxies the correlations are NaN (too few to
            order anything; with 4 proxies Spearman takes only 11 distinct values).

    Returns:
        One row per unordered pair: ``first``, ``second``, ``proxies`` (how many were
        shared), ``spearman``, ``kendall``; in column order.
    """
    import itertools
    import warnings

    import pandas as pd
    from scipy import stats

    rows = frame[(frame["entry"] == entry) & (frame["proxy"] != ORACLE)]
    columns = [c for c in frame.columns if c not in ("proxy", "entry")]
    values = {c: pd.to_numeric(rows[c], errors="coerce") for c in columns}  # a published '-' is no value
    out = []
    for first, second in itertools.combinations(columns, 2):
        with warnings.catch_warnings():  # a column of equal values has no order: NaN, said in the table
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            shared, spearman, kendall = shared_correlations(values[first], values[second], min_shared=min_proxies)
        out.append({"first": first, "second": second, "proxies": shared, "spearman": spearman, "kendall": kendall})
    return pd.DataFrame(out, columns=["first", "second", "proxies", "spearman", "kendall"])


__all__ = [
    "MIN_SHARED_PROXIES",
    "ORACLE",
    "ImportanceResult",
    "agreement",
    "architecture_features",
    "budget_masks",
    "column_agreement",
    "default_index",
    "importance",
    "overall_pick_entry",
    "picks",
    "shared_correlations",
    "transfer",
]
