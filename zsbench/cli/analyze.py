"""``zsbench analyze``: factor analysis (importance, picks, agreement) and transfer tables of scored proxies."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from zsbench.cli._common import handle_errors, print_json
from zsbench.cli._options import (
    BatchSize,
    Budgets,
    Cache,
    DataRoot,
    DeviceMissing,
    Direction,
    Folds,
    Index,
    Json,
    Limit,
    NoPacks,
    OutputTable,
    Proxies,
    Quiet,
    ScoreSeed,
    SeedFolds,
    Wide,
    expand_groups,
)
from zsbench.cli._render import fit_columns, fmt, json_records, print_wide, show_transfer, write_frame
from zsbench.cli._sources import ScoreSource, budget_option, choose_index
from zsbench.engine.jsonable import json_value
from zsbench.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover

    from zsbench.studies.scores import ScoreTable


analyze_app = typer.Typer(
    name="analyze",
    help="Factor analysis and transfer tables of scored proxies (scores from the cache or a score file).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` group to ``app``."""
    app.add_typer(analyze_app, name="analyze")


# the options of one analysis only
Features = Annotated[str, typer.Option("--features", help="Feature columns shown (globs; 'all'; '' for none).")]
Cost = Annotated[str, typer.Option("--cost", help="Cost the budgets are drawn on (flops, params, depth).")]
Benchmarks = Annotated[
    str | None, typer.Option("--benchmark", "-b", help="Benchmarks, comma-separated (default: the default one).")
]
ScoreFiles = Annotated[str | None, typer.Option("--scores", help="Score files instead, comma-separated.")]
Published = Annotated[str | None, typer.Option("--published", help="Show a work's published figures beside (e.g. nbzero).")]


def _space_of(table: ScoreTable) -> Any:
    from zsbench.plugins import get_host

    if table.space is None:
        raise UsageError(f"{table.benchmark}: the architecture features need the search space: add --space NAME")
    return get_host().spaces.get(table.space)


@analyze_app.command("importance")
@expand_groups
def importance_cmd(
    source: ScoreSource,
    folds: Folds = 5,
    as_json: Json = False,
    output: OutputTable = None,
    quiet: Quiet = False,
    wide: Wide = False,
) -> None:
    """Which architecture features drive each proxy's score and the true accuracy (XGBoost gain importance, with cross-validated R²)."""
    with handle_errors():
        from zsbench.studies import analysis

        table = source.table(quiet=quiet)
        features = analysis.architecture_features(table, _space_of(table))
        targets = {"accuracy": table.accuracy}
        targets.update({table.label(c): table.frame[c].to_numpy(dtype=float) for c in table.proxies})
        result = analysis.importance(features, targets, folds=folds, seed=source.seed)
        frame = result.importance
        write_frame(frame.assign(**{}).rename_axis("feature").reset_index(), output)
        if as_json:
            print_json(
                {
                    "benchmark": table.benchmark,
                    "archs": len(table.frame),
                    "folds": folds,
                    "r2": result.r2,
                    "archs_per_target": result.archs,
                    "dropped_constant_features": result.dropped,
                    "importance": {t: {f: json_value(v) for f, v in frame[t].items()} for t in frame.columns},
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
        view.add_row("R² (out of fold)", *[fmt(result.r2[t], 2) for t in frame.columns])
        view.add_row("archs", *[str(result.archs[t]) for t in frame.columns])
        print_wide(fit_columns(view, keep=2, wide=wide), fitted=not wide)


@analyze_app.command("picks")
@expand_groups
def picks_cmd(
    source: ScoreSource,
    cost: Cost = "flops",
    budgets: Budgets = None,
    features: Features = "*_out,*_depth",
    as_json: Json = False,
    output: OutputTable = None,
    quiet: Quiet = False,
    wide: Wide = False,
) -> None:
    """The architecture each proxy picks overall (100 %) and under each budget, with its widths, depths, accuracy and rank."""
    with handle_errors():
        import fnmatch

        from zsbench.studies import analysis

        table = source.table(quiet=quiet)
        shown = None
        if features.strip():
            all_features = analysis.architecture_features(table, _space_of(table))
            patterns = [p.strip() for p in features.split(",") if p.strip()]
            keep = [c for c in all_features.columns if features == "all" or any(fnmatch.fnmatch(c, p) for p in patterns)]
            shown = all_features[keep]
        frame = analysis.picks(table, cost=cost, budgets=budgets or 5, features=shown)
        write_frame(frame, output)
        if as_json:
            print_json({"benchmark": table.benchmark, "cost": cost, "picks": json_records(frame)})
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
        print_wide(fit_columns(view, keep=len(fixed), wide=wide), fitted=not wide)


@analyze_app.command("agreement")
@expand_groups
def agreement_cmd(
    source: ScoreSource,
    index: Index = None,
    budgets: Budgets = None,
    as_json: Json = False,
    output: OutputTable = None,
    quiet: Quiet = False,
    wide: Wide = False,
) -> None:
    """Figure 1's matrix: each proxy's picks (rows) judged by every other proxy's ranking (columns), the oracle included."""
    with handle_errors():
        from zsbench.plugins import get_host
        from zsbench.studies import analysis

        metric = choose_index(get_host(), index)
        table = source.table(quiet=quiet)
        frame = analysis.agreement(table, metric, options=budget_option(metric, budgets))
        write_frame(frame.reset_index(), output)
        if as_json:
            print_json(
                {
                    "benchmark": table.benchmark,
                    "index": metric.name,
                    "matrix": {r: {c: json_value(v) for c, v in row.items()} for r, row in frame.iterrows()},
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
            view.add_row(str(name), *[fmt(v, 3) for v in row])
        print_wide(fit_columns(view, keep=2, wide=wide), fitted=not wide)


@analyze_app.command("transfer")
def transfer_cmd(
    proxies: Proxies = "all",
    benchmark: Benchmarks = None,
    scores: ScoreFiles = None,
    direction: Direction = None,
    limit: Limit = None,
    seed: SeedFolds = 0,
    score_seed: ScoreSeed = 0,
    batch_size: BatchSize = 64,
    device: DeviceMissing = "cpu",
    data_root: DataRoot = None,
    cache: Cache = None,
    no_packs: NoPacks = False,  # read by the engine (ZSBENCH_NO_PACKS)
    index: Index = None,
    budgets: Budgets = None,
    published: Published = None,
    as_json: Json = False,
    output: OutputTable = None,
    quiet: Quiet = False,
    wide: Wide = False,
) -> None:
    """Proxies x benchmarks for one index (the paper's Tables 2 and 3), optionally beside published figures."""
    with handle_errors():
        base = ScoreSource(
            proxies, direction=direction, limit=limit, seed=seed, score_seed=score_seed, batch_size=batch_size,
            device=device, data_root=data_root, cache=cache,
        )  # fmt: skip
        if scores is not None:
            tables = [replace(base, scores=s.strip()).table(quiet=quiet) for s in scores.split(",") if s.strip()]
        else:
            tables = [replace(base, benchmark=b.strip()).table(quiet=quiet) for b in (benchmark or "").split(",") if b.strip()]
        if not tables:
            from zsbench.settings import default_benchmark

            tables = [replace(base, benchmark=default_benchmark()).table(quiet=quiet)]
        show_transfer(tables, index, budgets=budgets, published=published, as_json=as_json, output=output, wide=wide)


def _cell(value: Any, *, bold: bool) -> str:
    text = fmt(value, 3)
    return f"[bold]{text}[/bold]" if bold and text != "-" else text


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)
