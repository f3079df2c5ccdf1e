"""The evaluation engine: score every architecture of a benchmark with every chosen proxy,
then measure with every chosen index how well each proxy ranks the architectures.

Steps of :func:`evaluate`:

1. Load the benchmark table (a registered benchmark, or a Parquet/CSV file with ``space``)
   and validate every architecture key with the search space (``space.canonical``).
2. Optionally take a seeded random subset (``limit``, ``seed``).
3. Look every (architecture, proxy) score up in the :mod:`zsbench.cache`; send the
   architectures with missing scores (or costs) as tasks to an executor
   (:mod:`zsbench.executors`), and store each architecture's results as soon as they arrive.
4. Compute each index on the whole pool and a seeded percentile-bootstrap interval over
   architectures (the same resamples for every proxy, so proxies can be compared).

Costs (``flops``, ``params``, ``depth``) come from the benchmark table where it has them
and are computed with the search space (and cached) otherwise.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.cache import CachedCost, CachedScore, ScoreCache, ScoreRecord, contract_key
from zsbench.errors import InvalidArchitectureError, UnknownComponentError, UsageError, ZsbenchError
from zsbench.executors import DEFAULT_MAX_ATTEMPTS, ArchTask, TaskOutcome, make_executor
from zsbench.interfaces import Batch, Benchmark, Metric, MetricInput, Proxy
from zsbench.plugins import PluginHost, get_host
from zsbench.registry import Entry
from zsbench.scoring import run_contract

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: The benchmark ``zsbench evaluate`` uses when none is named (shipped by the training pipeline).
DEFAULT_BENCHMARK = "nbzero-mini"
DEFAULT_BATCH_SIZE = 64
DEFAULT_BOOTSTRAP = 200
DEFAULT_CONFIDENCE = 0.95
COST_COLUMNS = ("flops", "params", "depth")
RESERVED_COLUMNS = ("arch", "accuracy", *COST_COLUMNS)
PAPER_INDEX_ORDER = ("pearson", "kendall", "spearman", "br_at_k", "p_at_k", "mbr_flops", "mbr_params", "mbr_depth")
TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv")

# entries that get a bootstrap interval: the index itself and its per-K values (``br_at_k/5%``)
_INTERVAL_KEY = re.compile(r"^[^/]+(/[0-9.]+%)?$")


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
        computed: scores computed in this run; ``cached``: scores taken from the cache.
        seconds: wall time of the whole evaluation.
        noise_ceiling: the benchmark's :meth:`~zsbench.Benchmark.noise_ceiling` (rank
            correlations between two trainings of its networks), ``None`` when unknown.
    """

    benchmark: str
    space: str
    archs: int
    summary: pd.DataFrame
    scores: pd.DataFrame
    failures: pd.DataFrame
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0
    index_names: list[str] = field(default_factory=list)
    noise_ceiling: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"benchmark", "archs", "noise_ceiling", "rows": [{"proxy", <index entries>...,
        "failures", "seconds_per_arch"}]}`` with NaN as ``null``."""
        rows = []
        for record in self.summary.to_dict(orient="records"):
            rows.append({key: _json_value(value) for key, value in record.items()})
        return {"benchmark": self.benchmark, "archs": self.archs, "noise_ceiling": self.noise_ceiling, "rows": rows}

    def write_scores(self, path: str | Path) -> Path:
        """Write :attr:`scores` to ``path`` (``.parquet`` or ``.csv``)."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".parquet", ".pq", ".csv"):
            raise UsageError(f"--output must end in .parquet or .csv, got {target.name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            self.scores.to_csv(target, index=False)
        else:
            self.scores.to_parquet(target, index=False)
        return target


def evaluate(
    proxies: str | Sequence[str] = "all",
    benchmark: str | Path = DEFAULT_BENCHMARK,
    *,
    space: str | None = None,
    dataset: str | None = None,
    num_classes: int | None = None,
    metrics: str | Sequence[str] = "all",
    limit: int | None = None,
    seed: int = 0,
    score_seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: str = "cpu",
    data_root: str | Path | None = None,
    cache: str | Path | ScoreCache | None = None,
    retry_failed: bool = False,
    executor: str = "local",
    workers: int = 1,
    ray_address: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    confidence: float = DEFAULT_CONFIDENCE,
    metric_options: Mapping[str, Any] | None = None,
    host: PluginHost | None = None,
    batch: Batch | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> EvaluationResult:
    """Evaluate proxies on a benchmark (see the module docstring).

    Args:
        proxies: proxy selection (names, globs, ``all``, exclusions; see :mod:`zsbench.registry`).
        benchmark: a registered benchmark name, or the path of a Parquet/CSV table with
            columns ``arch``, ``accuracy`` and optionally ``flops``, ``params``, ``depth``
            (then ``space`` is required).
        space: the search space of a table file (ignored for registered benchmarks).
        dataset: the dataset a table file's accuracies were measured on (default
            ``cifar10``): selects the proxies' input images and the classifier width.
        num_classes: classifier width of a table file's networks (default: the dataset's).
        metrics: index selection, like ``proxies``.
        limit: evaluate a seeded random subset of this many architectures.
        seed: seed of the subset.
        score_seed: seed of the input batch and of every model's initialisation.
        batch_size: images in the proxies' input batch.
        device: torch device for scoring.
        data_root: root of the shared data (else ``ZSBENCH_DATA``).
        cache: cache file path, an open :class:`~zsbench.cache.ScoreCache`, or ``None``
            for the default location.
        retry_failed: compute again the scores (and costs) cached as failures.
        executor: ``local`` (in-process; ``workers > 1`` means processes), ``process`` or ``ray``.
        workers: worker processes for ``process``.
        ray_address: Ray cluster address for ``ray``.
        max_attempts: tries of an architecture whose worker process crashed (process and
            Ray executors) before it is recorded as failed.
        bootstrap: bootstrap resamples for the intervals (0: no intervals).
        confidence: interval coverage.
        metric_options: options given to every index, e.g. ``{"k": [0.001, 0.05], "budgets": 5}``.
        host: plugin host (default: the process-wide one, from entry points).
        batch: use this input batch instead of building one from the benchmark's dataset.
        progress: ``True`` shows a rich progress bar on stderr; a callable gets ``(done, total)``.

    Returns:
        An :class:`EvaluationResult`.
    """
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    explicit_host = host is not None
    host = host if host is not None else get_host()
    if not 0 < confidence < 1:
        raise UsageError(f"confidence must be between 0 and 1, got {confidence}")
    if bootstrap < 0:
        raise UsageError(f"bootstrap must be 0 or more, got {bootstrap}")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    if executor not in ("local", "process", "ray"):
        raise UsageError(f"unknown executor {executor!r}: choose local, process or ray")
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    proxy_entries = host.proxies.select_entries(proxies)
    metric_entries = _paper_order(host.metrics.select_entries(metrics))
    bench = resolve_benchmark(host, benchmark, space, dataset=dataset, num_classes=num_classes)
    space_entry = host.spaces.entry(bench.space)
    space_obj = space_entry.obj
    table = load_benchmark_table(bench, data_root)

    canonical = [_canonical(space_obj, key, bench.name, row) for row, key in enumerate(table["arch"])]
    table = table.assign(canonical=canonical)
    if limit is not None:
        if limit < 1:
            raise UsageError(f"--limit must be at least 1, got {limit}")
        if limit < len(table):
            rng = np.random.default_rng(seed)
            chosen = np.sort(rng.choice(len(table), size=limit, replace=False))
            table = table.iloc[chosen]
    table = table.reset_index(drop=True)
    input_size = int(bench.input_size)
    num_classes = int(bench.num_classes)

    if batch is None:
        batch = make_batch(bench, batch_size=batch_size, seed=score_seed, data_root=data_root)

    column_names = _proxy_columns(proxy_entries)
    owns_cache = not isinstance(cache, ScoreCache)
    store = ScoreCache(cache) if owns_cache else cache
    try:
        contracts = {}
        for entry in proxy_entries:
            contract = run_contract(entry.obj, batch, score_seed, device)
            contract.update({"num_classes": num_classes, "input_size": input_size})
            contracts[entry.qualified_name] = contract_key(contract)
        archs = list(dict.fromkeys(table["canonical"]))
        stored = {
            entry.qualified_name: store.get_scores(
                space_obj.name, archs, entry.obj.name, entry.obj.version, contracts[entry.qualified_name]
            )
            for entry in proxy_entries
        }
        missing_costs = [c for c in COST_COLUMNS if c not in table.columns or table[c].isna().any()]
        stored_costs = store.get_costs(space_obj.name, archs, num_classes, input_size) if missing_costs else {}

        tasks = []
        for arch in archs:
            todo = [
                e
                for e in proxy_entries
                if arch not in stored[e.qualified_name]
                or (retry_failed and stored[e.qualified_name][arch].error is not None)
            ]
            want_cost = bool(missing_costs) and (
                arch not in stored_costs or (retry_failed and stored_costs[arch].error is not None)
            )
            if todo or want_cost:
                tasks.append(
                    ArchTask(
                        index=len(tasks),
                        space=space_entry.qualified_name,
                        arch=arch,
                        proxies=tuple(e.qualified_name for e in todo),
                        proxy_versions=tuple(e.obj.version for e in todo),
                        want_cost=want_cost,
                        num_classes=num_classes,
                        input_size=input_size,
                        seed=score_seed,
                        device=device,
                    )
                )
        computed = 0
        entries_by_key = {e.qualified_name: e for e in proxy_entries}
        run = make_executor(
            executor,
            host=host,
            explicit_host=explicit_host,
            workers=workers,
            ray_address=ray_address,
            max_attempts=max_attempts,
        )
        with _Progress(progress, len(tasks), len(archs) - len(tasks)) as bar:
            for outcome in run.run(tasks, batch):
                task = tasks[outcome.index]
                computed += _store_outcome(store, space_obj.name, task, outcome, entries_by_key, contracts, stored)
                if outcome.cost is not None:
                    stored_costs[outcome.arch] = outcome.cost
                    if not outcome.crashed:  # a crash says nothing about the architecture's cost
                        store.put_cost(space_obj.name, outcome.arch, num_classes, input_size, outcome.cost)
                bar.advance()

        scores_frame, failures, seconds = _assemble_scores(
            table, proxy_entries, column_names, stored, stored_costs, missing_costs
        )
    finally:
        if owns_cache:
            store.close()

    summary = _summarise(
        scores_frame,
        proxy_entries,
        column_names,
        metric_entries,
        failures,
        seconds,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        options=dict(metric_options or {}),
    )
    return EvaluationResult(
        benchmark=str(bench.name),
        space=space_obj.name,
        archs=len(table),
        summary=summary,
        scores=scores_frame,
        failures=pd.DataFrame(failures, columns=["arch", "proxy", "error"]),
        computed=computed,
        cached=len(archs) * len(proxy_entries) - computed,
        seconds=time.perf_counter() - started,
        index_names=[e.obj.name for e in metric_entries],
        noise_ceiling=_noise_ceiling(bench, data_root),
    )


def _noise_ceiling(bench: Benchmark, data_root: str | Path | None) -> dict[str, Any] | None:
    """The benchmark's noise ceiling; a plugin that fails to compute it only loses the line."""
    try:
        ceiling = bench.noise_ceiling(Path(data_root) if data_root is not None else None)
    except Exception as exc:  # third-party code; the evaluation itself succeeded
        warnings.warn(f"benchmark {bench.name!r}: noise ceiling unavailable: {type(exc).__name__}: {exc}", stacklevel=2)
        return None
    return dict(ceiling) if ceiling else None


# -- benchmark and batch ---------------------------------------------------------------------------


def looks_like_table_file(benchmark: str | Path) -> bool:
    """A ``--benchmark`` value naming a table file rather than a registered benchmark."""
    text = str(benchmark)
    return isinstance(benchmark, Path) or text.lower().endswith(TABLE_SUFFIXES) or "/" in text or "\\" in text


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
        try:
            from zsbench_benchmarks.table import TableBenchmark
        except ImportError:
            raise UsageError("benchmark table files need the zsbench_benchmarks package (part of zsbench)") from None
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
    if name == DEFAULT_BENCHMARK and name not in host.benchmarks:
        installed = ", ".join(host.benchmarks.names()) or "none"
        raise UnknownComponentError(
            f"the default benchmark {DEFAULT_BENCHMARK!r} is not installed; name one with --benchmark "
            f"(installed: {installed}) or a table file with --benchmark FILE --space NAME"
        )
    return host.benchmarks.get(name)


def load_benchmark_table(bench: Benchmark, data_root: str | Path | None) -> pd.DataFrame:
    """The benchmark's table, checked: string ``arch`` keys, unique, finite accuracy.

    Rows without a finite accuracy are dropped with a warning (they cannot be ranked).
    """
    import numpy as np
    import pandas as pd

    table = bench.load(Path(data_root) if data_root is not None else None)
    if not isinstance(table, pd.DataFrame):
        raise ZsbenchError(f"benchmark {bench.name} returned {type(table).__name__}, not a pandas DataFrame")
    absent = [c for c in ("arch", "accuracy") if c not in table.columns]
    if absent:
        raise ZsbenchError(f"benchmark {bench.name} has no column {', '.join(absent)} (needs arch and accuracy)")
    table = table.reset_index(drop=True)
    table["arch"] = table["arch"].astype(str)
    duplicated = table["arch"][table["arch"].duplicated()]
    if len(duplicated):
        raise ZsbenchError(
            f"benchmark {bench.name}: architecture {duplicated.iloc[0]!r} appears more than once "
            f"({len(duplicated)} duplicate rows); keep one row per architecture"
        )
    accuracy = pd.to_numeric(table["accuracy"], errors="coerce").astype(float)
    finite = np.isfinite(accuracy.to_numpy())
    if not finite.all():
        warnings.warn(
            f"benchmark {bench.name}: dropped {int((~finite).sum())} rows without a finite accuracy", stacklevel=2
        )
    table = table.assign(accuracy=accuracy)[finite].reset_index(drop=True)
    if table.empty:
        raise ZsbenchError(f"benchmark {bench.name} has no architecture with an accuracy")
    return table


def make_batch(bench: Benchmark, *, batch_size: int, seed: int, data_root: str | Path | None) -> Batch:
    """The proxies' input batch for the benchmark's dataset (see :func:`zsbench.data.proxy_batch`):
    seeded augmented training images, or Gaussian inputs with a warning when the dataset is absent."""
    from zsbench.data import proxy_batch

    try:
        return proxy_batch(
            dataset=bench.dataset,
            batch_size=batch_size,
            seed=seed,
            data_root=data_root,
            input_size=int(bench.input_size),
            num_classes=int(bench.num_classes),
        )
    except ValueError as exc:  # e.g. a batch larger than the dataset
        raise UsageError(str(exc)) from None


def _paper_order(entries: list[Entry[Metric]]) -> list[Entry[Metric]]:
    """The paper's indices first, in its order (LC, KD, SR, BR@K, P@K, mBR), then the others."""
    rank = {name: position for position, name in enumerate(PAPER_INDEX_ORDER)}
    return sorted(entries, key=lambda e: rank.get(e.obj.name, len(rank)))


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


# -- storing and assembling ------------------------------------------------------------------------


def _store_outcome(
    store: ScoreCache,
    space_name: str,
    task: ArchTask,
    outcome: TaskOutcome,
    entries_by_key: Mapping[str, Entry[Proxy]],
    contracts: Mapping[str, str],
    stored: dict[str, dict[str, Any]],
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


def _assemble_scores(
    table: pd.DataFrame,
    proxy_entries: Sequence[Entry[Proxy]],
    column_names: Mapping[str, str],
    stored: Mapping[str, Mapping[str, Any]],
    stored_costs: Mapping[str, CachedCost],
    missing_costs: Sequence[str],
) -> tuple[pd.DataFrame, list[tuple[str, str, str]], dict[str, float]]:
    import numpy as np
    import pandas as pd

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
    for entry in proxy_entries:
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
                failures.append((key, column_names[entry.qualified_name], record.error or "no value"))
        frame[score_column(column_names[entry.qualified_name])] = values
        seconds[entry.qualified_name] = float(np.mean(times)) if times else float("nan")
    return frame, failures, seconds


# -- indices ---------------------------------------------------------------------------------------


def _summarise(
    scores: pd.DataFrame,
    proxy_entries: Sequence[Entry[Proxy]],
    column_names: Mapping[str, str],
    metric_entries: Sequence[Entry[Metric]],
    failures: Sequence[tuple[str, str, str]],
    seconds: Mapping[str, float],
    *,
    bootstrap: int,
    confidence: float,
    seed: int,
    options: dict[str, Any],
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    n = len(scores)
    # one set of resamples shared by every proxy and index: intervals of two proxies are
    # computed on the same architectures, so their comparison is paired
    resamples = np.random.default_rng(seed).integers(0, n, size=(bootstrap, n)) if bootstrap and n else None
    accuracy = scores["accuracy"].to_numpy(dtype=float)
    costs = scores[list(COST_COLUMNS)].reset_index(drop=True)
    # resampled cost frames are the same for every proxy and index: build them once
    resampled_costs = [costs.iloc[rows].reset_index(drop=True) for rows in resamples] if resamples is not None else None
    failure_counts: dict[str, int] = {}
    for _, proxy_column, _ in failures:
        failure_counts[proxy_column] = failure_counts.get(proxy_column, 0) + 1
    rows = []
    for entry in proxy_entries:
        column = column_names[entry.qualified_name]
        row: dict[str, Any] = {"proxy": column}
        data = MetricInput(
            scores=scores[score_column(column)].to_numpy(dtype=float),
            accuracy=accuracy,
            higher_is_better=entry.obj.higher_is_better,
            costs=costs,
            options=options,
        )
        for metric_entry in metric_entries:
            row.update(compute_with_interval(metric_entry.obj, data, resamples, confidence, resampled_costs))
        row["failures"] = failure_counts.get(column, 0)
        row["seconds_per_arch"] = seconds.get(entry.qualified_name, float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def compute_with_interval(
    metric: Metric,
    data: MetricInput,
    resamples: np.ndarray | None,
    confidence: float = DEFAULT_CONFIDENCE,
    resampled_costs: Sequence[pd.DataFrame] | None = None,
) -> dict[str, float]:
    """An index's entries plus ``<entry>/ci_low`` and ``<entry>/ci_high`` for the index
    itself and its per-K entries (``br_at_k/5%``); companions such as counts and per-budget
    figures get none.

    The interval is the percentile bootstrap over architectures: ``metric.compute`` is
    called again on each resample (rows of ``resamples`` are index arrays). A metric that
    raises yields NaN entries and a warning instead of stopping the evaluation.
    ``resampled_costs``, when given, holds ``data.costs`` already resampled by each row.
    """
    import numpy as np

    try:
        point = metric.compute(data)
    except Exception as exc:
        warnings.warn(f"index {metric.name} failed: {type(exc).__name__}: {exc}", stacklevel=2)
        return {metric.name: float("nan")}
    result = {key: float(value) for key, value in point.items()}
    if resamples is None or len(resamples) == 0:
        return result
    estimates = [key for key in point if _INTERVAL_KEY.match(key)]
    draws = {key: [] for key in estimates}
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
        low, high = (np.percentile(values, [tail, 100 - tail]) if values.size else (np.nan, np.nan))
        result[f"{key}/ci_low"] = float(low)
        result[f"{key}/ci_high"] = float(high)
    return result


# -- progress --------------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar on stderr (archs done, rate, ETA), a callback, or nothing."""

    def __init__(self, progress: bool | Callable[[int, int], None], total: int, cached: int) -> None:
        self.callback = progress if callable(progress) else None
        self.show = progress is True
        self.total = total
        self.cached = cached
        self.done = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.show and self.total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            description = f"scoring archs ({self.cached} fully cached)"
            self._task = self._bar.add_task(description, total=self.total, rate="")
            self._bar.start()
        return self

    def advance(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)
        if self._bar is not None:
            speed = self._bar.tasks[0].speed
            rate = f"{speed:.2f} arch/s" if speed else ""
            self._bar.update(self._task, advance=1, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
    return value


def index_columns(summary: pd.DataFrame, names: Iterable[str]) -> list[str]:
    """The main entry of each index present in ``summary`` (for compact displays)."""
    return [name for name in names if name in summary.columns]


__all__ = [
    "DEFAULT_BENCHMARK",
    "EvaluationResult",
    "compute_with_interval",
    "evaluate",
    "load_benchmark_table",
    "make_batch",
    "resolve_benchmark",
]
