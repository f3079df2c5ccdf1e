"""Rendering the commands' results: tables on stdout at their natural width, the transfer table and
the column agreement, and files written with ``--output``. Command modules import this, never each other."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from zsbench.cli._common import err_console, out_console, print_json
from zsbench.cli._sources import budget_option, choose_index, entries_of
from zsbench.engine.jsonable import json_value
from zsbench.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from zsbench.studies.scores import ScoreTable


def print_wide(table: Table, *, fitted: bool = False) -> None:
    """Print ``table`` on stdout; into a file or pipe at its natural width instead of the
    80 columns rich assumes there, so no figure is cut. A ``fitted`` table (see
    :func:`fit_columns`) is drawn :data:`TABLE_WIDTH` columns wide, its title and caption
    wrapped to it, and a cell too wide for it folded."""
    if out_console.is_terminal:
        out_console.print(table, soft_wrap=not fitted)
        return
    import sys

    from rich.console import Console

    width = TABLE_WIDTH if fitted else max(out_console.width, natural_width(table))
    Console(file=sys.stdout, width=width, soft_wrap=not fitted, emoji=False).print(table)


#: The width every table fits by default (``--wide`` shows the columns left out to fit it).
TABLE_WIDTH = 100


def natural_width(table: Table) -> int:
    """The columns ``table`` takes when nothing is wrapped or cut."""
    from rich.measure import Measurement

    return Measurement.get(out_console, out_console.options.update_width(10_000), table).maximum


def fit_columns(table: Table, *, keep: int, wide: bool = False, limit: int = TABLE_WIDTH) -> Table:
    """Leave out ``table``'s last columns, never its first ``keep``, until it fits ``limit``
    columns, and name those left out in its caption; with ``wide``, ``table`` as it is.

    The narrow table is drawn as evaluate's is: rules under the heading only, no outer padding."""
    if wide:
        return table
    from rich import box

    table.box, table.pad_edge, table.collapse_padding = box.SIMPLE_HEAD, False, True
    table.min_width = min(limit, len(str(table.title or "")))  # a title of one line stays one line
    left_out: list[str] = []
    while len(table.columns) > keep and natural_width(table) > limit:
        left_out.insert(0, str(table.columns.pop().header).replace("\n", " "))
    if left_out:
        note = f"--wide shows {len(left_out)} more column{'s' if len(left_out) > 1 else ''}: {', '.join(left_out)}"
        table.caption = f"{table.caption}\n{note}" if table.caption else note
    return table


def write_frame(frame: pd.DataFrame, output: str | None, index: bool = False) -> None:
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


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): json_value(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]


def fmt(value: Any, digits: int) -> str:
    from zsbench.reporting.html import number

    return number(value, digits)


def show_transfer(
    tables: list[ScoreTable],
    index: str | None,
    *,
    budgets: int | None,
    published: str | None,
    as_json: bool,
    output: str | None,
    wide: bool = False,
) -> None:
    """Compute, print (or JSON) and write the transfer table of ``tables``."""
    from zsbench.plugins import get_host
    from zsbench.studies import analysis
    from zsbench.studies import published as published_figures

    metric = choose_index(get_host(), index)
    index = metric.name
    options = budget_option(metric, budgets)
    # the index and, for an index that picks, the accuracy of its overall pick (Tables 2 and 3's ACC)
    pick_entry = analysis.overall_pick_entry(metric, entries_of(tables[0], metric, options))
    entries = [index] if pick_entry is None else [index, pick_entry]
    frame = analysis.transfer(tables, metric, entries=entries, options=options)
    caption = None
    if published:
        extra = published_figures.frame(published, entries=list(dict.fromkeys(frame["entry"])))
        frame = frame.merge(extra, on=["proxy", "entry"], how="outer", sort=False)
        order = {p: i for i, p in enumerate(dict.fromkeys([*frame["proxy"]]))}
        frame = frame.sort_values(["proxy", "entry"], key=lambda s: s.map(order) if s.name == "proxy" else s, kind="stable")
        caption = published_figures.caption(published)
    write_frame(frame, output)
    agreement = analysis.column_agreement(frame, index)
    if as_json:
        print_json(
            {
                "index": index,
                "benchmarks": [t.benchmark for t in tables],
                "published": published,
                "rows": json_records(frame),
                "column_agreement": json_records(agreement),
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
        view.add_row(str(record["proxy"]), label, *[fmt(record.get(b), digits) for b in benchmarks])
    print_wide(fit_columns(view, keep=3, wide=wide), fitted=not wide)
    if len(benchmarks) > 1:
        view = _agreement_view(agreement, benchmarks, index) if wide else _agreement_pairs(agreement, index)
        print_wide(fit_columns(view, keep=3, wide=wide), fitted=not wide)


def _agreement_pairs(agreement: Any, index: str) -> Table:
    """:func:`_agreement_view` as one row per pair of columns, which fits any number of columns."""
    import math

    from zsbench.studies.analysis import MIN_SHARED_PROXIES

    view = Table(
        title=f"how alike the columns order the proxies by {index}: Spearman (proxies shared), oracle left out",
        title_justify="left",
        caption=f"'-': fewer than {MIN_SHARED_PROXIES} proxies in common, or a column whose values are all equal. Few"
        " proxies leave much to chance: unrelated orders reach |Spearman| 0.71 one time in twenty with 8 proxies,"
        " 0.61 with 11, 0.45 with 20. --wide shows the pairs as a triangle.",
        caption_justify="left",
    )
    for heading in ("column", "and column", "Spearman (proxies)"):
        view.add_column(heading, justify="right" if heading.startswith("Spearman") else "left")
    for r in agreement.itertuples(index=False):
        view.add_row(str(r.first), str(r.second), "-" if math.isnan(r.spearman) else f"{r.spearman:+.2f} ({r.proxies})")
    return view


def _agreement_view(agreement: Any, benchmarks: list[str], index: str) -> Table:
    """The columns' pairwise Spearman over shared proxies, as a lower triangle (``rho (n)``)."""
    import math

    from zsbench.studies.analysis import MIN_SHARED_PROXIES

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
