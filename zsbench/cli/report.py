"""``zsbench plot`` (one figure) and ``zsbench report`` (an HTML page with every figure).

Both take their scores from the cache through the evaluation engine: what the cache holds is
never recomputed, what it lacks is scored first (with the usual progress display), so a
figure of a finished ``zsbench evaluate`` run costs only the drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zsbench.cli._common import NO_PACKS_OPTION, err_console, handle_errors
from zsbench.errors import UsageError
from zsbench.settings import default_benchmark

if TYPE_CHECKING:  # pragma: no cover
    from zsbench.engine.evaluation import EvaluationResult

#: The figure kinds of ``zsbench plot`` (kept in step with ``zsbench.reporting.figures.FIGURES``,
#: which imports matplotlib; this list keeps ``zsbench --help`` fast).
PLOT_KINDS = ("scatter", "budgets", "costs", "indices", "picks", "agreement", "importance", "hybrid")


def _evaluate(
    proxies: str,
    benchmark: str | None,
    *,
    metrics: str,
    limit: int | None,
    seed: int,
    score_seed: int,
    batch_size: int,
    device: str,
    data_root: str | None,
    cache: str | None,
    workers: int,
    bootstrap: int,
    quiet: bool,
    cached_only: bool = False,
) -> EvaluationResult:
    """The evaluation behind a figure: cached scores, missing ones computed."""
    from zsbench.engine.evaluation import IndexOptions, PoolOptions, RunOptions, ScoringOptions, evaluate
    from zsbench.reporting.html import sources_note

    try:
        result = evaluate(
            proxies,
            benchmark,
            metrics=metrics,
            pool=PoolOptions(limit=limit, seed=seed, data_root=data_root),
            scoring=ScoringOptions(score_seed=score_seed, batch_size=batch_size, device=device),
            run=RunOptions(cache=cache, workers=workers, cached_only=cached_only),
            indices=IndexOptions(bootstrap=bootstrap),
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


_PROXIES = typer.Option("all", "--proxies", "-p", help="Proxies: names, globs, 'all', '-name' to drop.")
_METRICS = typer.Option("all", "--metrics", "-m", help="Indices to compute (names, globs, 'all').")
_LIMIT = typer.Option(None, "--limit", "-n", help="A seeded random subset of N archs (as in evaluate).")
_SEED = typer.Option(0, "--seed", help="Seed of the subset and of the bootstrap.")
_SCORE_SEED = typer.Option(0, "--score-seed", help="Seed of the input batch and model initialisation.")
_BATCH = typer.Option(64, "--batch-size", help="Images in the proxies' input batch.")
_DEVICE = typer.Option("cpu", "--device", help="Torch device for scores the cache lacks.")
_DATA_ROOT = typer.Option(None, "--data-root", help="Data root (default: $ZSBENCH_DATA).")
_CACHE = typer.Option(None, "--cache", help="Score cache file (default: $XDG_CACHE_HOME/zsbench/scores.sqlite).")
_WORKERS = typer.Option(1, "--workers", "-j", help="Worker processes for scores the cache lacks.")
_BOOTSTRAP = typer.Option(200, "--bootstrap", help="Bootstrap resamples for the 95 % intervals (0: none).")
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress display.")
_CACHED_ONLY = typer.Option(
    False, "--cached-only", help="Compute nothing: only the architectures whose every score is cached (a run in progress)."
)


def register(app: typer.Typer) -> None:
    """Add ``plot`` and ``report`` to ``app``."""

    @app.command("plot")
    def plot_cmd(
        kind: str = typer.Argument(..., help=f"The figure: {', '.join(PLOT_KINDS)}."),
        out: str = typer.Option(..., "--out", "-o", help="Figure file: .png, .svg or .pdf."),
        benchmark: str | None = typer.Option(None, "--benchmark", "-b", help=f"Benchmark name [default: {default_benchmark()}]."),
        proxies: str = _PROXIES,
        metrics: str = _METRICS,
        limit: int | None = _LIMIT,
        seed: int = _SEED,
        score_seed: int = _SCORE_SEED,
        batch_size: int = _BATCH,
        device: str = _DEVICE,
        data_root: str | None = _DATA_ROOT,
        cache: str | None = _CACHE,
        no_packs: bool = NO_PACKS_OPTION,  # read by the engine (ZSBENCH_NO_PACKS)
        workers: int = _WORKERS,
        bootstrap: int = _BOOTSTRAP,
        dpi: int = typer.Option(200, "--dpi", help="Pixels per inch of a PNG (the size is the print size)."),
        quiet: bool = _QUIET,
        cached_only: bool = _CACHED_ONLY,
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

            result = _evaluate(
                proxies,
                benchmark,
                metrics=metrics,
                limit=limit,
                seed=seed,
                score_seed=score_seed,
                batch_size=batch_size,
                device=device,
                data_root=data_root,
                cache=cache,
                workers=workers,
                bootstrap=bootstrap,
                quiet=quiet,
                cached_only=cached_only,
            )
            figure = figures.FIGURES[kind](result)
            written = figures.save(figure, out, dpi=dpi)
            err_console.print(f"wrote {written}", highlight=False)

    @app.command("report")
    def report_cmd(
        out: str = typer.Option(..., "--out", "-o", help="Folder for index.html and its figures."),
        benchmark: Annotated[
            list[str] | None,
            typer.Option(
                "--benchmark",
                "-b",
                help=f"Benchmark name; repeat for several (then the page has transfer tables) [default: {default_benchmark()}].",
            ),
        ] = None,
        proxies: str = _PROXIES,
        metrics: str = _METRICS,
        limit: int | None = _LIMIT,
        seed: int = _SEED,
        score_seed: int = _SCORE_SEED,
        batch_size: int = _BATCH,
        device: str = _DEVICE,
        data_root: str | None = _DATA_ROOT,
        cache: str | None = _CACHE,
        no_packs: bool = NO_PACKS_OPTION,  # read by the engine (ZSBENCH_NO_PACKS)
        workers: int = _WORKERS,
        bootstrap: int = _BOOTSTRAP,
        sort: str | None = typer.Option(None, "--sort", help="Order the summary tables by an index (best first)."),
        title: str | None = typer.Option(None, "--title", help="The page's title."),
        dpi: int = typer.Option(150, "--dpi", help="Pixels per inch of the PNGs (a page-wide figure is 7 in)."),
        quiet: bool = _QUIET,
        cached_only: bool = _CACHED_ONLY,
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
            results = [
                _evaluate(
                    proxies,
                    name,
                    metrics=metrics,
                    limit=limit,
                    seed=seed,
                    score_seed=score_seed,
                    batch_size=batch_size,
                    device=device,
                    data_root=data_root,
                    cache=cache,
                    workers=workers,
                    bootstrap=bootstrap,
                    quiet=quiet,
                    cached_only=cached_only,
                )
                for name in names
            ]
            page = write_report(results, out, sort=sort, title=title, dpi=dpi)
            err_console.print(f"wrote {page}", highlight=False)
