"""A batch scheduler's SIGTERM (and Ctrl-C) mid-run: finished scores kept, workers stopped, one
line on how to resume, exit 143 (130); the resumed run ends with what an uninterrupted run gives."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import cli_command


def _calls(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize(("signum", "workers"), [(signal.SIGTERM, 1), (signal.SIGTERM, 2), (signal.SIGINT, 1)])
def test_a_signal_mid_run_keeps_the_finished_scores_and_the_rerun_resumes_to_the_same_result(tmp_path, signum, workers):
    args = ["evaluate", "-p", "toy_params,toy_output", "-b", "toy-bench", "-m", "kendall", "--bootstrap", "0", "--quiet",
            "--workers", str(workers)]
    log = tmp_path / "calls.log"
    env = {**os.environ, "TOY_CALL_LOG": str(log), "TOY_DELAY": "0.15", "OMP_NUM_THREADS": "1"}
    cache = str(tmp_path / "interrupted.sqlite")
    child = subprocess.Popen(cli_command(*args, "--cache", cache, "--output", str(tmp_path / "a.csv")), env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while _calls(log) < 16 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers_seen = _children(child.pid)
    child.send_signal(signum)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signum, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("interrupted by " + ("SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"))
    assert "resume with the same command: zsbench evaluate -p toy_params,toy_output" in lines[0]
    assert out == ""
    assert len(workers_seen) >= (workers if workers > 1 else 0)
    gone = time.monotonic() + 10
    while any(_alive(pid) for pid in workers_seen) and time.monotonic() < gone:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers_seen), "the workers must stop with the run"
    stopped_at = _calls(log)
    assert 16 <= stopped_at < 64, "the signal must arrive mid-run"
    # the rerun computes only what is missing and gives the uninterrupted run's scores
    resumed = subprocess.run(cli_command(*args, "--cache", cache, "--output", str(tmp_path / "a.csv")), env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    # every score is computed once, but for those in flight when the signal came (one architecture per worker)
    assert 64 <= _calls(log) <= 64 + 2 * workers
    whole = subprocess.run(cli_command(*args, "--cache", str(tmp_path / "whole.sqlite"), "--output", str(tmp_path / "b.csv")),
                           env={**env, "TOY_DELAY": "0"}, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
