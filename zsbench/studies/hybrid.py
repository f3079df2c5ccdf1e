"""Hybrid proxies: rank architectures by a combination of several proxies (NAS-Bench-Zero, section 4.6).

A hybrid is a set of *members* (proxy columns of a :class:`~zsbench.studies.scores.ScoreTable`,
the costs ``flops`` and ``params`` included: the paper's "combination with computation
metrics") and a *rule* that merges their scores into one ranking of a population. Every rule
first applies each member's declared direction, so "larger" always means "the member prefers
it". With ``s_m(i)`` the oriented score of member ``m`` on architecture ``i`` of a pool of ``N``:

``rank_sum``
    ``h(i) = sum_m r_m(i)``, ``r_m`` the rank 1..N (N the best) with ties given their mean
    rank: the Borda count (de Borda, 1781), the "voting by ranks" of NAS-Bench-Zero, section 4.6.
``log_rank``
    ``h(i) = sum_m log(r_m(i) / N)``: the non-linear rank aggregation of AZ-NAS (Lee and Ham,
    CVPR 2024), which lets a member that ranks an architecture near the bottom pull it down
    more than a sum of ranks does.
``zscore``
    ``h(i) = sum_m (s_m(i) - mean_m) / std_m`` (population mean and standard deviation over
    the pool; a constant member contributes 0).
``vote``
    The majority vote of zero-cost-nas (Abdelfattah et al., ICLR 2021): architecture ``i``
    beats ``j`` when more members score ``i`` above ``j`` than ``j`` above ``i``; ``h(i)`` is
    ``i``'s number of wins (a Copeland count). Exact, so it costs ``O(M N^2)`` time: refused
    above :data:`VOTE_MAX_ARCHS` architectures.
``learned``
    An XGBoost regressor from the members' scores to the accuracy, ``h(i)`` its prediction for
    ``i`` made by the model fitted on the *other* folds of a seeded k-fold split (out of
    fold), so that a learned hybrid is never judged on architectures it was fitted on. It is
    fitted with the true accuracies: the figure says how much the members' scores *could*
    tell, and needs transfer (:func:`evaluate_definitions` on another benchmark) to be a claim.

A single member (size 1) ranks exactly like its raw score under every rule but ``learned``,
so candidates of size 1 are judged once, under the rule ``single``.

Architectures where a member failed (NaN) are left out of that candidate's pool; ranks are
taken within that pool, and the count left out is reported with the candidate.

:func:`search` judges every subset of size 1 to ``max_size`` under each rule with any
registered index, through :meth:`zsbench.Metric.compute_many`: all candidates of a size are
built as one ``C x N`` array (no loop over architectures), so an exhaustive search over 15
members up to size 4 on 15,625 architectures takes seconds (``benchmarks/perf/hybrid_perf.py``).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.engine.indices import compute_with_interval, resolve_options
from zsbench.engine.jsonable import json_value
from zsbench.errors import UsageError, ZsbenchError, describe_error
from zsbench.interfaces import Metric, MetricInput

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from zsbench.studies.scores import ScoreTable

RULES = ("rank_sum", "log_rank", "zscore", "vote", "learned")
#: rules whose hybrid is a sum of per-member transforms, searched as one array per size
SUM_RULES = ("rank_sum", "log_rank", "zscore")
DEFAULT_RULES = SUM_RULES
SINGLE_RULE = "single"
DEFAULT_MAX_SIZE = 4
DEFAULT_FOLDS = 5
#: ``vote`` compares every pair of architectures; above this many it is refused
VOTE_MAX_ARCHS = 5000
#: candidates judged at once: bounds the ``C x N`` working arrays (about 16 MB per 128 x 15,625)
CHUNK_ROWS = 128


@dataclass(frozen=True)
class Member:
    """One member of a hybrid: a score column and its declared direction."""

    name: str
    higher_is_better: bool = True


@dataclass(frozen=True)
class HybridDefinition:
    """What ``--save NAME`` stores and ``evaluate --hybrid NAME`` reads.

    Attributes:
        members: the member proxies (names as ``zsbench proxies`` lists them; ``flops`` and
            ``params`` are the architecture's costs).
        rule: one of :data:`RULES`.
        directions: member -> ``higher_is_better`` at search time (recorded so that a
            reader can check the installed proxies still agree).
        folds, seed: of the ``learned`` rule's cross-validation.
        searched_on: the benchmark the combination was chosen on, and ``index`` by what.
    """

    members: tuple[str, ...]
    rule: str
    directions: dict[str, bool] = field(default_factory=dict)
    folds: int = DEFAULT_FOLDS
    seed: int = 0
    searched_on: str | None = None
    index: str | None = None

    @property
    def label(self) -> str:
        """``snip+synflow (rank_sum)``."""
        return f"{'+'.join(self.members)} ({self.rule})"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (see :meth:`from_json`)."""
        payload = asdict(self)
        payload["members"] = list(self.members)
        return payload

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> HybridDefinition:
        """The definition stored by :meth:`to_json`."""
        try:
            rule = str(payload["rule"])
            members = tuple(str(m) for m in payload["members"])
        except (KeyError, TypeError) as exc:
            raise ZsbenchError(f"a hybrid definition needs 'members' and 'rule' ({exc})") from None
        if rule not in (*RULES, SINGLE_RULE):
            raise ZsbenchError(f"hybrid rule {rule!r} is unknown; rules: {', '.join(RULES)}")
        return cls(
            members=members,
            rule=rule,
            directions={str(k): bool(v) for k, v in dict(payload.get("directions") or {}).items()},
            folds=int(payload.get("folds", DEFAULT_FOLDS)),
            seed=int(payload.get("seed", 0)),
            searched_on=payload.get("searched_on"),
            index=payload.get("index"),
        )


# -- per-member transforms and rules ---------------------------------------------------------------


def oriented(values: Any, higher_is_better: bool) -> np.ndarray:
    """Scores as floats, negated for a lower-is-better member (NaN stays NaN)."""
    import numpy as np

    array = np.asarray(values, dtype=float)
    return array if higher_is_better else -array


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N of a finite 1-D array, N the largest, ties sharing their mean rank."""
    from scipy.stats import rankdata

    return rankdata(values, method="average")


def member_transform(values: np.ndarray, rule: str) -> np.ndarray:
    """One member's term of a sum rule, from its oriented, finite scores (see the module docstring)."""
    import numpy as np

    n = values.size
    if rule == "rank_sum":
        return average_ranks(values)
    if rule == "log_rank":
        return np.log(average_ranks(values) / n)
    if rule == "zscore":
        spread = values.std()
        if not np.isfinite(spread) or spread == 0:
            return np.zeros(n)
        return (values - values.mean()) / spread
    raise UsageError(f"rule {rule!r} is not a sum of member terms; sum rules: {', '.join(SUM_RULES)}")


def vote_wins(matrix: np.ndarray, block: int = 256) -> np.ndarray:
    """Each architecture's pairwise wins under the members' majority vote.

    Args:
        matrix: ``M x N`` oriented, finite scores (one row per member).
        block: architectures compared against all others at once (memory ``M x block x N``).

    Returns:
        ``N`` counts: for architecture ``i``, how many ``j`` have more members scoring ``i``
        above ``j`` than ``j`` above ``i``.
    """
    import numpy as np

    n = matrix.shape[1]
    if n > VOTE_MAX_ARCHS:
        raise UsageError(
            f"rule vote compares every pair of architectures (O(N^2)); {n} architectures is unaffordable "
            f"(at most {VOTE_MAX_ARCHS}): use --limit {VOTE_MAX_ARCHS} or a sum rule (rank_sum, log_rank, zscore)"
        )
    wins = np.zeros(n)
    for start in range(0, n, block):
        rows = matrix[:, start : start + block, None]
        above = (rows > matrix[:, None, :]).sum(axis=0)
        below = (rows < matrix[:, None, :]).sum(axis=0)
        wins[start : start + block] = (above > below).sum(axis=1)
    return wins


def fold_assignment(n: int, folds: int, seed: int) -> np.ndarray:
    """A seeded split of ``n`` items into ``folds`` folds of near-equal size (fold id per item)."""
    import numpy as np

    if folds < 2:
        raise UsageError(f"--folds must be at least 2, got {folds}")
    if n < folds:
        raise UsageError(f"{n} architectures cannot be split into {folds} folds; use fewer --folds")
    ids = np.empty(n, dtype=int)
    ids[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds
    return ids


class BoostedTrees:
    """A small XGBoost regressor through xgboost's own training API (no scikit-learn needed).

    Attributes:
        booster: the fitted ``xgboost.Booster`` (``None`` before :meth:`fit`).
    """

    def __init__(self, seed: int = 0, *, rounds: int = 100, max_depth: int = 3, learning_rate: float = 0.1) -> None:
        self.seed = seed
        self.rounds = rounds
        self.params = {
            "objective": "reg:squarederror",
            "max_depth": max_depth,
            "eta": learning_rate,
            "seed": seed,
            "nthread": 1,
            "verbosity": 0,
        }
        self.booster: Any = None

    def fit(self, features: np.ndarray, target: np.ndarray, feature_names: Sequence[str] | None = None) -> BoostedTrees:
        """Fit on ``features`` (``N x F``) and ``target`` (``N``)."""
        import xgboost

        matrix = xgboost.DMatrix(features, label=target, feature_names=list(feature_names) if feature_names else None)
        self.booster = xgboost.train(self.params, matrix, num_boost_round=self.rounds)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predictions for ``features``."""
        import numpy as np
        import xgboost

        names = self.booster.feature_names
        return np.asarray(self.booster.predict(xgboost.DMatrix(features, feature_names=names)), dtype=float)

    def gain_importance(self) -> dict[str, float]:
        """Mean gain of the splits on each feature (xgboost's ``gain``, the default of its
        ``feature_importances_``); a feature never split on gets 0."""
        gains = self.booster.get_score(importance_type="gain")
        names = self.booster.feature_names or [f"f{i}" for i in range(self.booster.num_features())]
        return {name: float(gains.get(name, 0.0)) for name in names}


def default_regressor(seed: int) -> BoostedTrees:
    """The ``learned`` rule's model: 100 boosted trees of depth 3, learning rate 0.1, one thread."""
    return BoostedTrees(seed)


def out_of_fold_predictions(
    features: np.ndarray,
    target: np.ndarray,
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    model_factory: Callable[[int], Any] = default_regressor,
) -> np.ndarray:
    """Predictions of ``target`` from ``features`` (``N x F``), each made by a model fitted
    only on the other folds of a seeded k-fold split (:func:`fold_assignment`). Each feature
    column is replaced by its ranks first (see the comment in the body)."""
    import numpy as np
    from scipy.stats import rankdata

    # each member enters as its ranks in the pool: trees split on order alone, and raw scores
    # (synflow's reach 1e40) overflow the float32 xgboost stores; ranks use no accuracy, so
    # computing them over every fold tells the model nothing about its test fold's targets
    features = rankdata(np.asarray(features, dtype=float), axis=0)
    ids = fold_assignment(len(target), folds, seed)
    predictions = np.empty(len(target))
    for fold in range(folds):
        test = ids == fold
        model = model_factory(seed + fold)
        model.fit(features[~test], target[~test])
        predictions[test] = np.asarray(model.predict(features[test]), dtype=float)
    return predictions


def combine(
    table: ScoreTable,
    definition: HybridDefinition,
    *,
    model_factory: Callable[[int], Any] = default_regressor,
) -> np.ndarray:
    """The hybrid's score of every architecture of ``table`` (NaN where a member failed):
    larger is better, whatever the members' directions.

    Raises:
        UsageError: a member is not in the table.
    """
    import numpy as np

    columns = [_member_column(table, name) for name in definition.members]
    matrix = np.vstack([oriented(table.frame[c], _direction(table, c)) for c in columns])
    keep = np.isfinite(matrix).all(axis=0)
    result = np.full(matrix.shape[1], np.nan)
    if not keep.any():
        return result
    pool = matrix[:, keep]
    rule = definition.rule
    if rule == SINGLE_RULE or (len(columns) == 1 and rule in SUM_RULES):
        result[keep] = pool[0]
    elif rule in SUM_RULES:
        result[keep] = sum(member_transform(row, rule) for row in pool)
    elif rule == "vote":
        result[keep] = vote_wins(pool)
    elif rule == "learned":
        result[keep] = out_of_fold_predictions(
            pool.T, table.accuracy[keep], folds=definition.folds, seed=definition.seed, model_factory=model_factory
        )
    else:
        raise UsageError(f"unknown hybrid rule {rule!r}; rules: {', '.join(RULES)}")
    return result


def _member_column(table: ScoreTable, name: str) -> str:
    if name in table.directions:
        return name
    if name in ("flops", "params", "depth") and name in table.frame.columns:
        return name
    return table.column(name)


def _direction(table: ScoreTable, column: str) -> bool:
    # a cost member ranks like the naive cost proxy: the larger network is preferred
    return table.directions.get(column, True)


# -- members ---------------------------------------------------------------------------------------


def members_of(table: ScoreTable, proxies: Iterable[str] | None = None, costs: Sequence[str] = ("flops", "params")) -> list[Member]:
    """The candidate members: the table's proxy columns (or those named), then the cost
    columns named in ``costs`` (larger preferred, like the naive cost proxies).

    A proxy column that ranks the architectures exactly as a cost column does (a proxy that
    computes that cost, perhaps up to a constant) is left out: it is that cost member already.
    """
    import numpy as np
    from scipy.stats import rankdata

    names = [table.column(p) for p in proxies] if proxies is not None else table.proxies
    cost_members = []
    for cost in costs:
        if cost not in table.frame.columns:
            raise UsageError(f"{table.benchmark} has no {cost!r} column to use as a member")
        cost_members.append(cost)
    cost_ranks = {c: rankdata(table.frame[c].to_numpy(dtype=float)) for c in cost_members}
    members = []
    for column in names:
        values = table.frame[column].to_numpy(dtype=float)
        # the same ranking as a cost member (e.g. a FLOPs proxy counting a constant apart) is that member
        duplicate = np.isfinite(values).all() and any(
            np.array_equal(rankdata(oriented(values, table.directions[column])), ranks) for ranks in cost_ranks.values()
        )
        if duplicate:
            continue
        label = table.label(column)
        # a proxy named like a cost member keeps its column name (proxy:flops) to stay apart from it
        members.append(Member(column if label in cost_members else label, table.directions[column]))
    members.extend(Member(c, True) for c in cost_members)
    return members


# -- search ----------------------------------------------------------------------------------------


@dataclass
class SearchResult:
    """What :func:`search` returns.

    Attributes:
        benchmark: the table's benchmark.
        archs: architectures in the table.
        index: the index candidates are ordered by; ``index_higher_is_better`` its direction.
        candidates: one row per (members, rule): ``members`` (tuple), ``rule``, ``size``,
            ``archs`` (in its pool), ``left_out`` (dropped because a member failed) and every
            entry of every judging index; ordered best first.
        members: the members searched.
    """

    benchmark: str
    archs: int
    index: str
    index_higher_is_better: bool
    candidates: pd.DataFrame
    members: list[Member]

    def best_per_size(self, top: int = 1) -> pd.DataFrame:
        """The ``top`` best candidates of each size (all rules), best first within a size."""
        frame = self.candidates
        return frame.groupby("size", sort=True, group_keys=False).head(top).sort_values("size", kind="stable")


def search(
    table: ScoreTable,
    metrics: Sequence[Metric],
    *,
    members: Sequence[Member] | None = None,
    rules: Sequence[str] = DEFAULT_RULES,
    max_size: int = DEFAULT_MAX_SIZE,
    options: Mapping[str, Any] | None = None,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    model_factory: Callable[[int], Any] = default_regressor,
) -> SearchResult:
    """Judge every subset of ``members`` of size 1 to ``max_size`` under every rule.

    Args:
        table: the scores.
        metrics: the indices to judge by; the first orders the result.
        members: default :func:`members_of` ``(table)``.
        rules: of :data:`RULES`.
        max_size: largest subset.
        options: options given to every index that declares the key (``{"budgets": 5}``),
            resolved by :func:`zsbench.engine.indices.resolve_options`.
        folds, seed, model_factory: of the ``learned`` rule.
    """
    import numpy as np
    import pandas as pd

    members = _checked_search(table, metrics, members, rules, max_size)
    names = [m.name for m in members]
    per_metric = resolve_options(metrics, options)
    accuracy = table.accuracy
    costs = table.costs()
    matrix = np.vstack([oriented(table.frame[_member_column(table, m.name)], m.higher_is_better) for m in members])
    finite = np.isfinite(matrix)
    failing = [i for i in range(len(members)) if not finite[i].all()]

    rows: list[dict[str, Any]] = []
    sizes = range(1, min(max_size, len(members)) + 1)
    for size in sizes:
        subsets = list(itertools.combinations(range(len(members)), size))
        rule_list = [SINGLE_RULE] if size == 1 else [r for r in rules if r != "learned"]
        if "learned" in rules:
            rule_list = [*rule_list, "learned"]
        # candidates sharing the same failing members share one pool
        groups: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
        for subset in subsets:
            groups.setdefault(tuple(i for i in subset if i in failing), []).append(subset)
        for failing_members, group in groups.items():
            keep = finite[list(failing_members)].all(axis=0) if failing_members else np.ones(matrix.shape[1], dtype=bool)
            pool = matrix[:, keep]
            data = MetricInput(
                scores=np.empty(0), accuracy=accuracy[keep], higher_is_better=True, costs=costs[keep].reset_index(drop=True), options={}
            )
            for rule in rule_list:
                values = _judge(
                    pool, group, rule, data, metrics, folds=folds, seed=seed, model_factory=model_factory, per_metric=per_metric
                )
                for position, subset in enumerate(group):
                    row: dict[str, Any] = {
                        "members": tuple(names[i] for i in subset),
                        "rule": rule,
                        "size": size,
                        "archs": int(keep.sum()),
                        "left_out": int((~keep).sum()),
                    }
                    row.update({key: float(array[position]) for key, array in values.items()})
                    rows.append(row)
    frame = pd.DataFrame(rows)
    lead = metrics[0]
    frame = order_candidates(frame, lead.name, lead.higher_is_better)
    return SearchResult(
        benchmark=table.benchmark,
        archs=len(table.frame),
        index=lead.name,
        index_higher_is_better=bool(lead.higher_is_better),
        candidates=frame,
        members=members,
    )


def _checked_search(
    table: ScoreTable, metrics: Sequence[Metric], members: Sequence[Member] | None, rules: Sequence[str], max_size: int
) -> list[Member]:
    """The members of a hybrid search (default :func:`members_of`), after checking its settings."""
    if not metrics:
        raise UsageError("a hybrid search needs at least one index to judge by")
    unknown = [r for r in rules if r not in RULES]
    if unknown or not rules:
        raise UsageError(f"unknown hybrid rule {', '.join(unknown) or '(none)'}; rules: {', '.join(RULES)}")
    if max_size < 1:
        raise UsageError(f"--max-size must be at least 1, got {max_size}")
    members = list(members) if members is not None else members_of(table)
    if not members:
        raise UsageError(f"{table.benchmark}: no members to combine")
    names = [m.name for m in members]
    if len(set(names)) != len(names):
        raise UsageError(f"a member is named twice in {', '.join(names)}")
    return members


def order_candidates(frame: pd.DataFrame, index: str, higher_is_better: bool) -> pd.DataFrame:
    """Best first by ``index`` (NaN last), then smaller size, then member names."""
    if frame.empty or index not in frame.columns:
        return frame.reset_index(drop=True)
    key = frame[index] if not higher_is_better else -frame[index]
    ordered = frame.assign(_key=key.fillna(math.inf), _names=frame["members"].map(lambda m: "+".join(m)))
    ordered = ordered.sort_values(["_key", "size", "_names", "rule"], kind="stable")
    return ordered.drop(columns=["_key", "_names"]).reset_index(drop=True)


def _judge(
    pool: np.ndarray,
    subsets: Sequence[tuple[int, ...]],
    rule: str,
    data: MetricInput,
    metrics: Sequence[Metric],
    *,
    folds: int,
    seed: int,
    model_factory: Callable[[int], Any],
    per_metric: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, np.ndarray]:
    """Every index entry of every subset's hybrid on ``pool`` (members x architectures);
    ``per_metric`` holds each index's resolved options (default: its declared defaults)."""
    import dataclasses

    import numpy as np

    per_metric = per_metric if per_metric is not None else resolve_options(metrics)

    collected: dict[str, list[np.ndarray]] = {}
    used = sorted({i for subset in subsets for i in subset})
    if rule in SUM_RULES:
        terms = np.zeros((pool.shape[0], pool.shape[1]), dtype=np.float64)
        for i in used:
            terms[i] = member_transform(pool[i], rule)
    for start in range(0, len(subsets), CHUNK_ROWS):
        chunk = np.asarray(subsets[start : start + CHUNK_ROWS])
        if rule == SINGLE_RULE:
            hybrid = pool[chunk[:, 0]]
        elif rule in SUM_RULES:
            hybrid = terms[chunk[:, 0]].copy()
            for column in range(1, chunk.shape[1]):
                hybrid += terms[chunk[:, column]]
        elif rule == "vote":
            hybrid = np.vstack([vote_wins(pool[list(subset)]) for subset in chunk])
        elif rule == "learned":
            hybrid = np.vstack(
                [
                    out_of_fold_predictions(pool[list(subset)].T, data.accuracy, folds=folds, seed=seed, model_factory=model_factory)
                    for subset in chunk
                ]
            )
        else:  # pragma: no cover - checked by search()
            raise UsageError(f"unknown rule {rule!r}")
        for metric in metrics:
            try:
                values = metric.compute_many(hybrid, dataclasses.replace(data, options=per_metric[metric.name]))
            except Exception as exc:  # third-party index: lose its column, not the search
                import warnings

                warnings.warn(f"index {metric.name} failed: {describe_error(exc)}", stacklevel=2)
                values = {metric.name: np.full(len(chunk), np.nan)}
            for key, array in values.items():
                collected.setdefault(key, []).append(np.asarray(array, dtype=float))
    return {key: np.concatenate(parts) for key, parts in collected.items()}


# -- reporting -------------------------------------------------------------------------------------


def definition_of(row: Mapping[str, Any], members: Sequence[Member], **extra: Any) -> HybridDefinition:
    """The :class:`HybridDefinition` of a candidate row of :attr:`SearchResult.candidates`."""
    directions = {m.name: m.higher_is_better for m in members}
    chosen = tuple(row["members"])
    return HybridDefinition(members=chosen, rule=str(row["rule"]), directions={m: directions[m] for m in chosen}, **extra)


def evaluate_definitions(
    table: ScoreTable,
    definitions: Sequence[HybridDefinition],
    metrics: Sequence[Metric],
    *,
    options: Mapping[str, Any] | None = None,
    bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
    oracle: bool = False,
    model_factory: Callable[[int], Any] = default_regressor,
) -> pd.DataFrame:
    """Every index (with bootstrap intervals) of each hybrid on ``table``: one row per
    definition (``hybrid``, ``members``, ``rule``, ``size``, ``archs``, ``left_out``, entries);
    with ``oracle`` a first row ranking by the true accuracy.

    A definition with a member the table lacks gets a row of NaN and ``missing`` naming it,
    so a transfer table shows the gap instead of failing.
    """
    import numpy as np
    import pandas as pd

    per_metric = resolve_options(metrics, options)
    rows = []
    targets: list[tuple[str, HybridDefinition | None]] = [("oracle", None)] if oracle else []
    targets += [(d.label, d) for d in definitions]
    for label, definition in targets:
        row: dict[str, Any] = {"hybrid": label}
        if definition is None:
            values = table.accuracy.copy()
            row.update(members=("oracle",), rule="oracle", size=0)
        else:
            row.update(members=tuple(definition.members), rule=definition.rule, size=len(definition.members))
            try:
                values = combine(table, definition, model_factory=model_factory)
            except UsageError as exc:
                row.update(missing=str(exc), archs=0, left_out=len(table.frame))
                rows.append(row)
                continue
        keep = np.isfinite(values)
        row.update(archs=int(keep.sum()), left_out=int((~keep).sum()))
        n = int(keep.sum())
        resamples = np.random.default_rng(seed).integers(0, n, size=(bootstrap, n)) if bootstrap and n else None
        for metric in metrics:
            data = MetricInput(
                scores=values[keep],
                accuracy=table.accuracy[keep],
                higher_is_better=True,
                costs=table.costs()[keep].reset_index(drop=True),
                options=per_metric[metric.name],
            )
            row.update(compute_with_interval(metric, data, resamples, confidence))
        rows.append(row)
    return pd.DataFrame(rows)


def result_json(result: SearchResult, rows: pd.DataFrame, *, limit: int | None = None) -> dict[str, Any]:
    """``{"benchmark", "archs", "index", "oracle": {...}, "results": [{"members", "rule", "size",
    <entries>...}]}``: ``rows`` as :func:`evaluate_definitions` gives them, the hybrids best
    first by the search's index, NaN as ``null``."""
    records = [{key: json_value(value) for key, value in record.items()} for record in rows.to_dict(orient="records")]
    oracle = next((r for r in records if r.get("rule") == "oracle"), None)
    hybrids = [r for r in records if r.get("rule") != "oracle"]
    sign = 1.0 if result.index_higher_is_better else -1.0

    def key(record: dict[str, Any]) -> tuple[float, int]:
        value = record.get(result.index)
        return (-sign * value if value is not None else math.inf, int(record.get("size") or 0))

    hybrids.sort(key=key)
    return {
        "benchmark": result.benchmark,
        "archs": result.archs,
        "index": result.index,
        "oracle": oracle,
        "results": hybrids[:limit],
    }


def member_proxies(definitions: Iterable[HybridDefinition]) -> list[str]:
    """The proxies the definitions' members need scored (the cost members need none)."""
    from zsbench.studies.scores import COST_COLUMNS

    return list(dict.fromkeys(m for d in definitions for m in d.members if m not in COST_COLUMNS))


def summary_rows(
    result: Any,
    named: Mapping[str, HybridDefinition],
    *,
    proxies: str | Sequence[str],
    host: Any = None,
    shared: Mapping[str, Any] | None = None,
    per_metric: Mapping[str, Mapping[str, Any]] | None = None,
    bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Rows for :attr:`EvaluationResult.summary <zsbench.engine.evaluation.EvaluationResult>`, one per
    saved hybrid (``proxy`` = ``hybrid:NAME``), with the same indices, options and bootstrap
    resamples as the proxies' rows (paired when no member failed); ``failures`` counts the
    architectures left out because a member failed, ``seconds_per_arch`` is the sum of the
    members' (the hybrid costs what its members cost).

    ``result`` must have scored every member (``proxies`` is the selection it was scored with).
    """
    import numpy as np
    import pandas as pd

    from zsbench.plugins import get_host
    from zsbench.studies.scores import table_from_result

    host = host if host is not None else get_host()
    table = table_from_result(result, proxies, host=host)
    metrics = [host.metrics.get(name) for name in result.index_names]
    options = resolve_options(metrics, shared, per_metric)
    rows = []
    for name, definition in named.items():
        for member, declared in definition.directions.items():
            column = _member_column(table, member)
            if column in table.directions and table.directions[column] != declared:
                raise ZsbenchError(
                    f"hybrid {name!r} was saved with {member} {'higher' if declared else 'lower'}-is-better, but the "
                    f"installed proxy says otherwise; search it again with zsbench hybrid --save {name}"
                )
        values = combine(table, definition)
        keep = np.isfinite(values)
        n = int(keep.sum())
        resamples = np.random.default_rng(seed).integers(0, n, size=(bootstrap, n)) if bootstrap and n else None
        row: dict[str, Any] = {"proxy": f"hybrid:{name}"}
        for metric in metrics:
            data = MetricInput(
                scores=values[keep],
                accuracy=table.accuracy[keep],
                higher_is_better=True,
                costs=table.costs()[keep].reset_index(drop=True),
                options=options[metric.name],
            )
            row.update(compute_with_interval(metric, data, resamples, confidence))
        row["failures"] = int((~keep).sum())
        seconds = result.summary.set_index("proxy")["seconds_per_arch"] if "seconds_per_arch" in result.summary else None
        if seconds is not None:  # a cost member was not scored: it costs nothing here
            row["seconds_per_arch"] = float(sum(seconds.get(m, 0.0) for m in definition.members))
        rows.append(row)
    return pd.DataFrame(rows)


# -- saved definitions -----------------------------------------------------------------------------


def hybrids_dir() -> Path:
    """Where ``--save NAME`` keeps definitions: ``$ZSBENCH_HYBRIDS``, else
    ``$XDG_CONFIG_HOME/zsbench/hybrids``, else ``~/.config/zsbench/hybrids``."""
    import os

    explicit = os.environ.get("ZSBENCH_HYBRIDS")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME")
    root = Path(base).expanduser() if base else Path.home() / ".config"
    return root / "zsbench" / "hybrids"


def _definition_path(name: str, directory: Path | None) -> Path:
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) or name.endswith(".json"):
        raise UsageError(f"hybrid name {name!r}: use letters, digits, '_', '-' and '.' (no extension)")
    return (directory if directory is not None else hybrids_dir()) / f"{name}.json"


def save_definition(name: str, definition: HybridDefinition, directory: Path | None = None) -> Path:
    """Store ``definition`` as ``NAME.json`` (see :func:`hybrids_dir`); returns the path."""
    path = _definition_path(name, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(definition.to_json(), indent=2) + "\n")
    return path


def load_definition(name: str, directory: Path | None = None) -> HybridDefinition:
    """The definition saved as ``NAME`` (or read from a ``.json`` file path)."""
    candidate = Path(name)
    if candidate.suffix == ".json" and candidate.is_file():
        path = candidate
    else:
        path = _definition_path(name, directory)
        if not path.is_file():
            where = path.parent
            known = sorted(p.stem for p in where.glob("*.json")) if where.is_dir() else []
            raise UsageError(
                f"no saved hybrid {name!r} in {where}; save one with zsbench hybrid --save {name} (saved: {', '.join(known) or 'none'})"
            )
    try:
        return HybridDefinition.from_json(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise ZsbenchError(f"{path} is not a hybrid definition: {exc}") from None


__all__ = [
    "DEFAULT_RULES",
    "RULES",
    "HybridDefinition",
    "Member",
    "SearchResult",
    "combine",
    "definition_of",
    "evaluate_definitions",
    "load_definition",
    "member_proxies",
    "member_transform",
    "members_of",
    "order_candidates",
    "out_of_fold_predictions",
    "save_definition",
    "search",
    "summary_rows",
    "vote_wins",
]
