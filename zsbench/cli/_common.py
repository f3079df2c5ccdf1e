"""Shared pieces of the CLI: consoles, error handling, JSON output."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console

from zsbench.errors import ZsbenchError


def _piped_width() -> int | None:
    # Rich assumes 80 columns when stdout is not a terminal, which folds wide result tables
    # into unreadable cells in logs and pipes; COLUMNS still wins when set.
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return None
    return 160


# Results to stdout, everything else (progress, warnings, errors) to stderr.
out_console = Console(soft_wrap=True, width=_piped_width(), emoji=False)  # "a:b:c" names stay text
err_console = Console(stderr=True, soft_wrap=True, emoji=False)  # soft wrap: an error stays one line


@contextlib.contextmanager
def handle_errors() -> Iterator[None]:
    """Turn a ZsbenchError into its one-line message and exit code (full traceback
    with ``ZSBENCH_DEBUG=1``)."""
    try:
        yield
    except ZsbenchError as exc:
        if os.environ.get("ZSBENCH_DEBUG") == "1":
            raise
        err_console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(exc.exit_code) from None


def print_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout, and nothing else."""
    sys.stdout.write(json.dumps(payload, indent=2, default=_json_default) + "\n")
    sys.stdout.flush()


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
    except ImportError:  # pragma: no cover
        pass
    return str(obj)
