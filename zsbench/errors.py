"""Error types raised by zsbench.

Every error carries a one-line message that says what went wrong and what would fix
it; the CLI prints that line and exits with ``exit_code`` (1 runtime error, 2 usage).
"""

from __future__ import annotations


class ZsbenchError(Exception):
    """Base class of every error zsbench raises on purpose."""

    exit_code: int = 1


class UsageError(ZsbenchError):
    """The user asked for something malformed (bad flag value, bad pattern)."""

    exit_code = 2


class UnknownComponentError(ZsbenchError, KeyError):
    """A proxy, space, metric or benchmark name matched nothing that is installed."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class AmbiguousComponentError(ZsbenchError, KeyError):
    """A bare name is provided by two plugins; the qualified ``plugin:name`` form is needed."""

    exit_code = 2

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidArchitectureError(ZsbenchError, ValueError):
    """An architecture string that the search space rejects."""

    exit_code = 2


class DataMissingError(ZsbenchError, FileNotFoundError):
    """A data file a benchmark or dataset needs is not present under the data root."""

    exit_code = 1



def describe_error(exc: BaseException) -> str:
    """``"Type: first line of the message"`` (or just ``"Type"``): the one-line reason recorded
    for a failed score, cost or training, and shown in warnings."""
    text = str(exc).strip()
    message = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
