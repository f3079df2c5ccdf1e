"""The ``zsbench`` command line (typer + rich).

Results go to stdout (a rich table, or only JSON with ``--json``); progress, warnings and
errors go to stderr. Exit codes: 0 success, 1 runtime error, 2 usage error.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import typer

from zsbench.cli._common import err_console, handle_errors
from zsbench.plugins import get_host

# Each module exposes ``register(app)``; a new command group adds one line here.
_COMMAND_MODULES = (
    "zsbench.cli.listing",
    "zsbench.cli.spaces",
    "zsbench.cli.evaluate",
    "zsbench.cli.hybrid",
    "zsbench.cli.analyze",
    "zsbench.cli.report",
    "zsbench.cli.train",
    "zsbench.cli.data",
    "zsbench.cli.cache",
    "zsbench.cli.search",
    "zsbench.cli.packs",
)


def _version_callback(value: bool) -> None:
    if value:
        from zsbench import __version__

        typer.echo(f"zsbench {__version__}")
        raise typer.Exit()


def build_app(*, plugins: bool = True) -> typer.Typer:
    """A fresh typer app with every built-in command and, with ``plugins``, the commands that
    installed plugins add through their ``register_commands(cli)`` hook (tests build their own)."""
    app = typer.Typer(
        name="zsbench",
        help="Evaluate zero-shot (training-free) NAS proxies on search-space benchmarks.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
        ),
    ) -> None:
        """zsbench: zero-shot NAS proxy benchmark."""

    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
    if plugins:
        get_host().add_commands(app)
    return app


def main() -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    app = build_app()
    with handle_errors():
        app(prog_name="zsbench")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {message}", markup=True, highlight=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
