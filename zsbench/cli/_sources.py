"""What the study commands share: where the scores come from, which index judges, and the options
given to every index (``--top-k``, ``--budgets``). Command modules import this, never each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zsbench.cli._options import (
    BatchSize,
    Benchmark,
    Cache,
    DataRoot,
    DeviceMissing,
    Direction,
    Limit,
    NoPacks,
    Proxies,
    Scores,
    ScoreSeed,
    ScoresSpace,
    SeedFolds,
)
from zsbench.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from zsbench.studies.scores import ScoreTable


def source_options(
    proxies: str,
    benchmark: str,
    scores: str | None,
    space: str | None,
    direction: str | None,
    *,
    limit: int | None,
    seed: int,
    score_seed: int,
    batch_size: int,
    device: str,
    data_root: str | None,
    cache: str | None,
    quiet: bool,
) -> ScoreTable:
    """The score table a study reads: ``--scores FILE`` or the cached engine on ``--benchmark``."""
    from zsbench.studies.scores import parse_directions, scores_from_benchmark, scores_from_file

    if scores is not None:
        table = scores_from_file(scores, space=space, directions=parse_directions(direction))
        if proxies not in ("all", ""):
            chosen = [table.column(p.strip()) for p in proxies.split(",") if p.strip() and not p.strip().startswith("-")]
            dropped = {table.column(p.strip()[1:]) for p in proxies.split(",") if p.strip().startswith("-")}
            keep = [c for c in (chosen or table.proxies) if c not in dropped]
            table.directions = {c: table.directions[c] for c in keep}
        return table
    return scores_from_benchmark(
        proxies,
        benchmark,
        space=space,
        limit=limit,
        seed=seed,
        score_seed=score_seed,
        batch_size=batch_size,
        device=device,
        data_root=data_root,
        cache=cache,
        progress=not quiet,
    )


@dataclass(frozen=True)
class ScoreSource:
    """The options of a study command that say where its scores come from (an option group of
    :func:`zsbench.cli._options.expand_groups`)."""

    proxies: Proxies = "all"
    benchmark: Benchmark = None
    scores: Scores = None
    space: ScoresSpace = None
    direction: Direction = None
    limit: Limit = None
    seed: SeedFolds = 0
    score_seed: ScoreSeed = 0
    batch_size: BatchSize = 64
    device: DeviceMissing = "cpu"
    data_root: DataRoot = None
    cache: Cache = None
    no_packs: NoPacks = False  # read by the engine (ZSBENCH_NO_PACKS)

    def table(self, *, quiet: bool) -> ScoreTable:
        """The score table these options name (see :func:`source_options`)."""
        return source_options(
            self.proxies,
            self.benchmark,
            self.scores,
            self.space,
            self.direction,
            limit=self.limit,
            seed=self.seed,
            score_seed=self.score_seed,
            batch_size=self.batch_size,
            device=self.device,
            data_root=self.data_root,
            cache=self.cache,
            quiet=quiet,
        )


def choose_index(host: Any, name: str | None) -> Any:
    """The index named, or :func:`zsbench.studies.analysis.default_index` of the installed ones."""
    from zsbench.studies.analysis import default_index

    return host.metrics.get(name) if name else default_index([e.obj for e in host.metrics])


def index_options(top_k: str | None, budgets: int | None) -> dict[str, Any]:
    """``--top-k`` and ``--budgets``: options given to every index that declares ``k`` / ``budgets``."""
    from zsbench.ranking import parse_fractions

    shared: dict[str, Any] = {}
    if top_k is not None:
        try:
            shared["k"] = parse_fractions(top_k)
        except ValueError as exc:
            raise UsageError(f"--top-k {exc}") from None
    if budgets is not None:
        if budgets < 1:
            raise UsageError(f"--budgets must be at least 1, got {budgets}")
        shared["budgets"] = budgets
    return shared


def budget_option(metric: Any, budgets: int | None) -> dict[str, Any]:
    """``--budgets`` for an index that declares the option (resolve_options leaves it out for others)."""
    return {"budgets": budgets} if budgets is not None else {}


def entries_of(table: ScoreTable, metric: Any, options: dict[str, Any]) -> list[str]:
    """The entries ``metric`` computes on ``table`` (read off its accuracy as a ranking)."""
    from zsbench.engine.indices import resolve_options
    from zsbench.interfaces import MetricInput

    resolved = resolve_options([metric], options)[metric.name]
    data = MetricInput(scores=table.accuracy, accuracy=table.accuracy, higher_is_better=True, costs=table.costs(), options=resolved)
    try:
        return list(metric.compute(data))
    except Exception:  # an index that cannot run here: transfer() reports it
        return [metric.name]
