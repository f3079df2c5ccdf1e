"""Helpers the command-line tests share: the one-line error check and a ``zsbench`` command run in a
fresh interpreter with the toy and hostile plugins installed."""

from __future__ import annotations

import sys
from pathlib import Path


def one_line_error(result) -> str:
    """The single ``error: ...`` line of a failed CliRunner result (no traceback, nothing else on stderr)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


TESTS_DIR = Path(__file__).resolve().parent


def cli_command(*args: str) -> list[str]:
    """``zsbench <args>`` in a fresh interpreter, with the toy and hostile plugins installed."""
    script = f"""
import sys
sys.path.insert(0, {str(TESTS_DIR)!r})
import zsbench
from hostile_plugins import hostile_host
from toy_plugins import toy_batch
from zsbench.engine import evaluation
# an explicit host, which worker processes rebuild from its plugin modules
_evaluate = evaluation.evaluate
evaluation.evaluate = lambda *args, **options: _evaluate(*args, host=hostile_host(), **options)
evaluation.make_batch = lambda bench, **_: toy_batch()
sys.argv = ["zsbench", *{list(args)!r}]
from zsbench.cli import main
main()
"""
    return [sys.executable, "-c", script]
