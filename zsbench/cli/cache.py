"""``zsbench cache info|export|import|migrate``: look into the score cache and share it as a file."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from zsbench.cli._common import err_console, handle_errors, out_console
from zsbench.cli._options import CacheEnv

cache_app = typer.Typer(
    help="The score cache: what it holds, and export / import of its records to share a study's scores.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``cache`` command group to ``app``."""
    app.add_typer(cache_app, name="cache")


# the options of the cache commands
ExportFile = Annotated[str, typer.Argument(help="Output file: JSON lines, gzip-compressed if it ends in .gz.")]
OnlySpaces = Annotated[list[str] | None, typer.Option("--space", help="Only this search space's records (repeatable).")]
ImportFile = Annotated[str, typer.Argument(help="A file written by `zsbench cache export`.")]
Replace = Annotated[bool, typer.Option("--replace", help="Overwrite records the cache already holds.")]
BatchImages = Annotated[
    str | None, typer.Option("--data-root", help="Images of the batches zsbench does not ship (default: $ZSBENCH_DATA).")
]
FromDataRoot = Annotated[
    bool,
    typer.Option(
        "--from-data-root",
        help="Rebuild the shipped batch too from the data root: for scores computed from another copy of "
        "CIFAR-10 than the JPEG copy the shipped batch comes from (e.g. torchvision's download).",
    ),
]
DropUnmigrated = Annotated[
    bool, typer.Option("--drop-unmigrated", help="Delete the scores whose batch cannot be rebuilt instead of failing.")
]

@cache_app.command("info")
def info_cmd(cache: CacheEnv = None) -> None:
    """Scores stored per space, proxy version and input batch, failures included."""
    from zsbench.engine.cache import ScoreCache

    with handle_errors(), ScoreCache(cache, check_batches=False) as store:
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
    file: ExportFile,
    space: OnlySpaces = None,
    cache: CacheEnv = None,
) -> None:
    """Write the cache's scores and costs to FILE, so that another machine, a CI job or a later
    session imports them and computes only what the file lacks."""
    from zsbench.engine.cache import ScoreCache

    with handle_errors(), ScoreCache(cache, check_batches=False) as store:
        scores, costs = store.export_records(file, spaces=space or None)
    err_console.print(f"exported {scores:,} scores and {costs:,} costs to {file}", highlight=False)

@cache_app.command("import")
def import_cmd(
    file: ImportFile,
    replace: Replace = False,
    cache: CacheEnv = None,
) -> None:
    """Merge FILE's records into the cache (records already there are kept unless --replace)."""
    from zsbench.engine.cache import ScoreCache

    with handle_errors(), ScoreCache(cache) as store:
        scores, costs = store.import_records(file, replace=replace)
        old = store.count_old_batch_scores()
    err_console.print(f"imported {scores:,} scores and {costs:,} costs from {file}", highlight=False)
    if old:
        err_console.print(
            f"{old:,} of them name their batch by a string (written before batch fingerprints): "
            "run `zsbench cache migrate` before using this cache",
            highlight=False,
        )

@cache_app.command("migrate")
def migrate_cmd(
    cache: CacheEnv = None,
    data_root: BatchImages = None,
    from_data_root: FromDataRoot = False,
    drop_unmigrated: DropUnmigrated = False,
) -> None:
    """Rewrite the contracts of a cache written before batch fingerprints: each old batch name
    (``cifar10:train:augmented:seed=0``) becomes the fingerprint of the batch it names."""
    from zsbench.engine.cache import ScoreCache
    from zsbench.engine.migrate import migrate_cache
    from zsbench.errors import ZsbenchError

    with handle_errors(), ScoreCache(cache, check_batches=False) as store:
        report = migrate_cache(store, data_root=data_root, from_data_root=from_data_root, drop_unmigrated=drop_unmigrated)
        for (old, fingerprint), n in sorted(report.rewritten.items()):
            err_console.print(f"{n:,} scores: {old} -> {fingerprint}", highlight=False, markup=False)
        if report.dropped:
            err_console.print(f"deleted {report.dropped:,} scores whose batch could not be rebuilt", highlight=False)
        if report.left:
            (old, reason), _ = next(iter(sorted(report.unmigrated.items())))
            raise ZsbenchError(
                f"{report.left:,} scores left unmigrated ({old}: {reason}); pass --data-root DIR with the images "
                "they were computed from, or --drop-unmigrated to delete them"
            )
        err_console.print(f"migrated {report.moved:,} scores; the cache is ready", highlight=False)
