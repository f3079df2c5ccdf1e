"""``zsbench plot`` (one figure) and ``zsbench report`` (an HTML page with every figure).

Both take their scores from the cache through the evaluation engine: what the cache holds is
never recomputed, what it lacks is scored first (with the usual progress display), so a
figure of a finished ``zsbench evaluate`` run costs only the drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zsbench.cli._common import err_console, handle_errors
from zsbench.cli._options import (
    BatchSize,
    BenchmarkNamed,
    Bootstrap,
    CacheDefault,
    CachedOnly,
    DataRoot,
    DeviceCacheLacks,
    LimitAsEvaluate,
    Metrics,
    NoPacks,
    Proxies,
    QuietDisplay,
    ScoreSeed,
    SeedBootstrap,
    WorkersCacheLacks,
    expand_groups,
)
from zsbench.errors import UsageError
from zsbench.settings import default_benchmark

if TYPE_CHECKING:  # pragma: no cover
    from zsbench.engine.evaluation import EvaluationResult

#: The figure kinds of ``zsbench plot`` (kept in step with ``zsbench.reporting.figures.FIGURES``,
#: which imports matplotlib; this list keeps ``zsbench --help`` fast).
PLOT_KINDS = ("scatter", "budgets", "costs", "indices", "picks", "agreement", "importance", "hybrid")


@dataclass(frozen=True)
class EvaluationSource:
    """The options of ``plot`` and ``report`` that say which evaluation a figure shows (an option
    group of :func:`zsbench.cli._options.expand_groups`)."""

    proxies: Proxies = "all"
    metrics: Metrics = "all"
    limit: LimitAsEvaluate = None
    seed: SeedBootstrap = 0
    score_seed: ScoreSeed = 0
    batch_size: BatchSize = 64
    device: DeviceCacheLacks = "cpu"
    data_root: DataRoot = None
    cache: CacheDefault = None
    no_packs: NoPacks = False  # read by the engine (ZSBENCH_NO_PACKS)
    workers: WorkersCacheLacks = 1
    bootstrap: Bootstrap = 200


Dpi = Annotated[int, typer.Option("--dpi", help="Pixels per inch of a PNG (the size is the print size).")]
PageDpi = Annotated[int, typer.Option("--dpi", help="Pixels per inch of the PNGs (a page-wide figure is 7 in).")]
Kind = Annotated[str, typer.Argument(help=f"The figure: {', '.join(PLOT_KINDS)}.")]
FigureFile = Annotated[str, typer.Option("--out", "-o", help="Figure file: .png, .svg or .pdf.")]
ReportFolder = Annotated[str, typer.Option("--out", "-o", help="Folder for index.html and its figures.")]
Benchmarks = Annotated[
    list[str] | None,
    typer.Option(
        "--benchmark",
        "-b",
        help=f"Benchmark name; repeat for several (then the page has transfer tables) [default: {default_benchmark()}].",
    ),
]
Sort = Annotated[str | None, typer.Option("--sort", help="Order the summary tables by an index (best first).")]
Title = Annotated[str | None, typer.Option("--title", help="The page's title.")]


def _evaluate(source: EvaluationSource, benchmark: str | None, *, quiet: bool, cached_only: bool) -> EvaluationResult:
    """The evaluation behind a figure: cached scores, missing ones computed."""
    from zsbench.engine.evaluation import IndexOptions, PoolOptions, RunOptions, ScoringOptions, evaluate
    from zsbench.reporting.html import sources_note

    try:
        result = evaluate(
            source.proxies,
            benchmark,
            metrics=source.metrics,
            pool=PoolOptions(limit=source.limit, seed=source.seed, data_root=source.data_root),
            scoring=ScoringOptions(score_seed=source.score_seed, batch_size=source.batch_size, device=source.device),
            run=RunOptions(cache=source.cache, workers=source.workers, cached_only=cached_only),
            indices=IndexOptions(bootstrap=source.bootstrap),
            progress=not quiet,
        )
    except KeyboardInterrupt:
        err_console.print("[red]interrupted:[/red] every finished architecture is in the cache; rerun to resume", highlight=False)
        raise typer.Exit(130) from None
    err_console.print(
        f"{result.archs} archs of {result.benchmark} ({result.space}): {sources_note(result)}",
        highlight=False,
    )
    return result


def register(app: typer.Typer) -> None:
    """Add ``plot`` and ``report`` to ``app``."""
    app.command("plot")(plot_cmd)
    app.command("report")(report_cmd)


@expand_groups
def plot_cmd(
    kind: Kind,
    out: FigureFile,
    *,
    benchmark: BenchmarkNamed = None,
    source: EvaluationSource,
    dpi: Dpi = 200,
    quiet: QuietDisplay = False,
    cached_only: CachedOnly = False,
) -> None:
    """Draw one figure of an evaluation from its cached scores.

    scatter: score against accuracy per proxy; budgets: best rank and picked accuracy under
    FLOPs/params/depth budgets; costs: accuracy against the costs; indices: every index with
    its interval and the noise ceiling; picks: the architecture each proxy ranks first;
    agreement: each proxy's picks judged by every other ranking; importance: XGBoost feature
    importances, one panel per proxy; hybrid: the best combination of each size.
    """
    with handle_errors():
        if kind not in PLOT_KINDS:
            raise UsageError(f"unknown figure {kind!r}: choose one of {', '.join(PLOT_KINDS)}")
        if Path(out).suffix.lower() not in (".png", ".svg", ".pdf"):
            raise UsageError(f"--out must end in .png, .svg or .pdf, got {Path(out).name!r}")
        if dpi < 50:
            raise UsageError(f"--dpi must be at least 50, got {dpi}")
        from zsbench.reporting import figures

        result = _evaluate(source, benchmark, quiet=quiet, cached_only=cached_only)
        figure = figures.FIGURES[kind](result)
        written = figures.save(figure, out, dpi=dpi)
        err_console.print(f"wrote {written}", highlight=False)


@expand_groups
def report_cmd(
    out: ReportFolder,
    *,
    benchmark: Benchmarks = None,
    source: EvaluationSource,
    sort: Sort = None,
    title: Title = None,
    dpi: PageDpi = 150,
    quiet: QuietDisplay = False,
    cached_only: CachedOnly = False,
) -> None:
    """Write an offline HTML report: run settings, summary table and every figure per
    benchmark, and the transfer tables across benchmarks (no script, nothing fetched)."""
    with handle_errors():
        from zsbench.reporting.html import write_report

        if dpi < 50:
            raise UsageError(f"--dpi must be at least 50, got {dpi}")
        names = list(benchmark) if benchmark else [None]
        if len(set(names)) != len(names):
            raise UsageError(f"--benchmark names a benchmark twice: {', '.join(str(n) for n in names)}")
        results = [_evaluate(source, name, quiet=quiet, cached_only=cached_only) for name in names]
        page = write_report(results, out, sort=sort, title=title, dpi=dpi)
        err_console.print(f"wrote {page}", highlight=False)
