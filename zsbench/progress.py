"""The one progress display of long runs (scoring a benchmark, training a build).

:class:`Progress` shows a rich bar on stderr (done of total, rate, elapsed time, ETA and,
once something failed, the failure count), or calls a callback with ``(done, total)``, or
does nothing. The rate and ETA count only the items finished in this run, so a resumed run
whose first items came from a cache does not look faster than it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


class Progress:
    """Progress of ``total`` items, ``completed`` of which were done before this run.

    Args:
        total: items in the whole job (the bar's length).
        completed: items already done when the run starts (shown as done, not timed).
        description: the bar's label, e.g. ``"scoring archs (3 fully cached)"``.
        unit: the item's name in the rate, e.g. ``"arch"``.
        per_hour: show the rate per hour (for slow items such as trainings) instead of per second.
        show: ``True`` draws the bar; ``False`` draws nothing.
        callback: called as ``callback(done, total)`` after every item (``done`` counts this
            run's items and ``total`` those left at the start).
        console: where the bar is drawn (default: a stderr console).
    """

    def __init__(
        self,
        total: int,
        *,
        completed: int = 0,
        description: str = "",
        unit: str = "item",
        per_hour: bool = False,
        show: bool = False,
        callback: Callable[[int, int], None] | None = None,
        console: Console | None = None,
    ) -> None:
        self.total = total
        self.completed = completed
        self.description = description
        self.unit = unit
        self.per_hour = per_hour
        self.show = show
        self.callback = callback
        self.console = console
        self.done = 0
        self.failed = 0
        self._started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    @classmethod
    def from_option(cls, progress: bool | Callable[[int, int], None], total: int, **kwargs: Any) -> Progress:
        """A progress from the public ``progress`` argument: ``True`` (a bar), ``False`` or a callback."""
        return cls(total, show=progress is True, callback=progress if callable(progress) else None, **kwargs)

    def __enter__(self) -> Progress:
        self._started = time.perf_counter()
        if self.show and self.total > self.completed:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"),
                TextColumn("{task.fields[failed]}"),
                console=self.console or Console(stderr=True),
                transient=False,
            )
            self._task = self._bar.add_task(
                self.description, total=self.total, completed=self.completed, rate="", eta="--", failed=""
            )
            self._bar.start()
        return self

    def advance(self, ok: bool = True) -> None:
        """One more item finished (``ok=False``: it failed)."""
        self.done += 1
        self.failed += 0 if ok else 1
        if self.callback is not None:
            self.callback(self.done, self.total - self.completed)
        if self._bar is None:
            return
        elapsed = time.perf_counter() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        remaining = self.total - self.completed - self.done
        shown = f"{rate * 3600:.1f} {self.unit}/h" if self.per_hour else f"{rate:.2f} {self.unit}/s"
        self._bar.update(
            self._task,
            advance=1,
            rate=shown,
            eta=format_seconds(remaining / rate) if rate > 0 else "--",
            failed=f"[red]{self.failed} failed[/red]" if self.failed else "",
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def format_seconds(seconds: float) -> str:
    """``3725 -> "1:02:05"``."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
