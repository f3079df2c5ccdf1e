"""The evaluation engine: score every architecture of a benchmark with every chosen proxy,
then measure with every chosen index how well each proxy ranks the architectures.

:func:`evaluate` is a pipeline; each step is one function below, in this order:

1. **resolve** (:func:`_resolve`): the proxies, the indices (in their declared order, with
   their options), the benchmark (a registered one, or a user's table file, see
   :mod:`zsbench.tables`), its table with every key validated by the search space
   (``space.canonical``), the seeded subset (``limit``) and the proxies' input batch;
2. **plan from the cache** (:func:`_plan`): look every (architecture, proxy) score and every
   missing cost up in the :mod:`zsbench.engine.cache`, then in the score packs the plugins ship
   (:mod:`zsbench.engine.packs`, a read-only layer under the cache, exact key and run contract);
   what is missing becomes one task per architecture;
3. **run** (:func:`_run`): send the tasks to an executor (:mod:`zsbench.engine.executors`) and store
   each architecture's results as soon as they arrive, so an interrupted run resumes;
4. **assemble** (:func:`_assemble`): one row per architecture with its accuracy, costs and
   one column per proxy, and the list of failures;
5. **summarise** (:func:`_summarise`): each index on the whole pool with a seeded BCa
   bootstrap interval over architectures (the same resamples for every proxy, so proxies
   can be compared), see :mod:`zsbench.engine.indices`.

Costs (``flops``, ``params``, ``depth``) come from the benchmark table where it has them
and are computed with the search space (and cached) otherwise. The options are grouped by
step: :class:`PoolOptions`, :class:`ScoringOptions`, :class:`RunOptions`, :class:`IndexOptions`.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.devices import check_device
from zsbench.engine.cache import CachedCost, CachedScore, ScoreCache, ScoreRecord, contract_key
from zsbench.engine.executors import (
    DEFAULT_MAX_ATTEMPTS,
    EXECUTOR_KINDS,
    default_workers,
    effective_timeout,
    make_executor,
)
from zsbench.engine.harness import run_contract
from zsbench.engine.indices import (
    DEFAULT_CONFIDENCE,
    INTERVAL_METHOD,
    compute_with_interval,
    entry_labels,
    entry_roles,
    jackknife_groups,
    order_metrics,
    resolve_options,
)
from zsbench.engine.isolation import InterruptGuard
from zsbench.engine.jsonable import json_value
from zsbench.engine.packs import PackLayer, layer_of
from zsbench.engine.progress import Progress
from zsbench.engine.tasks import ArchTask, ScoringWork, TaskOutcome, run_scoring
from zsbench.errors import InvalidArchitectureError, UnknownComponentError, UsageError, describe_error
from zsbench.interfaces import Batch, Benchmark, Metric, MetricInput, Proxy, SearchSpace
from zsbench.plugins import PluginHost, get_host
from zsbench.registry import Entry
from zsbench.settings import default_benchmark, default_sample, use_packs
from zsbench.tables import COST_COLUMNS, TableBenchmark, load_benchmark_table, looks_like_table_file

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DEFAULT_BATCH_SIZE = 64
DEFAULT_BOOTSTRAP = 200
RESERVED_COLUMNS = ("arch", "accuracy", *COST_COLUMNS)


# -- options, one small group per step -------------------------------------------------------------


@dataclass(frozen=True)
class PoolOptions:
    """Which architectures are evaluated.

    Attributes:
        space: the search space of a benchmark table file (ignored for registered benchmarks).
        dataset: the dataset a table file's accuracies were measured on (default ``cifar10``):
            selects the proxies' input images and the classifier width.
        num_classes: classifier width of a table file's networks (default: the dataset's).
        limit: evaluate a seeded random subset of this many architectures: the first
            ``limit`` of a seeded permutation, so a larger limit with the same seed keeps
            every architecture of the smaller one (and reuses its cached scores).
        seed: seed of the subset and of the bootstrap.
        data_root: root of the shared data (else ``ZSBENCH_DATA``).
    """

    space: str | None = None
    dataset: str | None = None
    num_classes: int | None = None
    limit: int | None = None
    seed: int = 0
    data_root: str | Path | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit must be at least 1, got {self.limit}")
        if self.data_root is not None and not Path(self.data_root).is_dir():
            # an explicit root that is missing is a typo, not a reason to score Gaussian inputs
            raise UsageError(
                f"--data-root {self.data_root} is not a directory; give the folder holding cifar10/ (and the other "
                "datasets), or leave --data-root out to use $ZSBENCH_DATA or the shipped CIFAR-10 batch"
            )


@dataclass(frozen=True)
class ScoringOptions:
    """How each architecture is scored.

    Attributes:
        score_seed: seed of the input batch and of every model's initialisation.
        batch_size: images in the proxies' input batch.
        device: torch device for scoring.
        batch: use this input batch instead of building one from the benchmark's dataset.
        batch_source: ``auto`` (the shipped CIFAR-10 batch where it is the one asked for, else
            the data root's images), ``shipped`` or ``data`` (see :func:`zsbench.data.proxy_batch`).
    """

    score_seed: int = 0
    batch_size: int = DEFAULT_BATCH_SIZE
    device: str = "cpu"
    batch: Batch | None = None
    batch_source: str = "auto"

    def __post_init__(self) -> None:
        from zsbench.data import BATCH_SOURCES

        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.batch_source not in BATCH_SOURCES:
            raise UsageError(f"--batch-source must be one of {', '.join(BATCH_SOURCES)}, got {self.batch_source!r}")


@dataclass(frozen=True)
class RunOptions:
    """Where scores are kept and where they are computed.

    Attributes:
        cache: cache file path, an open :class:`~zsbench.engine.cache.ScoreCache`, or ``None``
            for the default location.
        retry_failed: compute again the scores (and costs) cached as failures.
        executor: ``local`` (in-process; ``workers > 1`` means processes), ``process`` or ``ray``.
        workers: worker processes for ``process``; ``None``: one per core when the planned work
            is worth starting them for (see :func:`zsbench.engine.executors.default_workers`),
            else in-process.
        ray_address: Ray cluster address for ``ray``.
        max_attempts: tries of an architecture whose worker process crashed (process and
            Ray executors) before it is recorded as failed.
        threads: torch threads in each worker (this process included when it scores
            itself); ``None``: the CPU cores other work leaves free, divided among the workers, at least one each
            (see :func:`zsbench.engine.executors.default_threads`), one per Ray task.
        cached_only: compute nothing: evaluate only the architectures whose every selected
            score (and cost) is already in the cache (figures of a run still in progress).
        use_packs: read the scores the installed score packs hold (``zsbench packs list``)
            where the cache lacks them; ``False`` computes them (``None``: yes unless
            ``ZSBENCH_NO_PACKS`` is set, see :func:`zsbench.settings.use_packs`).
        timeout: seconds one architecture's scoring may take before its worker is stopped and
            the proxies it did not finish are recorded as failed (``timed out after N s``, retried
            only with ``retry_failed``); ``None``: the default of worker processes and Ray
            (:data:`~zsbench.engine.executors.DEFAULT_TIMEOUT`) and no limit in this process;
            ``0``: no limit; a positive limit also moves in-process scoring into one worker
            process (see :func:`~zsbench.engine.executors.effective_timeout`).
    """

    cache: str | Path | ScoreCache | None = None
    retry_failed: bool = False
    executor: str = "local"
    workers: int | None = 1
    ray_address: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    threads: int | None = None
    cached_only: bool = False
    use_packs: bool | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.executor not in EXECUTOR_KINDS:
            raise UsageError(f"unknown executor {self.executor!r}: choose {', '.join(EXECUTOR_KINDS)}")
        if self.workers is not None and self.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise UsageError(f"--threads must be at least 1, got {self.threads}")
        effective_timeout(self.timeout, self.executor, self.workers or 1)  # a bad value fails here


@dataclass(frozen=True)
class IndexOptions:
    """How the indices are computed.

    Attributes:
        bootstrap: bootstrap resamples for the intervals (0: no intervals).
        confidence: interval coverage.
        shared: option values given to every selected index that declares the key
            (``{"k": (0.001, 0.05), "budgets": 5}``; indices without it ignore it).
        per_metric: option values of one index, ``{"br_at_k": {"k": "0.01"}}``: the index
            must be selected and declare the key (see :func:`zsbench.engine.indices.resolve_options`).
    """

    bootstrap: int = DEFAULT_BOOTSTRAP
    confidence: float = DEFAULT_CONFIDENCE
    shared: Mapping[str, Any] = field(default_factory=dict)
    per_metric: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.confidence < 1:
            raise UsageError(f"confidence must be between 0 and 1, got {self.confidence}")
        if self.bootstrap < 0:
            raise UsageError(f"bootstrap must be 0 or more, got {self.bootstrap}")


@dataclass
class EvaluationResult:
    """What :func:`evaluate` returns.

    Attributes:
        benchmark: the benchmark's name (or the table file's path).
        space: the search space's name.
        archs: number of architectures evaluated.
        summary: one row per proxy: ``proxy``, every index entry (``kendall``,
            ``kendall/n``, ``kendall/ci_low``, ``kendall/ci_high``, ``mbr_flops/acc@20%``,
            ...), ``failures`` (architectures the proxy failed on) and ``seconds_per_arch``
            (mean scoring time over the architectures it was computed for).
        scores: one row per architecture: ``arch`` (the benchmark's key), ``accuracy``,
            ``flops``, ``params``, ``depth`` (the costs) and one column per proxy named as
            the proxy (NaN where it failed); the proxies ``flops``, ``params`` and ``depth``
            get ``proxy:flops``, ... since the cost columns hold those names.
        failures: one row per failed score: ``arch``, ``proxy``, ``error``.
        computed: scores computed in this run; ``cached``: scores taken from the cache;
        from_packs: scores taken from each score pack (pack name -> count; empty when none).
        seconds: wall time of the whole evaluation.
        index_names: the indices computed, in their declared order.
        entry_roles: for every index column of ``summary`` (interval bounds aside): the
            index it belongs to and its role (see :meth:`zsbench.Metric.entry_role`), which
            is how displays choose what to show without knowing any index.
        entry_labels: for the same columns: what each is for (``mbr_flops/acc@20%`` -> ``20%``,
            see :meth:`zsbench.Metric.entry_label`), how displays label them.
        noise_ceiling: the benchmark's :meth:`~zsbench.Benchmark.noise_ceiling` (rank
            correlations between two trainings of its networks), ``None`` when unknown.
        settings: what the run was, for reports and reproduction: ``benchmark``, ``space``,
            ``dataset``, ``archs``, ``limit``, ``table_archs`` (architectures in the whole
            table), ``default_sample`` (True when ``limit`` is the default run's sample),
            ``seed``, ``score_seed``, ``batch_size``,
            ``device``, ``input`` (the input batch's source), ``bootstrap``, ``confidence``,
            ``metric_options`` (each index's resolved options), ``proxy_versions`` and
            ``versions`` (zsbench, torch, Python).
    """

    benchmark: str
    space: str
    archs: int
    summary: pd.DataFrame
    scores: pd.DataFrame
    failures: pd.DataFrame
    computed: int = 0
    cached: int = 0
    from_packs: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    index_names: list[str] = field(default_factory=list)
    entry_roles: dict[str, tuple[str, str]] = field(default_factory=dict)
    entry_labels: dict[str, str] = field(default_factory=dict)
    noise_ceiling: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"benchmark", "archs", "scores": {"computed", "cached", "from_packs"}, "noise_ceiling",
        "settings", "rows": [{"proxy", <index entries>..., "failures", "seconds_per_arch"}]}`` with
        NaN as ``null``."""
        rows = []
        for record in self.summary.to_dict(orient="records"):
            rows.append({key: json_value(value) for key, value in record.items()})
        return {
            "benchmark": self.benchmark,
            "archs": self.archs,
            "scores": {"computed": self.computed, "cached": self.cached, "from_packs": dict(self.from_packs)},
            "noise_ceiling": self.noise_ceiling,
            "settings": self.settings,
            "rows": rows,
        }

    def write_scores(self, path: str | Path) -> Path:
        """Write :attr:`scores` to ``path`` (``.parquet`` or ``.csv``) with the run's
        :attr:`settings`: in the Parquet file's metadata (key ``zsbench.settings``, JSON;
        :func:`read_settings` reads it), beside a CSV as ``<path>.settings.json``."""
        import json

        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".parquet", ".pq", ".csv"):
            raise UsageError(f"--output must end in .parquet or .csv, got {target.name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        settings = json.dumps(self.settings, default=str, sort_keys=True)
        if suffix == ".csv":
            self.scores.to_csv(target, index=False)
            settings_path(target).write_text(settings + "\n", encoding="utf-8")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.scores, preserve_index=False)
            metadata = {**(table.schema.metadata or {}), SETTINGS_KEY: settings.encode()}
            pq.write_table(table.replace_schema_metadata(metadata), target)
        return target


SETTINGS_KEY = b"zsbench.settings"


def settings_path(scores_path: str | Path) -> Path:
    """Where the settings of a CSV scores file are written: ``<path>.settings.json``."""
    path = Path(scores_path)
    return path.with_name(path.name + ".settings.json")


def read_settings(scores_path: str | Path) -> dict[str, Any]:
    """The run settings written with a scores file by :meth:`EvaluationResult.write_scores`
    (``{}`` when the file has none)."""
    import json

    path = Path(scores_path)
    if path.suffix.lower() == ".csv":
        sidecar = settings_path(path)
        return json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[SETTINGS_KEY]) if SETTINGS_KEY in metadata else {}


def evaluate(
    proxies: str | Sequence[str] = "all",
    benchmark: str | Path | None = None,
    *,
    metrics: str | Sequence[str] = "all",
    pool: PoolOptions = PoolOptions(),
    scoring: ScoringOptions = ScoringOptions(),
    run: RunOptions = RunOptions(),
    indices: IndexOptions = IndexOptions(),
    host: PluginHost | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> EvaluationResult:
    """Evaluate proxies on a benchmark (the steps are in the module docstring).

    Args:
        proxies: proxy selection (names, globs, ``all``, exclusions; see :mod:`zsbench.registry`).
        benchmark: a registered benchmark name, or the path of a Parquet/CSV table with
            columns ``arch``, ``accuracy`` and optionally ``flops``, ``params``, ``depth``
            (then ``pool.space`` is required); ``None``: the default benchmark
            (:func:`zsbench.settings.default_benchmark`), on its default seeded sample
            (:func:`zsbench.settings.default_sample`) unless ``pool.limit`` is given.
        metrics: index selection, like ``proxies``.
        pool, scoring, run, indices: the options of each step (see their classes).
        host: plugin host (default: the process-wide one, from entry points).
        progress: ``True`` shows a rich progress bar on stderr; a callable gets ``(done, total)``.

    Returns:
        An :class:`EvaluationResult`.
    """
    started = time.perf_counter()
    # a Ray cluster's workers may have the GPU the driver lacks: check the spelling only
    check_device(scoring.device, here=run.executor != "ray")
    explicit_host = host is not None
    host = host if host is not None else get_host()
    job = _resolve(host, proxies, benchmark, metrics, pool, scoring, indices)
    with _open_cache(run.cache) as store:
        plan = _plan(job, store, scoring, run.retry_failed, _packs(run, host))
        if run.cached_only:
            job, plan = _cached_subset(job, plan)
        computed = _run(job, plan, store, scoring, run, host, explicit_host, progress)
        scores, failures, seconds = _assemble(job, plan)
    summary = _summarise(job, scores, failures, seconds, indices, seed=pool.seed)
    result = _result(job, summary, scores, failures, computed, plan, time.perf_counter() - started)
    result.settings = _settings(job, pool, scoring, indices)
    result.settings["cached_only"] = run.cached_only
    return result


# -- 1. resolve ------------------------------------------------------------------------------------


@dataclass
class _Job:
    """Everything step 1 resolved: what to score, on which architectures, with which inputs."""

    proxies: list[Entry[Proxy]]
    metrics: list[Entry[Metric]]
    metric_options: dict[str, dict[str, Any]]
    bench: Benchmark
    space: Entry[SearchSpace]
    table: pd.DataFrame  # the benchmark's rows evaluated, with their ``canonical`` key
    batch: Batch
    columns: dict[str, str]  # proxy key -> its output column
    data_root: str | Path | None
    limit: int | None = None  # the subset size used (the default sample when none was asked)
    table_archs: int = 0  # architectures in the whole benchmark table
    default_sample: bool = False

    @property
    def num_classes(self) -> int:
        return int(self.bench.num_classes)

    @property
    def input_size(self) -> int:
        return int(self.bench.input_size)


def _resolve(
    host: PluginHost,
    proxies: str | Sequence[str],
    benchmark: str | Path | None,
    metrics: str | Sequence[str],
    pool: PoolOptions,
    scoring: ScoringOptions,
    indices: IndexOptions,
) -> _Job:
    """Step 1: components, benchmark table (validated keys, seeded subset) and input batch."""
    proxy_entries = host.proxies.select_entries(proxies)
    metric_entries = order_metrics(host.metrics.select_entries(metrics))
    metric_options = resolve_options([e.obj for e in metric_entries], indices.shared, indices.per_metric)
    bench = resolve_benchmark(
        host,
        default_benchmark() if benchmark is None else benchmark,
        pool.space,
        dataset=pool.dataset,
        num_classes=pool.num_classes,
    )
    space_entry = host.spaces.entry(bench.space)
    table = load_benchmark_table(bench, pool.data_root)
    canonical = [_canonical(space_entry.obj, key, bench.name, row) for row, key in enumerate(table["arch"])]
    table = table.assign(canonical=canonical)
    limit = pool.limit
    if benchmark is None and limit is None:
        # The default run is a quick, affordable look: a seeded sample, stated in every output.
        limit = default_sample()
    table_archs = len(table)
    table = table.iloc[sample_rows(len(table), limit, pool.seed)].reset_index(drop=True)
    batch = scoring.batch
    if batch is None:
        batch = make_batch(
            bench, batch_size=scoring.batch_size, seed=scoring.score_seed, data_root=pool.data_root, source=scoring.batch_source
        )
    return _Job(
        proxies=proxy_entries,
        metrics=metric_entries,
        metric_options=metric_options,
        bench=bench,
        space=space_entry,
        table=table,
        batch=batch,
        columns=_proxy_columns(proxy_entries),
        data_root=pool.data_root,
        limit=limit,
        table_archs=table_archs,
        default_sample=benchmark is None and pool.limit is None and limit is not None,
    )


def sample_rows(n: int, limit: int | None, seed: int) -> list[int]:
    """The rows of a seeded subset of ``limit`` of ``n`` rows, in table order: the first
    ``limit`` of a seeded permutation, so growing ``limit`` under one seed only adds rows."""
    import numpy as np

    if limit is None or limit >= n:
        return list(range(n))
    return sorted(int(row) for row in np.random.default_rng(seed).permutation(n)[:limit])


def resolve_benchmark(
    host: PluginHost,
    benchmark: str | Path,
    space: str | None,
    *,
    dataset: str | None = None,
    num_classes: int | None = None,
) -> Benchmark:
    """The benchmark object for a name or a table file path.

    ``dataset`` and ``num_classes`` describe a table file (default CIFAR-10 and its class
    count); a registered benchmark knows its own, so giving them for one is an error.

    Raises:
        UnknownComponentError: an unknown name (a one-line message listing the installed
            ones; for the default benchmark, saying how to install or replace it).
        UsageError: a table file without ``space``, an unknown dataset without
            ``num_classes``, or ``dataset``/``num_classes`` given for a registered benchmark.
    """
    if looks_like_table_file(benchmark):
        if not space:
            raise UsageError("a benchmark table file needs its search space: add --space NAME (e.g. --space R1)")
        space_obj = host.spaces.get(space)  # an unknown space fails here, with the list of known ones
        from zsbench.data import NUM_CLASSES

        dataset = dataset or "cifar10"
        if num_classes is None:
            if dataset not in NUM_CLASSES:
                raise UsageError(
                    f"unknown class count for dataset {dataset!r}: add --num-classes N "
                    f"(known datasets: {', '.join(NUM_CLASSES)})"
                )
            num_classes = NUM_CLASSES[dataset]
        if num_classes < 1:
            raise UsageError(f"--num-classes must be at least 1, got {num_classes}")
        return TableBenchmark(
            Path(benchmark),
            space=space,
            dataset=dataset,
            num_classes=num_classes,
            input_size=int(space_obj.default_input_size),
        )
    if dataset is not None or num_classes is not None:
        raise UsageError(
            f"--dataset and --num-classes describe a benchmark table file; {str(benchmark)!r} is a registered "
            "benchmark that knows its own"
        )
    name = str(benchmark)
    if name == default_benchmark() and name not in host.benchmarks:
        installed = ", ".join(host.benchmarks.names()) or "none"
        raise UnknownComponentError(
            f"the default benchmark {name!r} is not installed; name one with --benchmark "
            f"(installed: {installed}), a table file with --benchmark FILE --space NAME, "
            "or set ZSBENCH_BENCHMARK"
        )
    return host.benchmarks.get(name)


def make_batch(
    bench: Benchmark, *, batch_size: int, seed: int, data_root: str | Path | None, source: str = "auto"
) -> Batch:
    """The proxies' input batch for the benchmark's dataset (see :func:`zsbench.data.proxy_batch`):
    the shipped CIFAR-10 batch, seeded augmented training images, or (not for CIFAR-10) Gaussian
    inputs with a warning when the dataset is absent."""
    from zsbench.data import proxy_batch

    try:
        return proxy_batch(
            dataset=bench.dataset,
            batch_size=batch_size,
            seed=seed,
            data_root=data_root,
            input_size=int(bench.input_size),
            num_classes=int(bench.num_classes),
            batch_source=source,
        )
    except ValueError as exc:  # e.g. a batch larger than the dataset
        raise UsageError(str(exc)) from None


def _canonical(space: Any, key: str, bench_name: str, row: int) -> str:
    try:
        return space.canonical(key)
    except InvalidArchitectureError as exc:
        raise InvalidArchitectureError(
            f"benchmark {bench_name}, row {row}: space {space.name} rejects {key!r}: {exc}"
        ) from None


def score_column(proxy_label: str) -> str:
    """The per-architecture column of a proxy: its name, or ``proxy:<name>`` for a proxy
    named like one of the fixed columns (the naive ``flops``, ``params`` and ``depth``
    proxies), whose names the cost columns already use."""
    return f"proxy:{proxy_label}" if proxy_label in RESERVED_COLUMNS else proxy_label


def _proxy_columns(entries: Sequence[Entry[Proxy]]) -> dict[str, str]:
    """Output column of each proxy: its bare name, or the qualified one when two share a name."""
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.obj.name] = counts.get(e.obj.name, 0) + 1
    return {e.qualified_name: (e.obj.name if counts[e.obj.name] == 1 else e.qualified_name) for e in entries}



# -- 2. plan from the cache ------------------------------------------------------------------------


@dataclass
class _Plan:
    """What the cache holds and what is left to compute."""

    contracts: dict[str, str]  # proxy key -> its run contract's key
    archs: list[str]  # distinct canonical architectures
    stored: dict[str, dict[str, CachedScore]]  # proxy key -> arch -> score
    stored_costs: dict[str, CachedCost]
    missing_costs: list[str]  # cost columns the table lacks (for some rows)
    tasks: list[ArchTask]
    pack_hits: dict[tuple[str, str], str] = field(default_factory=dict)  # (proxy key, arch) -> the pack it came from

    def from_packs(self) -> dict[str, int]:
        """Scores read from each pack, over the architectures evaluated (``cached_only`` narrows them)."""
        evaluated = set(self.archs)
        counts: dict[str, int] = {}
        for (_, arch), pack_name in self.pack_hits.items():
            if arch in evaluated:
                counts[pack_name] = counts.get(pack_name, 0) + 1
        return dict(sorted(counts.items()))


def score_contract_key(proxy: Proxy, batch: Batch, seed: int, device: str, bench: Benchmark) -> str:
    """The run contract a score of ``proxy`` on ``bench`` is stored under, in the cache and in the
    packs: :func:`~zsbench.engine.harness.run_contract` plus the classifier width and input size."""
    contract = run_contract(proxy, batch, seed, device)
    contract.update({"num_classes": int(bench.num_classes), "input_size": int(bench.input_size)})
    return contract_key(contract)


def _packs(run: RunOptions, host: PluginHost) -> PackLayer | None:
    """The score packs to read, or ``None`` when they are switched off."""
    wanted = use_packs() if run.use_packs is None else run.use_packs
    return layer_of(host) if wanted and len(host.packs) else None


def _plan(
    job: _Job, store: ScoreCache, scoring: ScoringOptions, retry_failed: bool, packs: PackLayer | None = None
) -> _Plan:
    """Step 2: the cached scores and costs (then the packs' for what the cache lacks), and one
    task per architecture missing any."""
    space_name = job.space.obj.name
    contracts = {
        entry.qualified_name: score_contract_key(entry.obj, job.batch, scoring.score_seed, scoring.device, job.bench)
        for entry in job.proxies
    }
    archs = list(dict.fromkeys(job.table["canonical"]))
    stored = {
        e.qualified_name: store.get_scores(space_name, archs, e.obj.name, e.obj.version, contracts[e.qualified_name])
        for e in job.proxies
    }
    missing_costs = [c for c in COST_COLUMNS if c not in job.table.columns or job.table[c].isna().any()]
    stored_costs = store.get_costs(space_name, archs, job.num_classes, job.input_size) if missing_costs else {}

    def wanted(record: CachedScore | CachedCost | None) -> bool:
        return record is None or (retry_failed and record.error is not None)

    pack_hits: dict[tuple[str, str], str] = {}
    if packs is not None:
        for e in job.proxies:
            have = stored[e.qualified_name]
            lacking = [arch for arch in archs if wanted(have.get(arch))]
            if not lacking:
                continue
            found = packs.get_scores(space_name, lacking, e.obj.name, e.obj.version, contracts[e.qualified_name])
            for arch, (record, pack_name) in found.items():
                if not wanted(record):  # a pack's failure is recomputed only with retry_failed, like a cached one
                    have[arch] = record
                    pack_hits[(e.qualified_name, arch)] = pack_name
        if missing_costs:
            lacking = [arch for arch in archs if wanted(stored_costs.get(arch))]
            for arch, cost in packs.get_costs(space_name, lacking, job.num_classes, job.input_size).items():
                if not wanted(cost):
                    stored_costs[arch] = cost

    tasks = []
    for arch in archs:
        todo = [e for e in job.proxies if wanted(stored[e.qualified_name].get(arch))]
        want_cost = bool(missing_costs) and wanted(stored_costs.get(arch))
        if todo or want_cost:
            tasks.append(
                ArchTask(
                    index=len(tasks),
                    space=job.space.qualified_name,
                    arch=arch,
                    proxies=tuple(e.qualified_name for e in todo),
                    proxy_versions=tuple(e.obj.version for e in todo),
                    want_cost=want_cost,
                    num_classes=job.num_classes,
                    input_size=job.input_size,
                    seed=scoring.score_seed,
                    device=scoring.device,
                )
            )
    return _Plan(contracts, archs, stored, stored_costs, missing_costs, tasks, pack_hits)


def _cached_subset(job: _Job, plan: _Plan) -> tuple[_Job, _Plan]:
    """``cached_only``: the job and plan restricted to the architectures with nothing to compute."""
    import dataclasses

    missing = {task.arch for task in plan.tasks}
    table = job.table[~job.table["canonical"].isin(missing)].reset_index(drop=True)
    if table.empty:
        raise UsageError(
            f"the cache holds no architecture of {job.bench.name} with every selected score; "
            "score them first with zsbench evaluate (same options), or choose fewer proxies"
        )
    archs = [arch for arch in plan.archs if arch not in missing]
    return dataclasses.replace(job, table=table), dataclasses.replace(plan, archs=archs, tasks=[])


# -- 3. run ----------------------------------------------------------------------------------------


def _run(
    job: _Job,
    plan: _Plan,
    store: ScoreCache,
    scoring: ScoringOptions,
    run: RunOptions,
    host: PluginHost,
    explicit_host: bool,
    progress: bool | Callable[[int, int], None],
) -> int:
    """Step 3: compute the planned tasks, storing each architecture as it arrives; returns
    the number of scores computed."""
    space_name = job.space.obj.name
    entries_by_key = {e.qualified_name: e for e in job.proxies}
    # the predicted compute time feeds the ETA and the automatic worker count; neither asked, not worth reading
    expected = _expected_seconds(job, plan, host) if progress or run.workers is None else None
    workers = run.workers if run.workers is not None else default_workers(len(plan.tasks), expected)
    executor = make_executor(
        run.executor,
        workers=workers,
        threads=run.threads,
        ray_address=run.ray_address,
        max_attempts=run.max_attempts,
        timeout=effective_timeout(run.timeout, run.executor, workers),
    )
    work = ScoringWork(host, job.batch, explicit_host=explicit_host, device=scoring.device)
    cached_archs = len(plan.archs) - len(plan.tasks)
    bar = Progress.from_option(
        progress,
        len(plan.tasks),
        description=f"scoring archs ({cached_archs} fully cached)",
        unit="arch",
        in_flight=workers,
        expected_seconds=expected if progress else None,
    )
    computed = 0
    # Ctrl-C and SIGTERM stop the run (RunInterrupted) after the stored architectures; a
    # KeyboardInterrupt or SystemExit a plugin raises is only that plugin's failure
    with bar, InterruptGuard():
        for outcome in run_scoring(executor, plan.tasks, work):
            task = plan.tasks[outcome.index]
            computed += _store_outcome(store, space_name, task, outcome, entries_by_key, plan.contracts, plan.stored)
            if outcome.cost is not None:
                plan.stored_costs[outcome.arch] = outcome.cost
                if not outcome.crashed:  # a crash says nothing about the architecture's cost
                    store.put_cost(space_name, outcome.arch, job.num_classes, job.input_size, outcome.cost)
            bar.advance(ok=not outcome.crashed and all(r.error is None for r in outcome.results))
    return computed


def _expected_seconds(job: _Job, plan: _Plan, host: PluginHost) -> float | None:
    """The planned tasks' compute time as recorded timings predict it (the median seconds of each
    proxy in this run's cache and packs, else in any installed pack of the space), so the ETA
    knows a slow proxy such as ntk from the start; ``None`` when a proxy has no recorded time."""
    import statistics

    layer = layer_of(host) if len(host.packs) else None
    medians: dict[str, float] = {}
    for entry in job.proxies:
        times = [r.seconds for r in plan.stored[entry.qualified_name].values()]
        median = statistics.median(times) if times else None
        if median is None and layer is not None:
            median = layer.median_seconds(job.space.obj.name, entry.obj.name, entry.obj.version)
        if median is None:
            return None
        medians[entry.qualified_name] = median
    return sum(medians[key] for task in plan.tasks for key in task.proxies)


@contextlib.contextmanager
def _open_cache(cache: str | Path | ScoreCache | None) -> Iterator[ScoreCache]:
    """The cache to use; closed afterwards only when opened here."""
    if isinstance(cache, ScoreCache):
        yield cache
        return
    store = ScoreCache(cache)
    try:
        yield store
    finally:
        store.close()


def _store_outcome(
    store: ScoreCache,
    space_name: str,
    task: ArchTask,
    outcome: TaskOutcome,
    entries_by_key: Mapping[str, Entry[Proxy]],
    contracts: Mapping[str, str],
    stored: dict[str, dict[str, CachedScore]],
) -> int:
    """Write one architecture's scores to the cache (one transaction) and to ``stored``."""
    records = []
    for key, result in zip(task.proxies, outcome.results, strict=True):
        proxy = entries_by_key[key].obj
        records.append(ScoreRecord(proxy.name, proxy.version, contracts[key], result.value, result.error, result.seconds))
        stored[key][outcome.arch] = CachedScore(result.value, result.error, result.seconds)
    if records:
        store.put_scores(space_name, outcome.arch, records)
    return len(records)



def score_architectures(
    proxies: Sequence[Entry[Proxy]],
    bench: Benchmark,
    space: Entry[SearchSpace],
    archs: Sequence[str],
    costs: pd.DataFrame,
    batch: Batch,
    store: ScoreCache,
    *,
    scoring: ScoringOptions = ScoringOptions(),
    run: RunOptions = RunOptions(),
    host: PluginHost,
    explicit_host: bool = True,
) -> tuple[dict[str, dict[str, CachedScore]], int]:
    """Steps 2 and 3 of :func:`evaluate` for architectures chosen by the caller (a search's
    candidates) rather than a benchmark's rows: the cached scores are read, the missing ones
    computed on ``run``'s executor and stored as they arrive, under the same run contracts.

    Args:
        proxies: the proxy entries to score.
        bench: gives the dataset, classifier width and input size of the run contract.
        space: the space of ``archs`` (canonical strings).
        archs: the architectures, distinct and canonical.
        costs: ``flops``, ``params``, ``depth`` of each of ``archs`` (so no task computes them).
        batch: the proxies' input batch (:func:`make_batch`).

    Returns:
        ``(scores, computed)``: proxy qualified name -> arch -> cached score (a failure has
        its ``error``), and how many scores were computed here.
    """
    table = costs.reset_index(drop=True).assign(arch=list(archs), canonical=list(archs), accuracy=float("nan"))
    job = _Job(
        proxies=list(proxies), metrics=[], metric_options={}, bench=bench, space=space, table=table,
        batch=batch, columns=_proxy_columns(proxies), data_root=None,
    )
    plan = _plan(job, store, scoring, run.retry_failed, _packs(run, host))
    computed = _run(job, plan, store, scoring, run, host, explicit_host, False)
    return plan.stored, computed


# -- 4. assemble -----------------------------------------------------------------------------------


def _assemble(job: _Job, plan: _Plan) -> tuple[pd.DataFrame, list[tuple[str, str, str]], dict[str, float]]:
    """Step 4: the per-architecture frame (benchmark keys, accuracy, costs, one column per
    proxy), the failures ``(arch, proxy column, reason)`` and each proxy's mean seconds."""
    import numpy as np
    import pandas as pd

    table, stored, stored_costs, missing_costs = job.table, plan.stored, plan.stored_costs, plan.missing_costs
    frame = pd.DataFrame({"arch": table["arch"].to_numpy(), "accuracy": table["accuracy"].to_numpy(dtype=float)})
    for column in COST_COLUMNS:
        from_table = (
            pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
            if column in table.columns
            else np.full(len(table), np.nan)
        )
        if column in missing_costs:
            computed = np.array(
                [getattr(stored_costs.get(a), column, float("nan")) for a in table["canonical"]], dtype=float
            )
            from_table = np.where(np.isfinite(from_table), from_table, computed)
        frame[column] = from_table
    failures: list[tuple[str, str, str]] = []
    seconds: dict[str, float] = {}
    for entry in job.proxies:
        records = stored[entry.qualified_name]
        values = np.full(len(table), np.nan)
        times = []
        for row, (key, arch) in enumerate(zip(table["arch"], table["canonical"], strict=True)):
            record = records.get(arch)
            if record is None:  # pragma: no cover - every arch was computed above
                continue
            times.append(record.seconds)
            if record.error is None and record.value is not None:
                values[row] = record.value
            else:
                failures.append((key, job.columns[entry.qualified_name], record.error or "no value"))
        frame[score_column(job.columns[entry.qualified_name])] = values
        seconds[entry.qualified_name] = float(np.mean(times)) if times else float("nan")
    return frame, failures, seconds



# -- 5. summarise ----------------------------------------------------------------------------------


def _summarise(
    job: _Job,
    scores: pd.DataFrame,
    failures: Sequence[tuple[str, str, str]],
    seconds: Mapping[str, float],
    options: IndexOptions,
    *,
    seed: int,
) -> pd.DataFrame:
    """Step 5: one row per proxy with every index entry, its interval, failures and time."""
    import numpy as np
    import pandas as pd

    n = len(scores)
    # one set of resamples shared by every proxy and index: intervals of two proxies are
    # computed on the same architectures, so their comparison is paired
    bootstrap = options.bootstrap
    resamples = np.random.default_rng(seed).integers(0, n, size=(bootstrap, n)) if bootstrap and n else None
    accuracy = scores["accuracy"].to_numpy(dtype=float)
    costs = scores[list(COST_COLUMNS)].reset_index(drop=True)
    # resampled cost frames are the same for every proxy and index: build them once
    resampled_costs = [costs.iloc[rows].reset_index(drop=True) for rows in resamples] if resamples is not None else None
    jackknife = jackknife_groups(n) if resamples is not None else None  # BCa's acceleration, shared like the resamples
    jackknife_costs = [costs.iloc[rows].reset_index(drop=True) for rows in jackknife] if jackknife is not None else None
    failure_counts: dict[str, int] = {}
    for _, proxy_column, _ in failures:
        failure_counts[proxy_column] = failure_counts.get(proxy_column, 0) + 1
    rows = []
    for entry in job.proxies:
        column = job.columns[entry.qualified_name]
        row: dict[str, Any] = {"proxy": column}
        for metric_entry in job.metrics:
            data = MetricInput(
                scores=scores[score_column(column)].to_numpy(dtype=float),
                accuracy=accuracy,
                higher_is_better=entry.obj.higher_is_better,
                costs=costs,
                options=job.metric_options[metric_entry.obj.name],
            )
            row.update(
                compute_with_interval(
                    metric_entry.obj, data, resamples, options.confidence, resampled_costs, jackknife, jackknife_costs
                )
            )
        row["failures"] = failure_counts.get(column, 0)
        row["seconds_per_arch"] = seconds.get(entry.qualified_name, float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def _result(
    job: _Job,
    summary: pd.DataFrame,
    scores: pd.DataFrame,
    failures: Sequence[tuple[str, str, str]],
    computed: int,
    plan: _Plan,
    seconds: float,
) -> EvaluationResult:
    import pandas as pd

    from_packs = plan.from_packs()

    return EvaluationResult(
        benchmark=str(job.bench.name),
        space=job.space.obj.name,
        archs=len(job.table),
        summary=summary,
        scores=scores,
        failures=pd.DataFrame(list(failures), columns=["arch", "proxy", "error"]),
        computed=computed,
        cached=len(plan.archs) * len(job.proxies) - computed - sum(from_packs.values()),
        from_packs=from_packs,
        seconds=seconds,
        index_names=[e.obj.name for e in job.metrics],
        entry_roles=entry_roles([e.obj for e in job.metrics], list(summary.columns)),
        entry_labels=entry_labels([e.obj for e in job.metrics], list(summary.columns)),
        noise_ceiling=_noise_ceiling(job.bench, job.data_root),
    )


def _settings(job: _Job, pool: PoolOptions, scoring: ScoringOptions, indices: IndexOptions) -> dict[str, Any]:
    """The run's settings as plain values (see :attr:`EvaluationResult.settings`)."""
    import platform

    import torch

    from zsbench import __version__

    return {
        "benchmark": str(job.bench.name),
        "space": job.space.obj.name,
        "dataset": str(job.bench.dataset),
        "archs": len(job.table),
        "limit": job.limit,
        "table_archs": job.table_archs,
        "default_sample": job.default_sample,
        "seed": pool.seed,
        "score_seed": scoring.score_seed,
        "batch_size": job.batch.size,
        "device": scoring.device,
        "input": job.batch.source,
        "bootstrap": indices.bootstrap,
        "confidence": indices.confidence,
        "interval_method": INTERVAL_METHOD,
        "metric_options": {name: {k: _plain(v) for k, v in options.items()} for name, options in job.metric_options.items()},
        "benchmark_caveat": _caveat(job.bench),
        "proxy_versions": {job.columns[e.qualified_name]: str(e.obj.version) for e in job.proxies},
        "versions": {"zsbench": __version__, "torch": torch.__version__, "python": platform.python_version()},
    }


def _plain(value: Any) -> Any:
    """An option value as JSON-friendly data (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


def _caveat(bench: Benchmark) -> str | None:
    """The benchmark's caveat line (see :func:`_optional_extra`)."""
    line = _optional_extra(bench, "caveat", bench.caveat)
    return str(line) if line else None


def _noise_ceiling(bench: Benchmark, data_root: str | Path | None) -> dict[str, Any] | None:
    """The benchmark's noise ceiling (see :func:`_optional_extra`)."""
    root = Path(data_root) if data_root is not None else None
    ceiling = _optional_extra(bench, "noise ceiling", lambda: bench.noise_ceiling(root))
    return dict(ceiling) if ceiling else None


def _optional_extra(bench: Benchmark, what: str, call: Callable[[], Any]) -> Any:
    """``call()``, one of a benchmark's optional extras; a plugin whose extra raises only
    loses that line of the output (with a warning), not the evaluation that succeeded."""
    try:
        return call()
    except Exception as exc:  # third-party code
        warnings.warn(f"benchmark {bench.name!r}: {what} unavailable: {describe_error(exc)}", stacklevel=3)
        return None



__all__ = [
    "EvaluationResult",
    "IndexOptions",
    "PoolOptions",
    "RunOptions",
    "ScoringOptions",
    "compute_with_interval",
    "evaluate",
    "load_benchmark_table",
    "make_batch",
    "resolve_benchmark",
    "sample_rows",
    "score_contract_key",
]
