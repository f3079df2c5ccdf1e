"""``zsbench search``: a zero-shot architecture search under a budget, judged on a benchmark when one is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from zsbench.cli._common import err_console, handle_errors, out_console, print_json
from zsbench.cli._options import DataRoot, NoPacks, ThreadsPerWorker, Timeout
from zsbench.errors import UsageError

OUTPUT_SUFFIXES = (".json", ".txt", ".csv")


# the options of search
SearchSpaceName = Annotated[
    str | None, typer.Option("--space", help="Search space (zsbench spaces); with --benchmark, its own.")
]
Proxy = Annotated[str | None, typer.Option("--proxy", help="The proxy the search maximises (zsbench proxies).")]
SavedHybrid = Annotated[str | None, typer.Option("--hybrid", help="Or a hybrid saved by 'zsbench hybrid --save NAME'.")]
MaxFlops = Annotated[
    str | None,
    typer.Option("--max-flops", help="FLOPs (MACs) budget: 200M, 1.5G, 2e8; with --benchmark also 25% of its range."),
]
MaxParams = Annotated[str | None, typer.Option("--max-params", help="Parameter budget: 1M, 500k; or N% with --benchmark.")]
MaxDepth = Annotated[str | None, typer.Option("--max-depth", help="Depth budget (weight layers); or N% with --benchmark.")]
Strategy = Annotated[str, typer.Option("--strategy", help="evolution (Zen-NAS style) or random.")]
Population = Annotated[int, typer.Option("--population", help="Population size of the evolution.")]
Evaluations = Annotated[int, typer.Option("--evaluations", help="Distinct architectures scored.")]
RoundSize = Annotated[
    int,
    typer.Option("--round-size", help="Candidates generated and scored at once (the result depends on it, not on --workers)."),
]
SearchSeed = Annotated[int, typer.Option("--seed", help="Seed of every random choice of the search.")]
JudgeBenchmark = Annotated[
    str | None, typer.Option("--benchmark", help="Search the benchmark's networks and judge the pick on its ground truth.")
]
SubsetLimit = Annotated[
    int | None, typer.Option("--limit", help="With --benchmark: only its seeded subset of N networks (evaluate --limit's).")
]
NoBaseline = Annotated[bool, typer.Option("--no-baseline", help="With --benchmark: skip the random-search baseline.")]
Top = Annotated[int, typer.Option("--top", help="Best architectures shown and written.")]
ImagesDataset = Annotated[str, typer.Option("--dataset", help="Without --benchmark: the images the proxies score.")]
InitSeed = Annotated[int, typer.Option("--score-seed", help="Seed of the input batch and initialisations.")]
ProxyBatch = Annotated[int, typer.Option("--batch-size", help="Images in the proxies' batch.")]
ScoringDevice = Annotated[str, typer.Option("--device", help="Torch device for scoring.")]
UserCache = Annotated[str | None, typer.Option("--cache", help="Score cache file (default: the user cache).")]
AnyExecutor = Annotated[str, typer.Option("--executor", help="local, process or ray.")]
RoundWorkers = Annotated[int, typer.Option("--workers", help="Worker processes scoring a round.")]
ClusterAddress = Annotated[str | None, typer.Option("--ray-address", help="ray: cluster address.")]
ResultJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON only.")]
ResultOutput = Annotated[
    str | None,
    typer.Option("--output", help="Write the result: .json (everything), .txt (the best, one per line), .csv (the history)."),
]
NoProgressLine = Annotated[bool, typer.Option("--quiet", help="No progress line.")]


def register(app: typer.Typer) -> None:
    """Add ``search`` to ``app``."""
    app.command("search")(search_cmd)


def search_cmd(
    space: SearchSpaceName = None,
    proxy: Proxy = None,
    hybrid: SavedHybrid = None,
    max_flops: MaxFlops = None,
    max_params: MaxParams = None,
    max_depth: MaxDepth = None,
    strategy: Strategy = "evolution",
    population: Population = 32,
    evaluations: Evaluations = 300,
    round_size: RoundSize = 8,
    seed: SearchSeed = 0,
    benchmark: JudgeBenchmark = None,
    limit: SubsetLimit = None,
    no_baseline: NoBaseline = False,
    top: Top = 10,
    dataset: ImagesDataset = "cifar10",
    score_seed: InitSeed = 0,
    batch_size: ProxyBatch = 64,
    device: ScoringDevice = "cpu",
    data_root: DataRoot = None,
    cache: UserCache = None,
    no_packs: NoPacks = False,  # read by the engine (ZSBENCH_NO_PACKS)
    executor: AnyExecutor = "local",
    workers: RoundWorkers = 1,
    threads: ThreadsPerWorker = None,
    ray_address: ClusterAddress = None,
    timeout: Timeout = None,
    as_json: ResultJson = False,
    output: ResultOutput = None,
    quiet: NoProgressLine = False,
) -> None:
    """Search a space for the best architecture under a budget, scored by a proxy or a saved hybrid, without training.

    Scores go through the cache of 'zsbench evaluate': an interrupted search resumes when run again.
    """
    with handle_errors():
        from zsbench.engine.evaluation import RunOptions
        from zsbench.studies.search import SearchOptions, run_search

        if output is not None and Path(output).suffix.lower() not in OUTPUT_SUFFIXES:
            raise UsageError(f"--output must end in {', '.join(OUTPUT_SUFFIXES)}, got {Path(output).name!r}")
        if top < 1:
            raise UsageError(f"--top must be at least 1, got {top}")
        if output is not None:
            from zsbench.engine.outputs import check_output

            check_output(output)  # before the search, not after
        run = RunOptions(
            cache=cache, executor=executor, workers=workers, ray_address=ray_address, threads=threads, timeout=timeout
        )
        on_round = None if quiet or as_json else _progress_line()
        try:
            report = run_search(
                space=space, proxy=proxy, hybrid=hybrid, benchmark=benchmark,
                max_flops=max_flops, max_params=max_params, max_depth=max_depth,
                options=SearchOptions(
                    strategy=strategy, population=population, evaluations=evaluations, seed=seed,
                    round_size=round_size, baseline=not no_baseline,
                ),
                limit=limit, dataset=dataset, score_seed=score_seed, batch_size=batch_size, device=device,
                data_root=data_root, run=run, on_round=on_round,
            )  # fmt: skip
        except KeyboardInterrupt:
            err_console.print(
                "[red]interrupted:[/red] every scored candidate is in the cache; rerun the same command to resume",
                highlight=False,
            )
            raise typer.Exit(130) from None
        _show(report, top=top, output=output, as_json=as_json)


def _show(report: Any, *, top: int, output: str | None, as_json: bool) -> None:
    """The result to ``--output``, the one-line account on stderr, and the tables (or JSON) on stdout."""
    payload = report.to_json(top)
    if output is not None:
        _write(report, payload, Path(output), top)
    err_console.print(
        f"{len(report.run.history)} architectures evaluated ({report.computed} scores computed, "
        f"{report.cached} from the cache)"
        + ("; no unevaluated architecture within the budget was left" if report.run.exhausted else ""),
        highlight=False,
    )
    if as_json:
        print_json(payload)
        return
    out_console.print(_best_table(report, payload))
    if report.judgement is not None:
        out_console.print(_judgement_table(report))
    if report.train_command:
        out_console.print(f"train the pick: {report.train_command}", highlight=False)


def _progress_line() -> Any:
    state = {"last": -1}

    def show(done: int, total: int) -> None:
        step = max(1, total // 10)
        if done // step != state["last"] or done == total:
            state["last"] = done // step
            err_console.print(f"search: {done}/{total} evaluated", highlight=False)

    return show


def _write(report: Any, payload: dict[str, Any], path: Path, top: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
        what = "the search"
    elif suffix == ".txt":
        archs = [row["arch"] for row in payload["best"]]
        path.write_text("".join(f"{a}\n" for a in archs), encoding="utf-8")
        what = f"the best {len(archs)} architectures, one per line"
    else:
        report.run.history.assign(objective=report.run.objective).to_csv(path, index=False)
        what = f"the history ({len(report.run.history)} rows)"
    err_console.print(f"wrote {what} to {path}", highlight=False)


def _best_table(report: Any, payload: dict[str, Any]) -> Table:
    from zsbench.studies.search import human

    settings = payload["settings"]
    table = Table(
        title=f"{settings['strategy']} search of {settings['space']} by {settings['objective']} under {report.budget.describe()}: "
        f"best {len(payload['best'])} of {settings['evaluated']} evaluated (seed {settings['seed']})",
        title_justify="left",
    )
    score_columns = [c for c in report.run.history.columns if c not in ("arch", "flops", "params", "depth", "origin", "parent", "round")]
    for column in ("#", "arch", "objective", *score_columns, "FLOPs", "params", "depth"):
        table.add_column(column, justify="left" if column == "arch" else "right", overflow="fold")
    accuracy = "accuracy" in (payload["best"][0] if payload["best"] else {})
    if accuracy:
        table.add_column("true acc", justify="right")
    for rank, row in enumerate(payload["best"], start=1):
        cells = [str(rank), row["arch"], _num(row["objective"]), *(_num(row.get(c)) for c in score_columns),
                 human(row["flops"]), human(row["params"]), f"{row['depth']:g}"]
        if accuracy:
            cells.append(_num(row.get("accuracy")))
        table.add_row(*cells)
    if settings["mutation"] != "declared":
        table.caption = f"space {settings['space']} declares no mutation: evolution mutates by a fresh sample, a random search"
    return table


def _judgement_table(report: Any) -> Table:
    judgement = report.judgement
    table = Table(
        title=f"judged on {report.benchmark}: {judgement.admissible} of its networks are within {report.budget.describe()}",
        title_justify="left",
    )
    for column in ("", "arch", "true accuracy", "rank within budget"):
        table.add_column(column, justify="left" if column in ("", "arch") else "right")
    rows = [(f"{report.run.strategy} ({report.run.settings['evaluated']} evaluations)", judgement)]
    if report.baseline_judgement is not None:
        rows.append((f"random ({report.baseline.settings['evaluated']} evaluations)", report.baseline_judgement))
    for label, j in rows:
        table.add_row(label, j.arch or "-", _num(j.accuracy), f"{j.rank} / {j.admissible}" if j.rank else "-")
    table.add_row("oracle (best within budget)", judgement.oracle_arch, _num(judgement.oracle_accuracy), f"1 / {judgement.admissible}")
    return table


def _num(value: Any) -> str:
    if value is None:
        return "-"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:
        return "-"
    if abs(number) >= 1e5 or (0 < abs(number) < 1e-3):
        return f"{number:.4g}"
    return f"{number:.4f}".rstrip("0").rstrip(".") if abs(number) < 100 else f"{number:.2f}"
