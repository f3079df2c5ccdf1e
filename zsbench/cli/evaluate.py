"""``zsbench evaluate``: score a benchmark's architectures with proxies and rank the proxies."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from zsbench.cli._common import err_console, handle_errors, interrupted_exit, print_json, stdout_to_stderr
from zsbench.cli._options import (
    BatchSize,
    Bootstrap,
    CacheDefault,
    DataRoot,
    Executor,
    Json,
    Metrics,
    NoPacks,
    Proxies,
    Quiet,
    RayAddress,
    ScoreSeed,
    SeedBootstrap,
    Timeout,
    Workers,
)
from zsbench.cli._render import print_wide, show_transfer
from zsbench.cli._sources import index_options
from zsbench.errors import UsageError
from zsbench.settings import DEFAULT_SAMPLE_SETTING, default_benchmark

if TYPE_CHECKING:  # pragma: no cover
    from zsbench.engine.evaluation import EvaluationResult
    from zsbench.plugins import PluginHost


# the options of evaluate only
EvaluateBenchmark = Annotated[
    str | None,
    typer.Option(
        "--benchmark",
        "-b",
        help=f"Benchmark name, or a .parquet/.csv table (with --space) [default: {default_benchmark()}; "
        "set ZSBENCH_BENCHMARK to change it].",
    ),
]
TableSpace = Annotated[str | None, typer.Option("--space", help="Search space of a benchmark table file.")]
TableDataset = Annotated[
    str | None, typer.Option("--dataset", help="Dataset of a benchmark table file's accuracies (default cifar10).")
]
NumClasses = Annotated[
    int | None, typer.Option("--num-classes", help="Classifier width of a table file's networks (default: the dataset's).")
]
EvaluateLimit = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        help="Evaluate a seeded random subset of N archs [default: all of a named benchmark; "
        f"{DEFAULT_SAMPLE_SETTING} of the default one, or ZSBENCH_DEFAULT_SAMPLE].",
    ),
]
AllArchs = Annotated[
    bool,
    typer.Option("--all", help="Score every architecture of the default benchmark (its default run is a seeded sample)."),
]
Device = Annotated[str, typer.Option("--device", help="Torch device for scoring (cpu, cuda, cuda:1).")]
BatchSource = Annotated[
    str,
    typer.Option(
        "--batch-source",
        help="auto: the shipped CIFAR-10 batch (seed 0, 64 images) where it is the one asked for, else the data "
        "root's images; data: always the data root's images; shipped: only the shipped batch.",
    ),
]
RetryFailed = Annotated[bool, typer.Option("--retry-failed", help="Recompute scores cached as failures.")]
Threads = Annotated[
    int | None,
    typer.Option("--threads", help="Torch threads per worker [default: free CPU cores / workers, at least 1; ray: 1]."),
]
TopK = Annotated[
    str | None,
    typer.Option("--top-k", help="Fractions of N for every index with option k (BR@K, P@K) [default: 0.001,0.05]."),
]
EvaluateBudgets = Annotated[
    int | None, typer.Option("--budgets", help="Budget thresholds for every index with option budgets (mBR) [default: 5].")
]
MetricOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metric-option",
        "-O",
        help="One index's option, NAME.KEY=VALUE (e.g. br_at_k.k=0.01); repeatable. 'zsbench metrics NAME' lists them.",
    ),
]
ScoresOutput = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write per-arch scores (.parquet or .csv); with several benchmarks, the table."),
]
WideIndices = Annotated[
    bool, typer.Option("--wide", "-w", help="Every index in the table (default: the headline ones, fits 100 columns).")
]
SortBy = Annotated[
    str | None, typer.Option("--sort", help="Order the table by an index (best first), 'failures', 'seconds' or 'proxy'.")
]
Hybrids = Annotated[
    str | None,
    typer.Option("--hybrid", help="Add saved hybrids as rows (names from 'zsbench hybrid --save', comma-separated)."),
]
TransferIndex = Annotated[
    str | None, typer.Option("--index", help="With several --benchmark B1,B2: the index of the proxies x benchmarks table.")
]
Published = Annotated[
    str | None,
    typer.Option("--published", help="Show a work's published figures beside the proxies x benchmarks table (nbzero)."),
]


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command("evaluate")(evaluate_cmd)


def evaluate_cmd(
    proxies: Proxies = "all",
    benchmark: EvaluateBenchmark = None,
    space: TableSpace = None,
    dataset: TableDataset = None,
    num_classes: NumClasses = None,
    metrics: Metrics = "all",
    limit: EvaluateLimit = None,
    all_archs: AllArchs = False,
    seed: SeedBootstrap = 0,
    score_seed: ScoreSeed = 0,
    batch_size: BatchSize = 64,
    device: Device = "cpu",
    batch_source: BatchSource = "auto",
    data_root: DataRoot = None,
    cache: CacheDefault = None,
    no_packs: NoPacks = False,  # read by the engine (ZSBENCH_NO_PACKS)
    retry_failed: RetryFailed = False,
    executor: Executor = "local",
    workers: Workers = 1,
    ray_address: RayAddress = None,
    threads: Threads = None,
    timeout: Timeout = None,
    bootstrap: Bootstrap = 200,
    top_k: TopK = None,
    budgets: EvaluateBudgets = None,
    metric_option: MetricOption = None,
    as_json: Json = False,
    output: ScoresOutput = None,
    quiet: Quiet = False,
    wide: WideIndices = False,
    sort: SortBy = None,
    hybrid: Hybrids = None,
    index: TransferIndex = None,
    published: Published = None,
) -> None:
    """Score every architecture of a benchmark with each proxy and report how well each ranks them.

    Scores are cached: rerunning computes only what is missing, and an interrupted run resumes.
    """
    with handle_errors():
        from zsbench.engine.evaluation import IndexOptions, PoolOptions, RunOptions, ScoringOptions
        from zsbench.engine.indices import parse_option_assignments

        _check_arguments(output, all_archs, limit)
        if all_archs and benchmark is None:
            benchmark = default_benchmark()  # a named benchmark is scored whole
        shared = index_options(top_k, budgets)
        per_metric = parse_option_assignments(metric_option or [])
        benchmarks = _benchmark_list(benchmark)
        named = _saved_hybrids(hybrid)
        if named:
            from zsbench.studies.hybrid import member_proxies

            proxies = ",".join([proxies, *member_proxies(named.values())])
        if len(benchmarks) > 1 or published:
            _transfer(benchmarks, proxies, index, budgets, published, as_json, output, wide, **{
                "space": space, "limit": limit, "seed": seed, "score_seed": score_seed, "batch_size": batch_size,
                "device": device, "data_root": data_root, "cache": cache, "progress": not quiet,
            })  # fmt: skip
            return
        result = _evaluate(
            proxies,
            benchmarks[0] if benchmarks else None,
            metrics=metrics,
            pool=PoolOptions(space=space, dataset=dataset, num_classes=num_classes, limit=limit, seed=seed, data_root=data_root),
            scoring=ScoringOptions(score_seed=score_seed, batch_size=batch_size, device=device, batch_source=batch_source),
            run=RunOptions(
                cache=cache, retry_failed=retry_failed, executor=executor, workers=workers, ray_address=ray_address,
                threads=threads, timeout=timeout,
            ),
            indices=IndexOptions(bootstrap=bootstrap, shared=shared, per_metric=per_metric),
            progress=not quiet,
        )
        if named:
            _add_hybrid_rows(result, named, proxies, shared=shared, per_metric=per_metric, bootstrap=bootstrap, seed=seed)
        _show(result, output=output, as_json=as_json, wide=wide, sort=sort)


def _evaluate(proxies: str, benchmark: str | None, **options: Any) -> EvaluationResult:
    """:func:`zsbench.engine.evaluation.evaluate` with plugin output on stderr; Ctrl-C says how to resume."""
    from zsbench.engine.evaluation import evaluate

    try:
        with stdout_to_stderr():
            return evaluate(proxies, benchmark, **options)
    except KeyboardInterrupt as exc:
        raise interrupted_exit(exc) from None


def _add_hybrid_rows(result: EvaluationResult, named: dict[str, Any], proxies: str, **options: Any) -> None:
    """``--hybrid``: the saved hybrids' rows appended to the result's summary."""
    import pandas as pd

    from zsbench.studies.hybrid import summary_rows

    rows = summary_rows(result, named, proxies=proxies, **options)
    result.summary = pd.concat([result.summary, rows], ignore_index=True)


def _show(result: EvaluationResult, *, output: str | None, as_json: bool, wide: bool, sort: str | None) -> None:
    """The scores to ``--output``, the one-line account on stderr, and the table (or JSON) on stdout."""
    from zsbench.reporting.html import sources_note

    if output is not None:
        written = result.write_scores(output)
        where = "its metadata" if written.suffix.lower() != ".csv" else f"{written.name}.settings.json"
        err_console.print(f"wrote {len(result.scores)} rows to {written} (run settings in {where})", highlight=False)
    err_console.print(
        f"{result.archs} archs of {result.benchmark} ({result.space}): "
        f"{sources_note(result)}, {result.seconds:.1f} s",
        highlight=False,
    )
    if as_json:
        print_json(result.to_json())
    else:
        print_wide(render_table(result, wide=wide, sort=sort))


def _check_arguments(output: str | None, all_archs: bool, limit: int | None) -> None:
    """Refuse what cannot work before any scoring: a bad or unwritable --output, --all with --limit."""
    if output is not None:
        from zsbench.engine.outputs import check_output

        if Path(output).suffix.lower() not in (".parquet", ".pq", ".csv"):
            raise UsageError(f"--output must end in .parquet or .csv, got {Path(output).name!r}")
        check_output(output)  # before hours of scoring, not after
    if all_archs and limit is not None:
        raise UsageError("--all and --limit contradict each other: give one")


def _benchmark_list(benchmark: str | None) -> list[str]:
    """``--benchmark``: one name or table file, or several names separated by commas."""
    if benchmark is None:
        return []
    from zsbench.tables import looks_like_table_file

    if looks_like_table_file(benchmark):
        return [benchmark]
    return [b.strip() for b in benchmark.split(",") if b.strip()]


def _saved_hybrids(names: str | None) -> dict[str, Any]:
    """``--hybrid``: the saved definitions, by name."""
    if not names:
        return {}
    from zsbench.studies.hybrid import load_definition

    return {name.strip(): load_definition(name.strip()) for name in names.split(",") if name.strip()}


def _transfer(
    benchmarks: list[str],
    proxies: str,
    index: str | None,
    budgets: int | None,
    published: str | None,
    as_json: bool,
    output: str | None,
    wide: bool,
    **options: Any,
) -> None:
    """Proxies x benchmarks for one index (Tables 2 and 3 of NAS-Bench-Zero), scores through the cache."""
    from zsbench.settings import default_benchmark
    from zsbench.studies.scores import scores_from_benchmark

    if output is not None and Path(output).suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise UsageError(f"--output must end in .csv or .parquet, got {Path(output).name!r}")
    tables = []
    for name in benchmarks or [default_benchmark()]:
        table = scores_from_benchmark(proxies, name, **options)
        err_console.print(f"{len(table.frame)} archs of {table.benchmark} ({table.space})", highlight=False)
        tables.append(table)
    show_transfer(tables, index, budgets=budgets, published=published, as_json=as_json, output=output, wide=wide)


def render_table(
    result: EvaluationResult, *, wide: bool = False, sort: str | None = None, host: PluginHost | None = None
) -> Table:
    """A rich table, one row per proxy.

    By default it is narrow enough for a 100-column terminal: the headline indices (see
    :attr:`zsbench.Metric.headline`; Kendall, Spearman and mBR under FLOPs among the bundled
    ones) with their intervals, the picked accuracies of those that pick, failures and
    seconds per architecture. ``wide`` shows every index and its further values.
    ``sort`` orders the rows (see :func:`zsbench.reporting.html.sort_rows`).
    """
    from rich import box

    from zsbench.reporting.html import (
        caveat_note,
        ceiling_note,
        input_note,
        interval,
        number,
        small_k_note,
        sort_rows,
        sources_note,
        table_columns,
    )

    summary = sort_rows(result, sort, host) if sort else result.summary
    columns = table_columns(result, wide=wide, host=host)
    # What the numbers rest on (Gaussian inputs?), how much of any index is reachable at all, and what is too thin to read.
    notes = (caveat_note(result), input_note(result), ceiling_note(result))
    shown = {result.entry_roles.get(column.value, (column.value, ""))[0] for column in columns if column.value}
    notes += (small_k_note(result, shown),)
    if result.from_packs:  # which scores were read rather than computed, and how to recompute them
        notes += (sources_note(result),)
    caption = "\n".join(line for line in notes if line) or None
    if not wide and len(columns) < len(table_columns(result, wide=True, host=host)):
        caption = f"{caption}\n--wide shows every index" if caption else "--wide shows every index"
    table = Table(
        title=f"{result.benchmark}: {result.archs} architectures{_sample_note(result)}",
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        pad_edge=wide,
        collapse_padding=not wide,
    )
    table.add_column("proxy", style="bold", no_wrap=True)
    for column in columns:
        table.add_column(column.heading, justify="right", no_wrap=True)
    table.add_column("failures", justify="right")
    table.add_column("s/arch", justify="right")
    for record in summary.to_dict(orient="records"):
        cells = [str(record["proxy"])]
        for column in columns:
            if column.value is not None:
                ci = interval(record, column.value)
                value = number(record.get(column.value), 3)
                cells.append(f"{value}\n{ci}" if ci else value)
            else:
                cells.append(" ".join(number(record.get(p), 1) for p in column.picks))
        cells.append(str(int(record["failures"])))
        cells.append(number(record.get("seconds_per_arch"), 3))
        table.add_row(*cells)
    return table


def _sample_note(result: EvaluationResult) -> str:
    """`` (seeded sample of N, seed S)`` when the run scored a subset."""
    settings = result.settings
    total = settings.get("table_archs")
    if settings.get("limit") is None or total is None or int(total) <= result.archs:
        return ""
    default = " (the default sample; --limit N or --all to change it)" if settings.get("default_sample") else ""
    return f", a seeded sample of {int(total):,} (seed {settings.get('seed')}){default}"
