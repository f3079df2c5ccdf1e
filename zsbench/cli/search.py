"""``zsbench search``: a zero-shot architecture search under a budget, judged on a benchmark when one is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from zsbench.cli._common import NO_PACKS_OPTION, TIMEOUT_OPTION, err_console, handle_errors, out_console, print_json
from zsbench.errors import UsageError

OUTPUT_SUFFIXES = (".json", ".txt", ".csv")


def register(app: typer.Typer) -> None:
    """Add ``search`` to ``app``."""

    @app.command("search")
    def search_cmd(
        space: str | None = typer.Option(None, "--space", help="Search space (zsbench spaces); with --benchmark, its own."),
        proxy: str | None = typer.Option(None, "--proxy", help="The proxy the search maximises (zsbench proxies)."),
        hybrid: str | None = typer.Option(None, "--hybrid", help="Or a hybrid saved by 'zsbench hybrid --save NAME'."),
        max_flops: str | None = typer.Option(
            None, "--max-flops", help="FLOPs (MACs) budget: 200M, 1.5G, 2e8; with --benchmark also 25% of its range."
        ),
        max_params: str | None = typer.Option(None, "--max-params", help="Parameter budget: 1M, 500k; or N% with --benchmark."),
        max_depth: str | None = typer.Option(None, "--max-depth", help="Depth budget (weight layers); or N% with --benchmark."),
        strategy: str = typer.Option("evolution", "--strategy", help="evolution (Zen-NAS style) or random."),
        population: int = typer.Option(32, "--population", help="Population size of the evolution."),
        evaluations: int = typer.Option(300, "--evaluations", help="Distinct architectures scored."),
        round_size: int = typer.Option(
            8, "--round-size", help="Candidates generated and scored at once (the result depends on it, not on --workers)."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of every random choice of the search."),
        benchmark: str | None = typer.Option(
            None, "--benchmark", help="Search the benchmark's networks and judge the pick on its ground truth."
        ),
        limit: int | None = typer.Option(
            None, "--limit", help="With --benchmark: only its seeded subset of N networks (evaluate --limit's)."
        ),
        no_baseline: bool = typer.Option(False, "--no-baseline", help="With --benchmark: skip the random-search baseline."),
        top: int = typer.Option(10, "--top", help="Best architectures shown and written."),
        dataset: str = typer.Option("cifar10", "--dataset", help="Without --benchmark: the images the proxies score."),
        score_seed: int = typer.Option(0, "--score-seed", help="Seed of the input batch and initialisations."),
        batch_size: int = typer.Option(64, "--batch-size", help="Images in the proxies' batch."),
        device: str = typer.Option("cpu", "--device", help="Torch device for scoring."),
        data_root: str | None = typer.Option(None, "--data-root", help="Data root (default: $ZSBENCH_DATA)."),
        cache: str | None = typer.Option(None, "--cache", help="Score cache file (default: the user cache)."),
        no_packs: bool = NO_PACKS_OPTION,  # read by the engine (ZSBENCH_NO_PACKS)
        executor: str = typer.Option("local", "--executor", help="local, process or ray."),
        workers: int = typer.Option(1, "--workers", help="Worker processes scoring a round."),
        threads: int | None = typer.Option(None, "--threads", help="Torch threads per worker."),
        ray_address: str | None = typer.Option(None, "--ray-address", help="ray: cluster address."),
        timeout: float | None = TIMEOUT_OPTION,
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON only."),
        output: str | None = typer.Option(
            None, "--output", help="Write the result: .json (everything), .txt (the best, one per line), .csv (the history)."
        ),
        quiet: bool = typer.Option(False, "--quiet", help="No progress line."),
    ) -> None:
        """Search a space for the best architecture under a budget, scored by a proxy or a saved hybrid, without training.

        Scores go through the cache of 'zsbench evaluate': an interrupted search resumes when run again.
        """
        with handle_errors():
            from zsbench.engine.evaluation import RunOptions
            from zsbench.engine.outputs import check_output
            from zsbench.studies.search import SearchOptions, run_search

            if output is not None and Path(output).suffix.lower() not in OUTPUT_SUFFIXES:
                raise UsageError(f"--output must end in {', '.join(OUTPUT_SUFFIXES)}, got {Path(output).name!r}")
            if top < 1:
                raise UsageError(f"--top must be at least 1, got {top}")
            if output is not None:
                check_output(output)  # before the search, not after
            run = RunOptions(
                cache=cache, executor=executor, workers=workers, ray_address=ray_address, threads=threads, timeout=timeout
            )
            on_round = None if quiet or as_json else _progress_line()
            try:
                report = run_search(
                    space=space,
                    proxy=proxy,
                    hybrid=hybrid,
                    benchmark=benchmark,
                    max_flops=max_flops,
                    max_params=max_params,
                    max_depth=max_depth,
                    options=SearchOptions(
                        strategy=strategy, population=population, evaluations=evaluations, seed=seed,
                        round_size=round_size, baseline=not no_baseline,
                    ),
                    limit=limit,
                    dataset=dataset,
                    score_seed=score_seed,
                    batch_size=batch_size,
                    device=device,
                    data_root=data_root,
                    run=run,
                    on_round=on_round,
                )
            except KeyboardInterrupt:
                err_console.print(
                    "[red]interrupted:[/red] every scored candidate is in the cache; rerun the same command to resume",
                    highlight=False,
                )
                raise typer.Exit(130) from None
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
