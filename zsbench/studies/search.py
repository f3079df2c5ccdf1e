"""Zero-shot architecture search under a budget (``zsbench search``), and how good it was.

Two strategies explore a search space, scoring each candidate with a proxy (or a saved
hybrid) and never training:

``evolution``
    The steady-state evolution of Zen-NAS (Lin et al., ICCV 2021), proxy-agnostic: the
    population is the best ``population`` architectures evaluated so far; each new candidate
    is a mutation (:meth:`zsbench.SearchSpace.mutate`) of a parent drawn uniformly from the
    population; a candidate over any budget (FLOPs, params, depth) is rejected *before* it is
    scored, and so is one already evaluated; when the population overflows, the lowest
    score is dropped. Zen-NAS grows its population from one hand-written network; here the
    population is first filled with random draws within the budget (as regularized
    evolution does, Real et al., 2019), since no space declares a starting network.
``random``
    Distinct architectures drawn uniformly within the budget: the baseline.

With the same seed, evolution's initial population is random search's first draws, so the
two differ only by what evolution does after.

Candidates are generated in rounds of ``round_size`` from the population as it stood after
the previous round, and each round is scored at once, so that ``--workers`` parallelises a
round while the result does not depend on the number of workers. A search is a pure
function of its settings and the candidates' scores: run again with the same settings over
the same score cache, it makes the same moves and reads every score it already computed, so
an interrupted search resumes where it stopped without a checkpoint of its own.

A saved hybrid (``zsbench hybrid --save``) is a rule over a population, not a score of one
network: its fused score is recomputed after every round over *every* architecture
evaluated so far, and the population is the best of the history under that score (AZ-NAS,
Lee and Ham, CVPR 2024). For one proxy this is the same as Zen-NAS's drop-the-lowest rule.

A candidate whose score failed (NaN) is evaluated (it counts) but never enters the
population nor is returned.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zsbench.errors import UsageError
from zsbench.interfaces import Cost, SearchSpace

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from zsbench.studies.hybrid import HybridDefinition

STRATEGIES = ("evolution", "random")
DEFAULT_POPULATION = 32
DEFAULT_EVALUATIONS = 300
DEFAULT_ROUND_SIZE = 8
#: mutations tried for one candidate (each from a fresh parent) before a random draw is taken instead
MUTATION_TRIES = 100
#: unbounded draws of ``sample`` tried for one random candidate before the budget is declared too tight
RANDOM_TRIES = 10_000
#: Spaces of at most this many architectures are listed and walked in a seeded order instead
#: of sampled, so a tight budget's few admissible networks are all found.
LISTED_SPACE_LIMIT = 100_000
COST_NAMES = ("flops", "params", "depth")
_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kKmMgG]?)\s*$")
_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}


# -- budgets ---------------------------------------------------------------------------------------


def parse_amount(text: str | float | None, option: str) -> float | None:
    """``200M``, ``1.5G``, ``2e8``, ``500k`` as a number (``None`` stays ``None``).

    Raises:
        UsageError: not a positive amount.
    """
    if text is None:
        return None
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _AMOUNT.match(str(text))
        if match is None:
            raise UsageError(f"{option} {text!r} is not an amount: write e.g. 200M, 1.5G, 500k or 2e8")
        value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if not value > 0:
        raise UsageError(f"{option} must be positive, got {text!r}")
    return value


@dataclass(frozen=True)
class Budget:
    """Upper bounds a searched architecture must satisfy (``None``: no bound).

    Attributes:
        max_flops: multiply-accumulates (the space's :meth:`~zsbench.SearchSpace.cost`).
        max_params: parameters.
        max_depth: weight layers on the longest path.
    """

    max_flops: float | None = None
    max_params: float | None = None
    max_depth: float | None = None

    def admits(self, cost: Cost) -> bool:
        """Whether ``cost`` is within every bound."""
        return all(bound is None or value <= bound for bound, value in self._pairs(cost))

    def _pairs(self, cost: Cost) -> list[tuple[float | None, float]]:
        return [(self.max_flops, cost.flops), (self.max_params, cost.params), (self.max_depth, cost.depth)]

    def describe(self) -> str:
        """``FLOPs <= 200 M, params <= 1 M`` (``no budget`` when unbounded)."""
        parts = []
        for label, bound in (("FLOPs", self.max_flops), ("params", self.max_params), ("depth", self.max_depth)):
            if bound is not None:
                parts.append(f"{label} <= {human(bound) if label != 'depth' else f'{bound:g}'}")
        return ", ".join(parts) or "no budget"

    def to_json(self) -> dict[str, float | None]:
        """The bounds by name."""
        return {"max_flops": self.max_flops, "max_params": self.max_params, "max_depth": self.max_depth}


def human(value: float) -> str:
    """``2.1e8`` -> ``210 M``: three significant figures and a unit."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g}"


# -- objectives: what a search maximises -----------------------------------------------------------


@dataclass
class Objective:
    """The score a search maximises, computed over its history (larger is better).

    Attributes:
        label: ``synflow`` or ``hybrid:NAME``.
        proxies: the proxies to score each candidate with (a hybrid's cost members need none).
        directions: proxy column -> ``higher_is_better``.
        column: the proxy's column for a single proxy (``None`` for a hybrid).
        hybrid: the saved hybrid's definition (``None`` for a single proxy).
    """

    label: str
    proxies: list[str]
    directions: dict[str, bool]
    column: str | None = None
    hybrid: HybridDefinition | None = None

    def fuse(self, frame: pd.DataFrame) -> np.ndarray:
        """The objective of every row of ``frame`` (the history: ``arch``, costs, proxy
        columns), NaN where a score failed. A hybrid is fused over all of ``frame``."""
        import numpy as np

        if self.hybrid is None:
            values = frame[self.column].to_numpy(dtype=float)
            return values if self.directions[self.column] else -values
        from zsbench.studies.hybrid import combine
        from zsbench.studies.scores import ScoreTable

        if len(frame) == 0:
            return np.zeros(0)
        table = ScoreTable(frame.assign(accuracy=np.nan), dict(self.directions), benchmark="search")
        return combine(table, self.hybrid)


def proxy_objective(name: str, column: str, higher_is_better: bool) -> Objective:
    """The objective of one proxy, read from ``column``."""
    return Objective(label=name, proxies=[name], directions={column: higher_is_better}, column=column)


def hybrid_objective(name: str, definition: HybridDefinition, directions: Mapping[str, bool]) -> Objective:
    """The objective of a saved hybrid; ``directions`` maps each proxy member's column to its
    installed direction.

    Raises:
        UsageError: the ``learned`` rule, which needs the true accuracies of the networks it ranks.
    """
    from zsbench.studies.hybrid import member_proxies

    if definition.rule == "learned":
        raise UsageError(
            f"hybrid {name!r} uses the learned rule, fitted on true accuracies, which a search does not have; "
            "save a rank_sum, log_rank, zscore or vote hybrid for searching"
        )
    return Objective(label=f"hybrid:{name}", proxies=member_proxies([definition]), directions=dict(directions), hybrid=definition)


# -- scoring ---------------------------------------------------------------------------------------

#: scores a round: ``(archs, costs) -> {column: values aligned with archs}`` (NaN for a failure)
Scorer = Callable[[Sequence[str], Sequence[Cost]], Mapping[str, Sequence[float]]]


# -- the search ------------------------------------------------------------------------------------


@dataclass
class SearchRun:
    """What a search did.

    Attributes:
        strategy: ``evolution`` or ``random``.
        history: one row per evaluated architecture, in evaluation order: ``arch``,
            ``flops``, ``params``, ``depth``, the proxy columns, ``origin`` (``random``,
            ``mutation`` or ``random-fallback``: a random draw after
            :data:`MUTATION_TRIES` mutations all failed), ``parent`` and ``round``.
        objective: the final objective of every history row (a hybrid's over the whole history).
        picks: after each round, ``(evaluations, arch)``: the architecture the search would
            return had it stopped there.
        exhausted: the search stopped early because no unevaluated architecture within the
            budget (and pool) was left to find.
        settings: the settings, for the record.
    """

    strategy: str
    history: pd.DataFrame
    objective: np.ndarray
    picks: list[tuple[int, str]] = field(default_factory=list)
    exhausted: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    def best(self, top: int = 10) -> pd.DataFrame:
        """The ``top`` architectures by the final objective (failures left out), best first."""
        import numpy as np

        frame = self.history.assign(objective=self.objective, evaluation=np.arange(1, len(self.history) + 1))
        frame = frame[np.isfinite(frame["objective"])]
        return frame.sort_values(["objective", "evaluation"], ascending=[False, True], kind="stable").head(top).reset_index(drop=True)

    @property
    def pick(self) -> str | None:
        """The architecture the search returns (``None`` when every score failed)."""
        best = self.best(1)
        return None if best.empty else str(best["arch"].iloc[0])


class _Candidates:
    """Random candidates within the budget (and the pool, when one is given), never one seen before.

    A pool, or a space small enough to list (:data:`LISTED_SPACE_LIMIT`), is walked in a seeded
    random order, so every admissible network is found and the draws end exactly when none is
    left; a larger space is sampled, up to :data:`RANDOM_TRIES` draws per candidate.
    """

    def __init__(
        self, space: SearchSpace, budget: Budget, cost: Callable[[str], Cost], pool: Sequence[str] | None, rng: random.Random
    ) -> None:
        self.space, self.budget, self.cost, self.rng = space, budget, cost, rng
        self.pool_set = None if pool is None else frozenset(pool)
        order = list(pool) if pool is not None else _listed(space)
        if order is not None:
            rng.shuffle(order)
        self._order = order
        self._next = 0

    def admissible(self, arch: str) -> bool:
        return (self.pool_set is None or arch in self.pool_set) and self.budget.admits(self.cost(arch))

    def draw(self, seen: set[str]) -> str | None:
        """A random unseen admissible architecture, or ``None`` when none is left (a pool or a
        listed space) or none was found in :data:`RANDOM_TRIES` draws (a larger space)."""
        if self._order is not None:
            while self._next < len(self._order):
                arch = self._order[self._next]
                self._next += 1
                if arch not in seen and self.budget.admits(self.cost(arch)):
                    return arch
            return None
        for _ in range(RANDOM_TRIES):
            arch = self.space.sample(1, self.rng.randrange(2**31))[0]
            if arch not in seen and self.budget.admits(self.cost(arch)):
                return arch
        return None


def _listed(space: SearchSpace) -> list[str] | None:
    """Every architecture of a space small enough to list, else ``None``."""
    try:
        if int(space.size()) > LISTED_SPACE_LIMIT:
            return None
        return list(space.enumerate())
    except NotImplementedError:
        return None


def search(
    space: SearchSpace,
    scorer: Scorer,
    objective: Objective,
    budget: Budget = Budget(),
    *,
    strategy: str = "evolution",
    population: int = DEFAULT_POPULATION,
    evaluations: int = DEFAULT_EVALUATIONS,
    seed: int = 0,
    round_size: int = DEFAULT_ROUND_SIZE,
    pool: Sequence[str] | None = None,
    cost: Callable[[str], Cost] | None = None,
    on_round: Callable[[int, int], None] | None = None,
) -> SearchRun:
    """Search ``space`` for the architecture that maximises ``objective`` within ``budget``
    (the strategies are in the module docstring).

    Args:
        space: the search space (its ``sample``, ``mutate`` and ``cost``).
        scorer: scores a round of candidates (see :data:`Scorer`).
        objective: what is maximised.
        budget: the bounds every candidate must satisfy before it is scored.
        strategy: ``evolution`` or ``random``.
        population: the population's size (evolution).
        evaluations: how many distinct architectures to score.
        seed: seeds every random choice.
        round_size: candidates generated and scored at once.
        pool: restrict the search to these canonical architectures (a benchmark's networks).
        cost: the cost of an architecture (default ``space.cost``, memoised).
        on_round: called as ``on_round(done, evaluations)`` after every round.

    Raises:
        UsageError: a bad setting, or no architecture within the budget could be found.
    """
    import numpy as np
    import pandas as pd

    _check_settings(strategy, population=population, evaluations=evaluations, round_size=round_size)
    cost_of = functools.lru_cache(maxsize=None)(cost if cost is not None else space.cost)
    # two streams: the random draws are the same for both strategies under one seed
    candidates = _Candidates(space, budget, cost_of, pool, random.Random(f"zsbench-search-draws:{seed}"))
    moves = random.Random(f"zsbench-search-moves:{seed}")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    fused, population_archs, picks, exhausted, round_number = np.zeros(0), [], [], False, 0
    while len(rows) < evaluations and not exhausted:
        wanted = min(round_size, evaluations - len(rows))
        fresh, exhausted = _draw_round(wanted, strategy, space, candidates, moves, population_archs, population, seen)
        if not fresh:
            break
        archs = [e["arch"] for e in fresh]
        costs = [cost_of(a) for a in archs]
        rows += _scored(fresh, costs, scorer(archs, costs), round_number)
        frame = pd.DataFrame(rows)
        fused = objective.fuse(frame)
        population_archs = _top(frame["arch"].tolist(), fused, population)
        picks += [(len(rows), population_archs[0])] if population_archs else []
        round_number += 1
        if on_round is not None:
            on_round(len(rows), evaluations)
    if not rows:
        raise UsageError(
            f"no architecture of space {space.name!r} within {budget.describe()} was found"
            + (" among the benchmark's networks" if pool is not None else f" in {RANDOM_TRIES} draws")
            + "; raise the budget"
        )
    history = pd.DataFrame(rows)
    ordered = ["arch", *COST_NAMES, *objective.directions, "origin", "parent", "round"]
    history = history[[c for c in ordered if c in history.columns]]
    settings = {
        "space": space.name, "strategy": strategy, "objective": objective.label, "budget": budget.to_json(),
        "population": population, "evaluations": evaluations, "evaluated": len(history), "seed": seed,
        "round_size": round_size, "pool": None if pool is None else len(pool),
        "mutation": "declared" if _declares_mutation(space) else "default (a fresh sample: no neighbourhood)",
    }  # fmt: skip
    return SearchRun(strategy, history, fused, picks, exhausted=exhausted, settings=settings)


def _check_settings(strategy: str, **counts: int) -> None:
    """A known strategy, and every count at least 1 (named as its command-line option)."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: choose {', '.join(STRATEGIES)}")
    for name, value in counts.items():
        if value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def _draw_round(
    wanted: int,
    strategy: str,
    space: SearchSpace,
    candidates: _Candidates,
    moves: random.Random,
    population_archs: list[str],
    population: int,
    seen: set[str],
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``wanted`` new candidates (added to ``seen``), and whether the space ran out of them."""
    fresh: list[dict[str, Any]] = []
    for _ in range(wanted):
        entry = _next_candidate(strategy, space, candidates, moves, population_archs, population, seen)
        if entry is None:
            return fresh, True
        seen.add(entry["arch"])
        fresh.append(entry)
    return fresh, False


def _scored(
    fresh: list[dict[str, Any]], costs: list[Cost], scores: dict[str, Sequence[Any]], round_number: int
) -> list[dict[str, Any]]:
    """The round's candidates with their costs and scores (a missing score is NaN)."""
    for position, (entry, c) in enumerate(zip(fresh, costs, strict=True)):
        entry.update(flops=float(c.flops), params=float(c.params), depth=float(c.depth), round=round_number)
        for column, values in scores.items():
            entry[column] = float(values[position]) if values[position] is not None else float("nan")
    return fresh


def _declares_mutation(space: SearchSpace) -> bool:
    return type(space).mutate is not SearchSpace.mutate


def _top(archs: list[str], fused: np.ndarray, count: int) -> list[str]:
    """The ``count`` best architectures (finite objective; ties: the earlier evaluated first)."""
    import numpy as np

    finite = np.flatnonzero(np.isfinite(fused))
    order = finite[np.lexsort((finite, -fused[finite]))]
    return [archs[i] for i in order[:count]]


def _next_candidate(
    strategy: str,
    space: SearchSpace,
    candidates: _Candidates,
    moves: random.Random,
    population_archs: list[str],
    population: int,
    seen: set[str],
) -> dict[str, Any] | None:
    """The next candidate of a round (``None``: nothing admissible is left)."""
    if strategy == "evolution" and _filled(population_archs, population, seen):
        for _ in range(MUTATION_TRIES):
            parent = moves.choice(population_archs)
            child = space.mutate(parent, moves)
            if child not in seen and candidates.admissible(child):
                return {"arch": child, "origin": "mutation", "parent": parent}
        arch = candidates.draw(seen)
        return None if arch is None else {"arch": arch, "origin": "random-fallback", "parent": None}
    arch = candidates.draw(seen)
    return None if arch is None else {"arch": arch, "origin": "random", "parent": None}


def _filled(population_archs: list[str], population: int, seen: set[str]) -> bool:
    """Evolution mutates once the initial random draws have filled the population (counted
    over evaluated architectures, failures included, so that a proxy failing everywhere
    cannot stall the switch)."""
    return len(seen) >= population and bool(population_archs)


# -- judging on a benchmark ------------------------------------------------------------------------


@dataclass
class Judgement:
    """A search's pick judged on a benchmark's ground truth, within the search's budget.

    Attributes:
        arch: the pick; accuracy: its true accuracy; rank: 1 + the number of networks
            within the budget that are strictly more accurate; admissible: how many of the
            benchmark's networks are within the budget.
        oracle_arch, oracle_accuracy: the most accurate network within the budget.
    """

    arch: str | None
    accuracy: float
    rank: int | None
    admissible: int
    oracle_arch: str
    oracle_accuracy: float

    def to_json(self) -> dict[str, Any]:
        """The fields by name (NaN as ``None``)."""
        return {
            "arch": self.arch,
            "accuracy": None if not math.isfinite(self.accuracy) else self.accuracy,
            "rank": self.rank,
            "admissible": self.admissible,
            "oracle_arch": self.oracle_arch,
            "oracle_accuracy": self.oracle_accuracy,
        }


@dataclass
class GroundTruth:
    """A benchmark's networks (canonical keys), their accuracy and costs, for judging searches."""

    archs: list[str]
    accuracy: dict[str, float]
    costs: dict[str, Cost]

    def admissible(self, budget: Budget) -> list[str]:
        """The networks within ``budget`` whose accuracy is known."""
        return [a for a in self.archs if budget.admits(self.costs[a]) and math.isfinite(self.accuracy[a])]

    def judge(self, arch: str | None, budget: Budget) -> Judgement:
        """The pick's accuracy and rank among the networks within ``budget``, beside the oracle."""
        pool = self.admissible(budget)
        if not pool:
            raise UsageError(f"no network of the benchmark is within {budget.describe()}; raise the budget")
        oracle = max(pool, key=lambda a: (self.accuracy[a], -pool.index(a)))
        accuracy = self.accuracy.get(arch, float("nan")) if arch is not None else float("nan")
        rank = 1 + sum(1 for a in pool if self.accuracy[a] > accuracy) if math.isfinite(accuracy) else None
        return Judgement(arch, accuracy, rank, len(pool), oracle, self.accuracy[oracle])

    def range_fraction(self, name: str, fraction: float) -> float:
        """``min + fraction * (max - min)`` of cost ``name`` over the benchmark's networks."""
        values = [float(getattr(self.costs[a], name)) for a in self.archs]
        return min(values) + fraction * (max(values) - min(values))


def ground_truth(table: pd.DataFrame, space: SearchSpace) -> GroundTruth:
    """The :class:`GroundTruth` of a benchmark table (``arch`` canonicalised by ``space``;
    costs from the table's ``flops``/``params``/``depth`` where it has them, else the space's).
    A network listed twice keeps its first row."""
    import numpy as np

    archs: list[str] = []
    accuracy: dict[str, float] = {}
    costs: dict[str, Cost] = {}
    columns = {name: table[name].to_numpy(dtype=float) if name in table.columns else None for name in COST_NAMES}
    for row, (key, value) in enumerate(zip(table["arch"], table["accuracy"], strict=True)):
        arch = space.canonical(str(key))
        if arch in accuracy:
            continue
        archs.append(arch)
        accuracy[arch] = float(value) if value is not None else float("nan")
        computed = space.cost(arch)
        figures = {}
        for name in COST_NAMES:
            given = columns[name][row] if columns[name] is not None else np.nan
            figures[name] = given if np.isfinite(given) else getattr(computed, name)
        costs[arch] = Cost(float(figures["flops"]), int(figures["params"]), int(figures["depth"]))
    return GroundTruth(archs, accuracy, costs)


def pick_trajectory(run: SearchRun, truth: GroundTruth) -> list[tuple[int, float]]:
    """``(evaluations, true accuracy of the pick then)`` after every round: the best-so-far
    curve of ``zsbench plot search``."""
    return [(done, truth.accuracy.get(arch, float("nan"))) for done, arch in run.picks]


# -- the whole study: resolve, score through the engine, judge -------------------------------------


class EngineScorer:
    """Scores rounds through the engine of ``zsbench evaluate`` (its cache, run contracts and
    executors: :func:`zsbench.engine.evaluation.score_architectures`), so a search reads every
    score an ``evaluate`` run (or an imported cache) already holds, and stores what it computes.

    Attributes:
        columns: proxy qualified name -> its column in the history (``evaluate``'s naming).
        directions: column -> ``higher_is_better``.
        computed, cached: scores computed here and read from the cache so far.
    """

    def __init__(self, proxies: Sequence[Any], bench: Any, space: Any, batch: Any, store: Any, *, scoring: Any, run: Any, host: Any,
                 explicit_host: bool) -> None:
        from zsbench.engine.evaluation import _proxy_columns, score_column

        self.proxies, self.bench, self.space, self.batch, self.store = list(proxies), bench, space, batch, store
        self.scoring, self.run, self.host, self.explicit_host = scoring, run, host, explicit_host
        self.columns = {key: score_column(column) for key, column in _proxy_columns(self.proxies).items()}
        self.directions = {self.columns[e.qualified_name]: bool(e.obj.higher_is_better) for e in self.proxies}
        self.computed = 0
        self.cached = 0

    def __call__(self, archs: Sequence[str], costs: Sequence[Cost]) -> dict[str, list[float]]:
        import pandas as pd

        from zsbench.engine.evaluation import score_architectures

        frame = pd.DataFrame({name: [float(getattr(c, name)) for c in costs] for name in COST_NAMES})
        stored, computed = score_architectures(
            self.proxies, self.bench, self.space, archs, frame, self.batch, self.store,
            scoring=self.scoring, run=self.run, host=self.host, explicit_host=self.explicit_host,
        )
        self.computed += computed
        self.cached += len(archs) * len(self.proxies) - computed
        out: dict[str, list[float]] = {}
        for key, column in self.columns.items():
            values = []
            for arch in archs:
                record = stored[key].get(arch)
                ok = record is not None and record.error is None and record.value is not None
                values.append(float(record.value) if ok else float("nan"))
            out[column] = values
        return out


@dataclass
class SearchReport:
    """A search, and with a benchmark its judgement beside the oracle and random search.

    Attributes:
        run: the search.
        baseline: random search with the same objective, evaluations and seed (with a
            benchmark, when the search is an evolution).
        judgement, baseline_judgement: the picks judged (with a benchmark).
        budget: the bounds searched under.
        benchmark: the benchmark's name (``None``: none).
        computed, cached: scores computed and read from the cache.
        train_command: the ``zsbench train`` command of the best architecture.
    """

    run: SearchRun
    budget: Budget
    benchmark: str | None = None
    baseline: SearchRun | None = None
    judgement: Judgement | None = None
    baseline_judgement: Judgement | None = None
    computed: int = 0
    cached: int = 0
    train_command: str | None = None
    best_accuracy: dict[str, float] = field(default_factory=dict)

    def to_json(self, top: int = 10) -> dict[str, Any]:
        """Settings, the best architectures with scores and costs, the judgement and the
        history: the file ``zsbench search --output FILE.json`` writes."""
        import numpy as np

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for record in frame.to_dict(orient="records"):
                out.append({k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in record.items()})
            return out

        best = self.run.best(top)
        if self.best_accuracy:
            best = best.assign(accuracy=[self.best_accuracy.get(a, float("nan")) for a in best["arch"]])
        payload: dict[str, Any] = {
            "settings": {**self.run.settings, "benchmark": self.benchmark},
            "pick": self.run.pick,
            "best": records(best),
            "computed": self.computed,
            "cached": self.cached,
            "exhausted": self.run.exhausted,
            "train_command": self.train_command,
            "picks": [{"evaluations": n, "arch": a} for n, a in self.run.picks],
        }
        if self.judgement is not None:
            payload["judgement"] = {"search": self.judgement.to_json()}
            if self.baseline_judgement is not None:
                payload["judgement"]["random"] = self.baseline_judgement.to_json()
        payload["history"] = records(self.run.history.assign(objective=self.run.objective))
        return payload


@dataclass(frozen=True)
class SearchOptions:
    """The settings of :func:`run_search` (see :func:`search` for the algorithm's)."""

    strategy: str = "evolution"
    population: int = DEFAULT_POPULATION
    evaluations: int = DEFAULT_EVALUATIONS
    seed: int = 0
    round_size: int = DEFAULT_ROUND_SIZE
    baseline: bool = True


def budget_from(
    max_flops: str | None, max_params: str | None, max_depth: str | None, truth: GroundTruth | None
) -> Budget:
    """The budget of the command-line options: amounts (``200M``) or, with a benchmark,
    fractions of the benchmark's range of that cost (``25%``: min + 0.25 (max - min))."""
    values: dict[str, float | None] = {}
    for name, option, text in (("flops", "--max-flops", max_flops), ("params", "--max-params", max_params),
                               ("depth", "--max-depth", max_depth)):
        if text is not None and str(text).strip().endswith("%"):
            if truth is None:
                raise UsageError(f"{option} {text}: a percentage of the range needs --benchmark (the range is the benchmark's)")
            try:
                fraction = float(str(text).strip()[:-1]) / 100
            except ValueError:
                raise UsageError(f"{option} {text!r} is not a percentage: write e.g. 25%") from None
            if not 0 < fraction <= 1:
                raise UsageError(f"{option} {text}: a percentage of the range must be in (0, 100]")
            values[name] = truth.range_fraction(name, fraction)
        else:
            values[name] = parse_amount(text, option)
    return Budget(values["flops"], values["params"], values["depth"])


def run_search(
    *,
    space: str | None,
    proxy: str | None,
    hybrid: str | None,
    benchmark: str | None = None,
    max_flops: str | None = None,
    max_params: str | None = None,
    max_depth: str | None = None,
    options: SearchOptions = SearchOptions(),
    limit: int | None = None,
    dataset: str = "cifar10",
    score_seed: int = 0,
    batch_size: int = 64,
    device: str = "cpu",
    data_root: str | None = None,
    cache: Any = None,
    run: Any = None,
    host: Any = None,
    on_round: Callable[[int, int], None] | None = None,
) -> SearchReport:
    """``zsbench search``: resolve the space (or the benchmark's), the objective and the
    budget, search through the engine, and with a benchmark judge the pick beside the oracle
    and random search with the same number of evaluations.

    With a benchmark the search is restricted to the benchmark's networks (its seeded
    ``limit`` subset when given), so every candidate has a true accuracy.

    Raises:
        UsageError: a bad combination of options.
    """
    import shlex

    from zsbench.engine.evaluation import RunOptions, ScoringOptions, _open_cache, make_batch
    from zsbench.plugins import get_host

    if (proxy is None) == (hybrid is None):
        raise UsageError("name what to search with: --proxy NAME or --hybrid NAME (one of them)")
    explicit_host = host is not None
    host = host if host is not None else get_host()
    bench, space_entry, truth = _search_target(host, benchmark, space, limit=limit, dataset=dataset, data_root=data_root)
    pool = truth.archs if truth is not None else None
    budget = budget_from(max_flops, max_params, max_depth, truth)
    if hybrid is not None:
        from zsbench.studies.hybrid import load_definition

        definition = load_definition(hybrid)
        proxy_names = _member_proxy_names(definition)
    else:
        definition = None
        proxy_names = [proxy]
    entries = [host.proxies.entry(name) for name in proxy_names]
    scoring = ScoringOptions(score_seed=score_seed, batch_size=batch_size, device=device)
    run = run if run is not None else RunOptions(cache=cache)
    batch = make_batch(bench, batch_size=batch_size, seed=score_seed, data_root=data_root)
    space_obj = space_entry.obj
    cost = (lambda arch: truth.costs[arch]) if truth is not None else None
    with _open_cache(run.cache) as store:
        scorer = EngineScorer(entries, bench, space_entry, batch, store, scoring=scoring, run=run, host=host, explicit_host=explicit_host)
        objective = _objective(scorer, entries, hybrid, definition)
        kwargs = dict(population=options.population, evaluations=options.evaluations, seed=options.seed,
                      round_size=options.round_size, pool=pool, cost=cost)
        result = search(space_obj, scorer, objective, budget, strategy=options.strategy, on_round=on_round, **kwargs)
        baseline = None
        if truth is not None and options.baseline and options.strategy != "random":
            baseline = search(space_obj, scorer, objective, budget, strategy="random", **kwargs)
    result.settings.update(score_seed=score_seed, batch_size=batch_size, device=device, input=batch.source, limit=limit)
    report = SearchReport(result, budget, benchmark=None if truth is None else str(bench.name), baseline=baseline,
                          computed=scorer.computed, cached=scorer.cached)
    if result.pick is not None:
        report.train_command = f"zsbench train {shlex.quote(result.pick)} --space {space_obj.name} --recipe cpu"
    if truth is not None:
        report.judgement = truth.judge(result.pick, budget)
        report.best_accuracy = dict(truth.accuracy)
        if baseline is not None:
            report.baseline_judgement = truth.judge(baseline.pick, budget)
    return report


def _search_target(
    host: Any, benchmark: str | None, space: str | None, *, limit: int | None, dataset: str, data_root: str | None
) -> tuple[Any, Any, GroundTruth | None]:
    """What is searched: the benchmark (its networks' ground truth) or the space alone, and its space entry."""
    from zsbench.engine.evaluation import resolve_benchmark, sample_rows
    from zsbench.tables import load_benchmark_table

    if benchmark is not None:
        bench = resolve_benchmark(host, benchmark, space)
        space_entry = host.spaces.entry(bench.space)
        if space is not None and space not in (bench.space, space_entry.qualified_name):
            raise UsageError(f"--space {space} contradicts benchmark {bench.name}, whose space is {bench.space}; drop --space")
        table = load_benchmark_table(bench, data_root)
        table = table.iloc[sample_rows(len(table), limit, 0)].reset_index(drop=True)
        return bench, space_entry, ground_truth(table, space_entry.obj)
    if space is None:
        raise UsageError("name the space to search: --space NAME (zsbench spaces lists them), or --benchmark B")
    if limit is not None:
        raise UsageError("--limit restricts a benchmark's networks: it needs --benchmark")
    space_entry = host.spaces.entry(space)
    return _SpaceContext.of(space_entry.obj, dataset), space_entry, None


def _objective(scorer: EngineScorer, entries: list[Any], hybrid: str | None, definition: HybridDefinition | None) -> Objective:
    """The saved hybrid's objective over the scorer's columns, or the one proxy's."""
    if definition is not None:
        directions = {scorer.columns[e.qualified_name]: bool(e.obj.higher_is_better) for e in entries}
        _check_directions(hybrid, definition, entries)
        return hybrid_objective(hybrid, _with_columns(definition, entries, scorer.columns), directions)
    column = scorer.columns[entries[0].qualified_name]
    return proxy_objective(entries[0].obj.name, column, bool(entries[0].obj.higher_is_better))


def _member_proxy_names(definition: HybridDefinition) -> list[str]:
    from zsbench.studies.hybrid import member_proxies

    names = [m[len("proxy:"):] if m.startswith("proxy:") else m for m in member_proxies([definition])]
    if not names:
        raise UsageError("the hybrid has only cost members (flops, params): search with --proxy flops instead")
    return names


def _with_columns(definition: HybridDefinition, entries: Sequence[Any], columns: Mapping[str, str]) -> HybridDefinition:
    """The definition with each proxy member named by its history column (``proxy:flops``
    for the flops proxy, as a saved hybrid names it), the cost members kept."""
    import dataclasses

    by_name = {e.obj.name: columns[e.qualified_name] for e in entries}
    members = tuple(m if m in COST_NAMES else by_name.get(m[len("proxy:"):] if m.startswith("proxy:") else m, m)
                    for m in definition.members)
    return dataclasses.replace(definition, members=members)


def _check_directions(name: str, definition: HybridDefinition, entries: Sequence[Any]) -> None:
    from zsbench.errors import ZsbenchError

    installed = {e.obj.name: bool(e.obj.higher_is_better) for e in entries}
    for member, declared in definition.directions.items():
        bare = member[len("proxy:"):] if member.startswith("proxy:") else member
        if member not in COST_NAMES and bare in installed and installed[bare] != declared:
            raise ZsbenchError(
                f"hybrid {name!r} was saved with {bare} {'higher' if declared else 'lower'}-is-better, but the "
                f"installed proxy says otherwise; search it again with zsbench hybrid --save {name}"
            )


class _SpaceContext:
    """What the run contract needs of a benchmark, for a search of a space without one: the
    dataset whose images the proxies score, its class count and the space's input size."""

    def __init__(self, space: SearchSpace, dataset: str, num_classes: int) -> None:
        self.name = f"{space.name} (no ground truth)"
        self.space = space.name
        self.dataset = dataset
        self.num_classes = num_classes
        self.input_size = int(space.default_input_size)

    @classmethod
    def of(cls, space: SearchSpace, dataset: str) -> _SpaceContext:
        from zsbench.data import NUM_CLASSES

        if dataset not in NUM_CLASSES:
            raise UsageError(f"unknown dataset {dataset!r}: choose one of {', '.join(NUM_CLASSES)}")
        return cls(space, dataset, NUM_CLASSES[dataset])


__all__ = [
    "DEFAULT_EVALUATIONS",
    "DEFAULT_POPULATION",
    "DEFAULT_ROUND_SIZE",
    "STRATEGIES",
    "Budget",
    "EngineScorer",
    "GroundTruth",
    "Judgement",
    "Objective",
    "Scorer",
    "SearchOptions",
    "SearchReport",
    "SearchRun",
    "budget_from",
    "ground_truth",
    "human",
    "hybrid_objective",
    "parse_amount",
    "pick_trajectory",
    "proxy_objective",
    "run_search",
    "search",
]
