"""``zsbench analyze``: factor analysis (importance, picks, agreement) and transfer tables of scored proxies."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from zsbench.cli._common import err_console, handle_errors, print_json
from zsbench.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from zsbench.scoretable import ScoreTable


analyze_app = typer.Typer(
    name="analyze",
    help="Factor analysis and transfer tables of scored proxies (scores from the cache or a score file).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` group to ``app``."""
    app.add_typer(analyze_app, name="analyze")


# the options every analysis shares: where the scores come from
_PROXIES = typer.Option("all", "--proxies", "-p", help="Proxies: names, globs, 'all', '-name' to drop.")
_BENCHMARK = typer.Option(None, "--benchmark", "-b", help="Benchmark name, or a .parquet/.csv table (default: the default benchmark).")
_INDEX = typer.Option(None, "--index", help="The index (any installed one) (default: the headline index that picks, mbr_flops).")
_SCORES = typer.Option(None, "--scores", help="Per-arch scores written by 'zsbench evaluate --output' (no scoring).")
_SPACE = typer.Option(None, "--space", help="Search space of --scores (needed for architecture features).")
_DIRECTION = typer.Option(None, "--direction", help="NAME=higher|lower,... for --scores columns of no installed proxy.")
_LIMIT = typer.Option(None, "--limit", "-n", help="Evaluate a seeded random subset of N archs.")
_SEED = typer.Option(0, "--seed", help="Seed of the subset and of the folds.")
_SCORE_SEED = typer.Option(0, "--score-seed", help="Seed of the input batch and model initialisation.")
_BATCH = typer.Option(64, "--batch-size", help="Images in the proxies' input batch.")
_DEVICE = typer.Option("cpu", "--device", help="Torch device for scoring missing scores.")
_DATA_ROOT = typer.Option(None, "--data-root", help="Data root (default: $ZSBENCH_DATA).")
_CACHE = typer.Option(None, "--cache", help="Score cache file.")
_JSON = typer.Option(False, "--json", help="Print only JSON on stdout.")
_OUTPUT = typer.Option(None, "--output", "-o", help="Write the table (.csv or .parquet).")
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar.")
_BUDGETS = typer.Option(None, "--budgets", help="Budget thresholds of an index with option budgets (mBR) (default: 5).")


def _table(
    proxies, benchmark, scores, space, direction, limit, seed, score_seed, batch_size, device, data_root, cache, quiet
) -> ScoreTable:
    from zsbench.cli.hybrid import source_options

    return source_options(
        proxies,
        benchmark,
        scores,
        space,
        direction,
        limit=limit,
        seed=seed,
        score_seed=score_seed,
        batch_size=batch_size,
        device=device,
        data_root=data_root,
        cache=cache,
        quiet=quiet,
    )


def _space_of(table: ScoreTable) -> Any:
    from zsbench.plugins import get_host

    if table.space is None:
        raise UsageError(f"{table.benchmark}: the architecture features need the search space: add --space NAME")
    return get_host().spaces.get(table.space)


def _write(frame: pd.DataFrame, output: str | None, index: bool = False) -> None:
    if output is None:
        return
    target = Path(output)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise UsageError(f"--output must end in .csv or .parquet, got {target.name!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(target, index=index)
    else:
        frame.to_parquet(target, index=index)
    err_console.print(f"wrote {len(frame)} rows to {target}", highlight=False)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    from zsbench.hybrid import _json_value

    return [{str(k): _json_value(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]


def _print(table: Table) -> None:
    from zsbench.cli.evaluate import print_wide

    print_wide(table)


@analyze_app.command("importance")
def importance_cmd(
    proxies: str = _PROXIES,
    benchmark: str = _BENCHMARK,
    scores: str | None = _SCORES,
    space: str | None = _SPACE,
    direction: str | None = _DIRECTION,
    limit: int | None = _LIMIT,
    seed: int = _SEED,
    score_seed: int = _SCORE_SEED,
    batch_size: int = _BATCH,
    device: str = _DEVICE,
    data_root: str | None = _DATA_ROOT,
    cache: str | None = _CACHE,
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds of the R²."),
    as_json: bool = _JSON,
    output: str | None = _OUTPUT,
    quiet: bool = _QUIET,
) -> None:
    """Which architecture features drive each proxy's score and the true accuracy (XGBoost gain importance, with cross-validated R²)."""
    with handle_errors():
        from zsbench import analysis

        table = _table(proxies, benchmark, scores, space, direction, limit, seed, score_seed, batch_size, device, data_root, cache, quiet)
        features = analysis.architecture_features(table, _space_of(table))
        targets = {"accuracy": table.accuracy}
        targets.update({table.label(c): table.frame[c].to_numpy(dtype=float) for c in table.proxies})
        result = analysis.importance(features, targets, folds=folds, seed=seed)
        frame = result.importance
        _write(frame.assign(**{}).rename_axis("feature").reset_index(), output)
        if as_json:
            print_json(
                {
                    "benchmark": table.benchmark,
                    "archs": len(table.frame),
                    "folds": folds,
                    "r2": result.r2,
                    "archs_per_target": result.archs,
                    "dropped_constant_features": result.dropped,
                    "importance": {t: {f: _num(v) for f, v in frame[t].items()} for t in frame.columns},
                }
            )
            return
        view = Table(
            title=f"{table.benchmark}: gain importance of each feature (columns sum to 1), {len(table.frame)} architectures",
            title_justify="left",
            caption=f"R²: out-of-fold ({folds} folds); below about 0.1 the model explains little and its importances mean little."
            + (f" Constant features left out: {', '.join(result.dropped)}." if result.dropped else ""),
            caption_justify="left",
        )
        view.add_column("feature", style="bold")
        for target in frame.columns:
            view.add_column(target, justify="right")
        for feature, row in frame.iterrows():
            top = {t: row[t] >= frame[t].nlargest(3).min() for t in frame.columns}
            view.add_row(str(feature), *[_cell(row[t], bold=top[t]) for t in frame.columns])
        view.add_section()
        view.add_row("R² (out of fold)", *[_fmt(result.r2[t], 2) for t in frame.columns])
        view.add_row("archs", *[str(result.archs[t]) for t in frame.columns])
        _print(view)


@analyze_app.command("picks")
def picks_cmd(
    proxies: str = _PROXIES,
    benchmark: str = _BENCHMARK,
    scores: str | None = _SCORES,
    space: str | None = _SPACE,
    direction: str | None = _DIRECTION,
    limit: int | None = _LIMIT,
    seed: int = _SEED,
    score_seed: int = _SCORE_SEED,
    batch_size: int = _BATCH,
    device: str = _DEVICE,
    data_root: str | None = _DATA_ROOT,
    cache: str | None = _CACHE,
    cost: str = typer.Option("flops", "--cost", help="Cost the budgets are drawn on (flops, params, depth)."),
    budgets: int | None = _BUDGETS,
    features: str = typer.Option("*_out,*_depth", "--features", help="Feature columns shown (globs; 'all'; '' for none)."),
    as_json: bool = _JSON,
    output: str | None = _OUTPUT,
    quiet: bool = _QUIET,
) -> None:
    """The architecture each proxy picks overall (100 %) and under each budget, with its widths, depths, accuracy and rank."""
    with handle_errors():
        import fnmatch

        from zsbench import analysis

        table = _table(proxies, benchmark, scores, space, direction, limit, seed, score_seed, batch_size, device, data_root, cache, quiet)
        shown = None
        if features.strip():
            all_features = analysis.architecture_features(table, _space_of(table))
            patterns = [p.strip() for p in features.split(",") if p.strip()]
            keep = [c for c in all_features.columns if features == "all" or any(fnmatch.fnmatch(c, p) for p in patterns)]
            shown = all_features[keep]
        frame = analysis.picks(table, cost=cost, budgets=budgets or 5, features=shown)
        _write(frame, output)
        if as_json:
            print_json({"benchmark": table.benchmark, "cost": cost, "picks": _records(frame)})
            return
        view = Table(
            title=f"{table.benchmark}: picks under {cost} budgets (100 % = overall)",
            title_justify="left",
            caption="rank: 1 + architectures of the budget strictly more accurate; tied: architectures sharing the best score",
            caption_justify="left",
        )
        fixed = ["proxy", "budget", "pool", "rank", "accuracy", "tied", "cost", "arch"]
        extra = [c for c in frame.columns if c not in [*fixed, "score"]]
        for column in [*fixed, *extra]:
            view.add_column(column, justify="left" if column in ("proxy", "arch") else "right", overflow="fold")
        for record in frame.to_dict(orient="records"):
            view.add_row(*[_plain(record.get(c)) for c in [*fixed, *extra]])
        _print(view)


@analyze_app.command("agreement")
def agreement_cmd(
    proxies: str = _PROXIES,
    benchmark: str = _BENCHMARK,
    scores: str | None = _SCORES,
    space: str | None = _SPACE,
    direction: str | None = _DIRECTION,
    limit: int | None = _LIMIT,
    seed: int = _SEED,
    score_seed: int = _SCORE_SEED,
    batch_size: int = _BATCH,
    device: str = _DEVICE,
    data_root: str | None = _DATA_ROOT,
    cache: str | None = _CACHE,
    index: str | None = _INDEX,
    budgets: int | None = _BUDGETS,
    as_json: bool = _JSON,
    output: str | None = _OUTPUT,
    quiet: bool = _QUIET,
) -> None:
    """Figure 1's matrix: each proxy's picks (rows) judged by every other proxy's ranking (columns), the oracle included."""
    with handle_errors():
        from zsbench import analysis
        from zsbench.cli.hybrid import choose_index
        from zsbench.plugins import get_host

        metric = choose_index(get_host(), index)
        table = _table(proxies, benchmark, scores, space, direction, limit, seed, score_seed, batch_size, device, data_root, cache, quiet)
        frame = analysis.agreement(table, metric, options=_budget_option(metric, budgets))
        _write(frame.reset_index(), output)
        if as_json:
            print_json(
                {
                    "benchmark": table.benchmark,
                    "index": metric.name,
                    "matrix": {r: {c: _num(v) for c, v in row.items()} for r, row in frame.iterrows()},
                }
            )
            return
        view = Table(
            title=f"{table.benchmark}: {metric.name} of each proxy's ranking (rows) judged by each ranking (columns)",
            title_justify="left",
            caption="column 'oracle': judged by the true accuracy (the proxy's own index)",
            caption_justify="left",
        )
        view.add_column("picks \\ judged by", style="bold")
        for column in frame.columns:
            view.add_column(str(column), justify="right")
        for name, row in frame.iterrows():
            view.add_row(str(name), *[_fmt(v, 3) for v in row])
        _print(view)


@analyze_app.command("transfer")
def transfer_cmd(
    proxies: str = _PROXIES,
    benchmark: str | None = typer.Option(None, "--benchmark", "-b", help="Benchmarks, comma-separated (default: the default one)."),
    scores: str | None = typer.Option(None, "--scores", help="Score files instead, comma-separated."),
    direction: str | None = _DIRECTION,
    limit: int | None = _LIMIT,
    seed: int = _SEED,
    score_seed: int = _SCORE_SEED,
    batch_size: int = _BATCH,
    device: str = _DEVICE,
    data_root: str | None = _DATA_ROOT,
    cache: str | None = _CACHE,
    index: str | None = _INDEX,
    budgets: int | None = _BUDGETS,
    published: str | None = typer.Option(None, "--published", help="Show a work's published figures beside (e.g. nbzero)."),
    as_json: bool = _JSON,
    output: str | None = _OUTPUT,
    quiet: bool = _QUIET,
) -> None:
    """Proxies x benchmarks for one index (the paper's Tables 2 and 3), optionally beside published figures."""
    with handle_errors():
        if scores is not None:
            tables = [
                _table(proxies, None, s.strip(), None, direction, limit, seed, score_seed, batch_size, device, data_root, cache, quiet)
                for s in scores.split(",")
                if s.strip()
            ]
        else:
            tables = [
                _table(proxies, b.strip(), None, None, direction, limit, seed, score_seed, batch_size, device, data_root, cache, quiet)
                for b in (benchmark or "").split(",")
                if b.strip()
            ]
        if not tables:
            from zsbench.settings import default_benchmark

            tables = [
                _table(
                    proxies,
                    default_benchmark(),
                    None,
                    None,
                    direction,
                    limit,
                    seed,
                    score_seed,
                    batch_size,
                    device,
                    data_root,
                    cache,
                    quiet,
                )
            ]
        show_transfer(tables, index, budgets=budgets, published=published, as_json=as_json, output=output)


def show_transfer(
    tables: list[ScoreTable], index: str | None, *, budgets: int | None, published: str | None, as_json: bool, output: str | None
) -> None:
    """Compute, print (or JSON) and write the transfer table of ``tables``."""
    from zsbench import analysis
    from zsbench import published as published_figures
    from zsbench.cli.hybrid import choose_index
    from zsbench.plugins import get_host

    metric = choose_index(get_host(), index)
    index = metric.name
    options = _budget_option(metric, budgets)
    # the index and, for an index that picks, the accuracy of its overall pick (Tables 2 and 3's ACC)
    pick_entry = analysis.overall_pick_entry(metric, _entries_of(tables[0], metric, options))
    entries = [index] if pick_entry is None else [index, pick_entry]
    frame = analysis.transfer(tables, metric, entries=entries, options=options)
    caption = None
    if published:
        extra = published_figures.frame(published, entries=list(dict.fromkeys(frame["entry"])))
        frame = frame.merge(extra, on=["proxy", "entry"], how="outer", sort=False)
        order = {p: i for i, p in enumerate(dict.fromkeys([*frame["proxy"]]))}
        frame = frame.sort_values(["proxy", "entry"], key=lambda s: s.map(order) if s.name == "proxy" else s, kind="stable")
        caption = published_figures.caption(published)
    _write(frame, output)
    agreement = analysis.column_agreement(frame, index)
    if as_json:
        print_json(
            {
                "index": index,
                "benchmarks": [t.benchmark for t in tables],
                "published": published,
                "rows": _records(frame),
                "column_agreement": _records(agreement),
            }
        )
        return
    benchmarks = [c for c in frame.columns if c not in ("proxy", "entry")]
    view = Table(
        title=f"{index} per benchmark (zsbench{', and ' + published + ' as published' if published else ''})",
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    view.add_column("proxy", style="bold")
    view.add_column("figure")
    for name in benchmarks:
        view.add_column(name, justify="right")
    for record in frame.to_dict(orient="records"):
        entry = record["entry"]
        pick = metric.entry_role(entry) == "pick"
        label = "acc, overall pick" if pick else entry
        digits = 1 if pick else 3
        view.add_row(str(record["proxy"]), label, *[_fmt(record.get(b), digits) for b in benchmarks])
    _print(view)
    if len(benchmarks) > 1:
        _print(_agreement_view(agreement, benchmarks, index))


def _agreement_view(agreement: Any, benchmarks: list[str], index: str) -> Table:
    """The columns' pairwise Spearman over shared proxies, as a lower triangle (``rho (n)``)."""
    import math

    from zsbench.analysis import MIN_SHARED_PROXIES

    cells = {(r.first, r.second): r for r in agreement.itertuples(index=False)}
    view = Table(
        title=f"how alike the columns order the proxies by {index}: Spearman (proxies shared), oracle left out",
        title_justify="left",
        caption=f"'-': fewer than {MIN_SHARED_PROXIES} proxies in common, or a column whose values are all equal. Few"
        " proxies leave much to chance: unrelated orders reach |Spearman| 0.71 one time in twenty with 8 proxies,"
        " 0.61 with 11, 0.45 with 20.",
        caption_justify="left",
    )
    view.add_column("", style="bold")
    for name in benchmarks[:-1]:
        view.add_column(name, justify="right")
    for i, row_name in enumerate(benchmarks[1:], start=1):  # lower triangle: the columns before this row
        pairs = (cells[(name, row_name)] for name in benchmarks[:i])
        shown = ["-" if math.isnan(p.spearman) else f"{p.spearman:+.2f} ({p.proxies})" for p in pairs]
        view.add_row(row_name, *shown, *[""] * (len(benchmarks) - 1 - i))
    return view


def _budget_option(metric: Any, budgets: int | None) -> dict[str, Any]:
    """``--budgets`` for an index that declares the option (resolve_options leaves it out for others)."""
    return {"budgets": budgets} if budgets is not None else {}


def _entries_of(table: ScoreTable, metric: Any, options: dict[str, Any]) -> list[str]:
    """The entries ``metric`` computes on ``table`` (read off its accuracy as a ranking)."""
    from zsbench.indices import resolve_options
    from zsbench.interfaces import MetricInput

    resolved = resolve_options([metric], options)[metric.name]
    data = MetricInput(scores=table.accuracy, accuracy=table.accuracy, higher_is_better=True, costs=table.costs(), options=resolved)
    try:
        return list(metric.compute(data))
    except Exception:  # an index that cannot run here: transfer() reports it
        return [metric.name]


def _num(value: Any) -> Any:
    from zsbench.hybrid import _json_value

    return _json_value(value)


def _fmt(value: Any, digits: int) -> str:
    from zsbench.report import number

    return number(value, digits)


def _cell(value: Any, *, bold: bool) -> str:
    text = _fmt(value, 3)
    return f"[bold]{text}[/bold]" if bold and text != "-" else text


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)
