"""The one progress display of long runs (scoring a benchmark, training a build).

:class:`Progress` shows a rich bar on stderr (done of total, rate, elapsed time, ETA and,
once something failed, the failure count), or calls a callback with ``(done, total)``, or
does nothing. The rate and ETA count only the items finished in this run, so a resumed run
whose first items came from a cache does not look faster than it is.

When stderr is not a terminal (a log file, a batch job) a bar would only leave control
codes, so plain lines are written instead, one every :data:`LINE_INTERVAL` seconds (and one
at the end)::

    scoring archs: 120/1000 (12.0 %), 0.52 arch/s, elapsed 0:03:50, ETA 0:28:10

They keep coming while nothing has finished yet (the first, slowest architectures): then
the ETA is a lower bound, ``ETA > 1:23:20``, since every item left takes at least as long as
the time spent so far divided by the items in flight.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from typing import TextIO

    from rich.console import Console

#: Seconds between two plain progress lines (``ZSBENCH_PROGRESS_INTERVAL`` overrides it).
LINE_INTERVAL = 10.0


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
        stream: where plain lines go when the output is not a terminal (default: stderr);
            ``plain=True`` forces lines, ``plain=False`` forces the bar.
        in_flight: items worked on at once (workers), for the ETA before the first finishes.
        interval: seconds between plain lines (default :data:`LINE_INTERVAL`).
        expected_seconds: the work's expected compute time (seconds of one worker for all items
            left), from recorded timings of the same proxies (the packs', the cache's): the ETA
            then knows the slow items from the start, before the first finishes and while fewer
            than :data:`PRIOR_ITEMS` per worker have (it shows the larger of the two estimates).
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
        stream: TextIO | None = None,
        plain: bool | None = None,
        in_flight: int = 1,
        interval: float | None = None,
        expected_seconds: float | None = None,
    ) -> None:
        self.total = total
        self.completed = completed
        self.description = description
        self.unit = unit
        self.per_hour = per_hour
        self.show = show
        self.callback = callback
        self.console = console
        self.stream = stream
        self.plain = plain
        self.in_flight = max(1, in_flight)
        self.expected_seconds = expected_seconds if expected_seconds and expected_seconds > 0 else None
        self.interval = interval if interval is not None else float(os.environ.get("ZSBENCH_PROGRESS_INTERVAL", LINE_INTERVAL))
        self.done = 0
        self.failed = 0
        self._started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None
        self._lines: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @classmethod
    def from_option(cls, progress: bool | Callable[[int, int], None], total: int, **kwargs: Any) -> Progress:
        """A progress from the public ``progress`` argument: ``True`` (a bar), ``False`` or a callback."""
        return cls(total, show=progress is True, callback=progress if callable(progress) else None, **kwargs)

    def _writes_lines(self) -> bool:
        if self.plain is not None:
            return self.plain
        stream = self.stream or sys.stderr
        return not (hasattr(stream, "isatty") and stream.isatty())

    def __enter__(self) -> Progress:
        self._started = time.perf_counter()
        if self.show and self.total > self.completed and self._writes_lines():
            self._stop.clear()
            self._lines = threading.Thread(target=self._write_lines, name="zsbench-progress", daemon=True)
            self._lines.start()
        elif self.show and self.total > self.completed:
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
            self._task = self._bar.add_task(self.description, total=self.total, completed=self.completed, rate="", eta="--", failed="")
            self._bar.start()
        return self

    def advance(self, ok: bool = True) -> None:
        """One more item finished (``ok=False``: it failed)."""
        with self._lock:
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
            eta=self._eta_text(elapsed, remaining, self.done, with_prefix=False),
            failed=f"[red]{self.failed} failed[/red]" if self.failed else "",
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        if self._lines is not None:
            self._stop.set()
            self._lines.join()
            self._lines = None
            self._write_line()

    def line(self) -> str:
        """The plain progress line for now (see the module docstring)."""
        with self._lock:
            done, failed = self.done, self.failed
        elapsed = time.perf_counter() - self._started
        left = self.total - self.completed - done
        shown = self.completed + done
        share = 100.0 * shown / self.total if self.total else 100.0
        parts = [f"{self.description or 'progress'}: {shown}/{self.total} ({share:.1f} %)"]
        if done:
            rate = done / elapsed if elapsed > 0 else 0.0
            parts.append(f"{rate * 3600:.1f} {self.unit}/h" if self.per_hour else f"{rate:.2f} {self.unit}/s")
        parts.append(f"elapsed {format_seconds(elapsed)}")
        if left > 0:
            eta = self._eta_text(elapsed, left, done, with_prefix=True)
            if eta:
                parts.append(eta)
        if failed:
            parts.append(f"{failed} failed")
        return ", ".join(parts)

    def _eta_text(self, elapsed: float, left: int, done: int, *, with_prefix: bool) -> str:
        """``ETA 0:55:29``; ``ETA > ...`` (a lower bound) while nothing has finished; with an
        expected time, the larger of that and the measured estimate while few items finished."""
        label = "ETA " if with_prefix else ""
        measured = left * elapsed / done if done and elapsed > 0 else None
        prior = None
        if self.expected_seconds is not None and self.total > self.completed:
            # the expected time of the items left, spread over the workers
            prior = self.expected_seconds * left / (self.total - self.completed) / self.in_flight
        if measured is not None and (prior is None or done >= PRIOR_ITEMS * self.in_flight):
            return f"{label}{format_seconds(measured)}"
        if prior is not None:
            floor = measured if measured is not None else elapsed * left / self.in_flight
            return f"{label}~{format_seconds(max(prior - (0.0 if done else elapsed), floor))}"
        if elapsed >= 1:
            # nothing finished yet: each item in flight has already taken `elapsed`, so the
            # items left take at least that long per batch of `in_flight`
            return f"{label}> {format_seconds(elapsed * left / self.in_flight)}"
        return "" if with_prefix else "--"

    def _write_line(self) -> None:
        stream = self.stream or sys.stderr
        stream.write(self.line() + "\n")
        stream.flush()

    def _write_lines(self) -> None:
        while not self._stop.wait(self.interval):
            self._write_line()


#: items per worker after which the measured rate alone gives the ETA
PRIOR_ITEMS = 5


def format_seconds(seconds: float) -> str:
    """``3725 -> "1:02:05"``."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
