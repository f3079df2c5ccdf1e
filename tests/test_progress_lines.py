"""Plain progress lines when stderr is not a terminal: done / total, rate, elapsed, ETA, and
a lower-bound ETA while nothing has finished yet."""

from __future__ import annotations

import io
import threading
import types

import pytest

from zsbench.engine import progress as progress_module
from zsbench.engine.progress import Progress


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", fake)
    return fake


def test_line_has_done_total_rate_elapsed_and_eta(clock):
    bar = Progress(1000, completed=100, description="scoring archs", unit="arch", show=True, plain=True, stream=io.StringIO())
    clock.now += 200.0
    for _ in range(50):
        bar.advance()
    bar.advance(ok=False)
    # 51 done in 200 s: 0.255 arch/s, 849 left -> 849 * 200 / 51 = 3329.4 s
    assert bar.line() == "scoring archs: 151/1000 (15.1 %), 0.26 arch/s, elapsed 0:03:20, ETA 0:55:29, 1 failed"


def test_eta_is_a_lower_bound_while_the_first_items_run(clock):
    bar = Progress(10, description="scoring archs", unit="arch", show=True, plain=True, in_flight=2, stream=io.StringIO())
    clock.now += 90.0
    # nothing finished after 90 s with 2 in flight: the 10 left take at least 90 * 10 / 2 s
    assert bar.line() == "scoring archs: 0/10 (0.0 %), elapsed 0:01:30, ETA > 0:07:30"


class _Ticks:
    """Stands in for the line writer's ``threading.Event``: ``wait(interval)`` returns (the interval
    passed) once per :meth:`tick`, so the test, not a real sleep, says when an interval is over."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ticks = 0
        self._set = False
        self.waits: list[float] = []

    def clear(self) -> None:
        self._set = False

    def set(self) -> None:
        with self._cond:
            self._set = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        with self._cond:
            self.waits.append(timeout)
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._ticks or self._set)
            if self._set:
                return True
            self._ticks -= 1
            return False

    def tick(self) -> None:
        """One interval passes; returns once the writer has written its line and waits again."""
        with self._cond:
            waited = len(self.waits)
            self._ticks += 1
            self._cond.notify_all()
            assert self._cond.wait_for(lambda: len(self.waits) > waited, timeout=10), "the line writer did not wait again"


@pytest.fixture()
def ticks(monkeypatch: pytest.MonkeyPatch) -> _Ticks:
    ticks = _Ticks()
    fake = types.SimpleNamespace(Thread=threading.Thread, Lock=threading.Lock, Event=lambda: ticks)
    monkeypatch.setattr(progress_module, "threading", fake)
    return ticks


def test_lines_are_written_every_interval_and_at_the_end(clock, ticks):
    stream = io.StringIO()
    with Progress(3, description="networks", unit="nets", per_hour=True, show=True, stream=stream, interval=0.02) as bar:
        ticks.tick()  # an interval with nothing done
        clock.now += 30.0
        bar.advance()
        ticks.tick()
        clock.now += 30.0
        bar.advance()
    assert ticks.waits and set(ticks.waits) == {0.02}  # the writer waits the interval it was given
    assert stream.getvalue().splitlines() == [
        "networks: 0/3 (0.0 %), elapsed 0:00:00",
        "networks: 1/3 (33.3 %), 120.0 nets/h, elapsed 0:00:30, ETA 0:01:00",
        "networks: 2/3 (66.7 %), 120.0 nets/h, elapsed 0:01:00, ETA 0:00:30",  # the last line, at the end
    ]
    assert "\x1b" not in stream.getvalue()  # no terminal control codes in a log


def test_a_terminal_gets_the_bar_not_lines(capsys):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        with Progress(3, description="networks", show=True, stream=stream) as bar:
            bar.advance()
    assert terminal.getvalue() == ""  # the rich bar draws on the console, no plain line on the stream
    assert log.getvalue().splitlines()[-1].startswith("networks: 1/3 (33.3 %), ")


def test_an_expected_time_gives_the_eta_before_and_while_the_first_items_finish(clock):
    # 10 items expected to take 600 s of one worker in all, 2 workers: 300 s of wall time
    bar = Progress(10, description="scoring archs", unit="arch", show=True, plain=True, in_flight=2, stream=io.StringIO(),
                   expected_seconds=600.0)  # fmt: skip
    clock.now += 30.0
    assert bar.line() == "scoring archs: 0/10 (0.0 %), elapsed 0:00:30, ETA ~0:04:30"  # 300 s less the 30 elapsed
    bar.advance()  # a fast first item: the measured rate alone would say 9 * 30 = 270 s
    assert bar.line().endswith("ETA ~0:04:30")  # 9 left of 600 s / 10, over 2 workers: 270 s; the larger wins
    clock.now += 570.0
    for _ in range(9):
        bar.advance()
    assert bar.line().endswith("elapsed 0:10:00")  # nothing left: no ETA
    # once PRIOR_ITEMS per worker finished, the measured rate alone decides
    bar = Progress(100, show=True, plain=True, in_flight=1, stream=io.StringIO(), expected_seconds=100.0)
    clock.now += 50.0
    for _ in range(5):
        bar.advance()
    assert bar.line().endswith("ETA 0:15:50")  # 95 left * 50 / 5
