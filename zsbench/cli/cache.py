"""``zsbench cache info|export|import``: look into the score cache and share it as a file."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from zsbench.cli._common import err_console, handle_errors, out_console

_CACHE_HELP = "Score cache file (default: $ZSBENCH_CACHE, else $XDG_CACHE_HOME/zsbench/scores.sqlite)."


def register(app: typer.Typer) -> None:
    """Add the ``cache`` command group to ``app``."""
    cache_app = typer.Typer(
        help="The score cache: what it holds, and export / import of its records to share a study's scores.",
        no_args_is_help=True,
    )

    @cache_app.command("info")
    def info_cmd(cache: str | None = typer.Option(None, "--cache", help=_CACHE_HELP)) -> None:
        """Scores stored per space, proxy version and input batch, failures included."""
        from zsbench.engine.cache import ScoreCache

        with handle_errors(), ScoreCache(cache) as store:
            table = Table(title=f"score cache {store.path or ':memory:'}", title_justify="left")
            for column in ("space", "proxy", "version", "inputs"):
                table.add_column(column)
            table.add_column("scores", justify="right")
            table.add_column("failures", justify="right")
            for space, proxy, version, inputs, n, failed in store.summary():
                # Text cells: a contract's "cifar10:train:..." must not be read as rich markup or an emoji code
                table.add_row(*(Text(cell) for cell in (space, proxy, version, inputs, f"{n:,}", f"{failed:,}")))
            out_console.print(table)

    @cache_app.command("export")
    def export_cmd(
        file: str = typer.Argument(..., help="Output file: JSON lines, gzip-compressed if it ends in .gz."),
        space: Annotated[
            list[str] | None, typer.Option("--space", help="Only this search space's records (repeatable).")
        ] = None,
        cache: str | None = typer.Option(None, "--cache", help=_CACHE_HELP),
    ) -> None:
        """Write the cache's scores and costs to FILE, so that another machine, a CI job or a later
        session imports them and computes only what the file lacks."""
        from zsbench.engine.cache import ScoreCache

        with handle_errors(), ScoreCache(cache) as store:
            scores, costs = store.export_records(file, spaces=space or None)
        err_console.print(f"exported {scores:,} scores and {costs:,} costs to {file}", highlight=False)

    @cache_app.command("import")
    def import_cmd(
        file: str = typer.Argument(..., help="A file written by `zsbench cache export`."),
        replace: bool = typer.Option(False, "--replace", help="Overwrite records the cache already holds."),
        cache: str | None = typer.Option(None, "--cache", help=_CACHE_HELP),
    ) -> None:
        """Merge FILE's records into the cache (records already there are kept unless --replace)."""
        from zsbench.engine.cache import ScoreCache

        with handle_errors(), ScoreCache(cache) as store:
            scores, costs = store.import_records(file, replace=replace)
        err_console.print(f"imported {scores:,} scores and {costs:,} costs from {file}", highlight=False)

    app.add_typer(cache_app, name="cache")
