"""``zsbench hybrid``: search combinations of proxies (and costs) for the best-ranking hybrid."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from zsbench.cli._common import err_console, handle_errors, print_json
from zsbench.cli._options import (
    BatchSize,
    Cache,
    DataRoot,
    DeviceMissing,
    Direction,
    Json,
    Limit,
    NoPacks,
    Quiet,
    Scores,
    ScoreSeed,
    Wide,
)
from zsbench.cli._render import fit_columns, print_wide
from zsbench.cli._sources import choose_index, index_options, source_options
from zsbench.engine.jsonable import json_value
from zsbench.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd



# the options of hybrid only
Members = Annotated[str, typer.Option("--proxies", "-p", help="Proxies to combine: names, globs, 'all', '-name' to drop.")]
HybridBenchmark = Annotated[
    str | None, typer.Option("--benchmark", "-b", help="Benchmark name or .parquet/.csv table (default: the default one).")
]
HybridSpace = Annotated[str | None, typer.Option("--space", help="Search space of --scores (or of a benchmark table file).")]
Costs = Annotated[
    str, typer.Option("--costs", help="Cost columns that join as members (larger preferred); '' for none.")
]
Rules = Annotated[str, typer.Option("--rules", help="rank_sum, log_rank, zscore, vote, learned (comma list).")]
MaxSize = Annotated[int, typer.Option("--max-size", help="Largest combination searched.")]
JudgeIndex = Annotated[
    str | None, typer.Option("--index", help="Index ranking the candidates (default: the headline one that picks: mbr_flops).")
]
Reported = Annotated[str, typer.Option("--metrics", "-m", help="Indices reported for the best candidates.")]
Top = Annotated[int, typer.Option("--top", help="Best candidates shown per size.")]
RuleFolds = Annotated[int, typer.Option("--folds", help="Cross-validation folds of the learned rule.")]
Transfer = Annotated[
    str | None,
    typer.Option(
        "--transfer", help="Benchmarks (or score files from evaluate --output) to evaluate the winners on, comma-separated."
    ),
]
Save = Annotated[
    str | None, typer.Option("--save", help="Save the best candidate's definition as NAME (for evaluate --hybrid).")
]
HybridSeed = Annotated[int, typer.Option("--seed", help="Seed of the subset, the bootstrap and the folds.")]
ShownBootstrap = Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the intervals of the shown rows.")]
TopK = Annotated[
    str | None, typer.Option("--top-k", help="Fractions of N for every index with option k (default: 0.001,0.05).")
]
HybridBudgets = Annotated[
    int | None, typer.Option("--budgets", help="Budget thresholds for every index with option budgets (default: 5).")
]
CandidatesOutput = Annotated[
    str | None, typer.Option("--output", "-o", help="Write every candidate's figures (.parquet or .csv).")
]


def register(app: typer.Typer) -> None:
    """Add ``hybrid`` to ``app``."""
    app.command("hybrid")(hybrid_cmd)


def hybrid_cmd(
    proxies: Members = "all",
    benchmark: HybridBenchmark = None,
    scores: Scores = None,
    space: HybridSpace = None,
    direction: Direction = None,
    costs: Costs = "flops,params",
    rules: Rules = "rank_sum,log_rank,zscore",
    max_size: MaxSize = 4,
    index: JudgeIndex = None,
    metrics: Reported = "all",
    top: Top = 1,
    folds: RuleFolds = 5,
    transfer: Transfer = None,
    save: Save = None,
    limit: Limit = None,
    seed: HybridSeed = 0,
    score_seed: ScoreSeed = 0,
    batch_size: BatchSize = 64,
    device: DeviceMissing = "cpu",
    data_root: DataRoot = None,
    cache: Cache = None,
    no_packs: NoPacks = False,  # read by the engine (ZSBENCH_NO_PACKS)
    bootstrap: ShownBootstrap = 200,
    top_k: TopK = None,
    budgets: HybridBudgets = None,
    as_json: Json = False,
    output: CandidatesOutput = None,
    quiet: Quiet = False,
    wide: Wide = False,
) -> None:
    """Search every combination of 1 to --max-size proxies (FLOPs and params included) under each rule.

    Candidates are ranked by --index; the best of each size is shown with every index and its
    bootstrap interval, beside the oracle. Scores come from the cache (missing ones are computed).
    """
    with handle_errors():
        from zsbench.engine.indices import order_metrics
        from zsbench.plugins import get_host
        from zsbench.studies import hybrid

        if output is not None and Path(output).suffix.lower() not in (".parquet", ".pq", ".csv"):
            raise UsageError(f"--output must end in .parquet or .csv, got {Path(output).name!r}")
        if top < 1:
            raise UsageError(f"--top must be at least 1, got {top}")
        rule_list = [r.strip() for r in rules.split(",") if r.strip()]
        options = index_options(top_k, budgets)
        host = get_host()
        judge = choose_index(host, index)
        shown = [e.obj for e in order_metrics(host.metrics.select_entries(metrics))]
        if judge.name not in {m.name for m in shown}:
            shown.insert(0, judge)
        common = dict(
            limit=limit, seed=seed, score_seed=score_seed, batch_size=batch_size, device=device, data_root=data_root,
            cache=cache, quiet=quiet,
        )  # fmt: skip
        table = source_options(proxies, benchmark, scores, space, direction, **common)
        members = hybrid.members_of(table, costs=[c.strip() for c in costs.split(",") if c.strip()])
        result = hybrid.search(
            table, [judge], members=members, rules=rule_list, max_size=max_size, options=options, folds=folds, seed=seed
        )
        definitions = [
            hybrid.definition_of(row, members, folds=folds, seed=seed, searched_on=table.benchmark, index=judge.name)
            for row in result.best_per_size(top).to_dict(orient="records")
        ]
        rows = hybrid.evaluate_definitions(table, definitions, shown, options=options, bootstrap=bootstrap, seed=seed, oracle=True)
        _write_and_save(result, members, table, judge, output=output, save=save, folds=folds, seed=seed)
        transfer_rows = None
        if transfer:
            targets = [b.strip() for b in transfer.split(",") if b.strip()]
            transfer_rows = transfer_table(definitions, rows, targets, [judge], table.benchmark, options=options, **common)
        _show(result, rows, transfer_rows, table.benchmark, judge, shown, as_json=as_json, wide=wide)


def _write_and_save(
    result: Any, members: list[Any], table: Any, judge: Any, *, output: str | None, save: str | None, folds: int, seed: int
) -> None:
    """``--output`` (every candidate), the one-line account of the search, and ``--save`` (the winner)."""
    from zsbench.studies import hybrid

    if output is not None:
        written = write_candidates(result.candidates, output)
        err_console.print(f"wrote {len(result.candidates)} candidates to {written}", highlight=False)
    err_console.print(
        f"{len(result.candidates)} candidates over {len(members)} members "
        f"({', '.join(m.name for m in members)}) on {table.benchmark}, {result.archs} archs",
        highlight=False,
    )
    if save is not None:
        winner = result.candidates.iloc[0].to_dict()
        definition = hybrid.definition_of(winner, members, folds=folds, seed=seed, searched_on=table.benchmark, index=judge.name)
        path = hybrid.save_definition(save, definition)
        err_console.print(f"saved {definition.label} as {save!r} ({path})", highlight=False)


def _show(
    result: Any,
    rows: pd.DataFrame,
    transfer_rows: pd.DataFrame | None,
    benchmark: str,
    judge: Any,
    shown: list[Any],
    *,
    as_json: bool,
    wide: bool = False,
) -> None:
    """The best candidates (and the transfer table) on stdout, or everything as JSON."""
    from zsbench.studies import hybrid

    if as_json:
        payload = hybrid.result_json(result, rows)
        if transfer_rows is not None:
            payload["transfer"] = [{k: json_value(v) for k, v in r.items()} for r in transfer_rows.to_dict(orient="records")]
        print_json(payload)
        return
    print_wide(render_best(benchmark, result.archs, judge, rows, shown, wide=wide), fitted=not wide)
    if transfer_rows is not None:
        print_wide(fit_columns(render_transfer(transfer_rows, judge.name), keep=2, wide=wide), fitted=not wide)


def write_candidates(candidates: pd.DataFrame, path: str) -> Path:
    """Every candidate's figures to ``.parquet`` or ``.csv`` (members joined by ``+``)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = candidates.assign(members=candidates["members"].map("+".join))
    if target.suffix.lower() == ".csv":
        frame.to_csv(target, index=False)
    else:
        frame.to_parquet(target, index=False)
    return target


def transfer_table(
    definitions: list[Any],
    source_rows: pd.DataFrame,
    targets: list[str],
    metrics: list[Any],
    source: str,
    *,
    options: dict[str, Any],
    **common: Any,
) -> pd.DataFrame:
    """The winners searched on ``source`` evaluated on each target benchmark: one row per
    hybrid, one column per benchmark holding the first index (``oracle`` row included)."""
    import pandas as pd

    from zsbench.studies import hybrid
    from zsbench.studies.scores import COST_COLUMNS

    name = metrics[0].name
    frame = pd.DataFrame({"hybrid": source_rows["hybrid"], "members": source_rows["members"], "rule": source_rows["rule"]})
    frame[source] = source_rows[name].to_numpy()
    proxies = sorted({m for d in definitions for m in d.members if m not in COST_COLUMNS})
    for target in targets:
        if Path(target).suffix.lower() in (".parquet", ".pq", ".csv"):
            # a score file written by evaluate --output: read, never scored
            table = source_options("all", None, target, None, None, **common)
        else:
            table = source_options(",".join(proxies) or "all", target, None, None, None, **common)
        rows = hybrid.evaluate_definitions(table, definitions, metrics, options=options, oracle=True)
        frame[table.benchmark] = rows[name].to_numpy()
    return frame


def render_best(benchmark: str, archs: int, judge: Any, rows: pd.DataFrame, metrics: list[Any], *, wide: bool = True) -> Table:
    """Oracle, then the best candidates per size, with every index and interval, and the
    accuracy of each pick of the judging index (its entries whose role is ``pick``).

    Not ``wide``: the judging index and its picks first, then the other indices as far as
    they fit :data:`~zsbench.cli._render.TABLE_WIDTH` columns (the caption names the rest)."""
    from zsbench.reporting.html import interval
    from zsbench.reporting.html import number as _number

    def _with_interval(record: dict[str, Any], column: str) -> str:
        value = _number(record.get(column), 3)
        ci = interval(record, column)
        return f"{value}\n{ci}" if ci else value

    index = judge.name
    table = Table(title=f"{benchmark}: best hybrids by {index}, {archs} architectures", title_justify="left")
    for heading in ("size", "rule", "members", "archs"):
        table.add_column(heading, justify="right" if heading in ("size", "archs") else "left")
    names = [m.name for m in metrics if m.name in rows.columns]
    pick_columns = [c for c in rows.columns if c.startswith(f"{index}/") and judge.entry_role(c) == "pick"]
    levels = [c[len(index) + 1 :] for c in pick_columns]
    if not wide:  # "acc@20%" -> "20%", one level above each value
        levels = [level.removeprefix("acc@") for level in levels]
    pick_heading = f"picked acc, {index}\n{(' / ' if wide else ' ').join(levels)}" if pick_columns else None
    judged = [index] if index in names and not wide else []
    columns = [*judged, *([pick_heading] if pick_columns and not wide else []), *[n for n in names if n not in judged]]
    if pick_columns and wide:
        columns.append(pick_heading)
    for heading in columns:
        table.add_column(heading, justify="right")
    for record in rows.to_dict(orient="records"):
        archs_cell = str(record.get("archs", ""))
        if record.get("left_out"):
            archs_cell += f" ({record['left_out']} left out)"
        picks = " ".join(_number(record.get(p), 1) for p in pick_columns)
        cells = [str(record.get("size", "")), str(record["rule"]), "+".join(record["members"]), archs_cell]
        table.add_row(*cells, *[picks if c == pick_heading else _with_interval(record, c) for c in columns])
    return fit_columns(table, keep=4 + len(judged) + (1 if pick_columns and not wide else 0), wide=wide)


def render_transfer(frame: pd.DataFrame, index: str) -> Table:
    """Hybrids (rows) x benchmarks (columns) for one index; the first benchmark is where they were searched."""
    from zsbench.reporting.html import number as _number

    benchmarks = [c for c in frame.columns if c not in ("hybrid", "members", "rule")]
    table = Table(title=f"transfer of the winners searched on {benchmarks[0]}: {index}", title_justify="left")
    table.add_column("hybrid", style="bold")
    for i, name in enumerate(benchmarks):
        table.add_column(f"{name}\n(searched)" if i == 0 else name, justify="right")
    for record in frame.to_dict(orient="records"):
        table.add_row(str(record["hybrid"]), *[_number(record.get(b), 3) for b in benchmarks])
    return table
