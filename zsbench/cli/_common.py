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


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While scoring, plugin output goes to stderr: results own stdout (``--json`` stays JSON).

    Both Python's ``sys.stdout`` and file descriptor 1 are pointed at stderr, so that C code,
    subprocesses and spawned worker processes (which inherit the descriptors) write there too.
    """
    sys.stdout.flush()
    try:
        out_fd, err_fd = sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # captured streams (tests): Python level only
        out_fd = err_fd = None
    saved = os.dup(out_fd) if out_fd is not None else None
    try:
        if saved is not None:
            sys.stderr.flush()
            os.dup2(err_fd, out_fd)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, out_fd)
            os.close(saved)


def interrupted_exit(exc: KeyboardInterrupt, what: str = "every finished architecture is in the cache") -> typer.Exit:
    """The one line for a run stopped by Ctrl-C or ``SIGTERM`` (how to resume), and its exit code
    (128 + the signal: 130 for SIGINT, 143 for SIGTERM)."""
    import shlex

    signum = getattr(exc, "signum", 2)
    name = {2: "Ctrl-C", 15: "SIGTERM"}.get(signum, f"signal {signum}")
    command = shlex.join(["zsbench", *sys.argv[1:]])
    err_console.print(
        f"[red]interrupted[/red] by {name}: {what}; resume with the same command: {command}",
        highlight=False,
    )
    return typer.Exit(128 + signum)


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
