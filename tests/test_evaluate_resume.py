"""A run killed with SIGKILL half-way keeps every finished score, and the rerun completes
without recomputing them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from toy_plugins import evaluate_with, toy_batch, toy_host

from zsbench.engine.cache import ScoreCache, contract_key
from zsbench.engine.harness import run_contract

TESTS_DIR = Path(__file__).resolve().parent
PROXIES = "toy_params,toy_output"


def test_sigkill_half_way_loses_no_finished_score_and_rerun_resumes(tmp_path, monkeypatch):
    cache = tmp_path / "scores.sqlite"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS_DIR)!r})
        import torch
        torch.set_num_threads(1)
        import zsbench
        from toy_plugins import evaluate_with, toy_batch, toy_host

        def progress(done, total):
            print("done", done, flush=True)

        evaluate_with({PROXIES!r}, "toy-bench", host=toy_host(), batch=toy_batch(), cache={str(cache)!r},
                         bootstrap=0, metrics="kendall", progress=progress)
        print("finished", flush=True)
        """
    )
    env = {**os.environ, "TOY_DELAY": "0.2"}  # 0.4 s per architecture: 32 take ~13 s
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    done = 0
    deadline = time.monotonic() + 120
    try:
        for line in child.stdout:
            if line.startswith("done"):
                done = int(line.split()[1])
            if done >= 8 or time.monotonic() > deadline:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert 8 <= done < 32, "the run must be killed half-way"

    with ScoreCache(cache) as store:
        archs = [a.strip() for a in toy_host().benchmarks.get("toy-bench").load()["arch"]]
        host = toy_host()
        stored = {}
        for name in PROXIES.split(","):
            proxy = host.proxies.get(name)
            contract = run_contract(proxy, toy_batch(), 0)
            contract.update({"num_classes": 10, "input_size": 8})
            stored[name] = set(store.get_scores("toy", archs, name, "1", contract_key(contract)))
    # each architecture's scores were committed together: nothing half-written
    assert stored["toy_params"] == stored["toy_output"]
    finished = stored["toy_params"]
    assert len(finished) >= done  # every architecture reported done is in the cache

    log = tmp_path / "calls.log"
    monkeypatch.setenv("TOY_CALL_LOG", str(log))
    resumed = evaluate_with(PROXIES, "toy-bench", host=toy_host(), batch=toy_batch(), cache=cache, bootstrap=0)
    recomputed = Counter(tuple(line.split()) for line in log.read_text().splitlines())
    assert not any(arch in finished for _, arch in recomputed), "a finished score was computed again"
    assert sum(recomputed.values()) == 2 * (32 - len(finished)) == resumed.computed
    assert resumed.scores[["toy_params", "toy_output"]].notna().all(axis=None)

    # and the resumed results equal those of an uninterrupted run
    monkeypatch.delenv("TOY_CALL_LOG")
    clean = evaluate_with(
        PROXIES, "toy-bench", host=toy_host(), batch=toy_batch(), cache=tmp_path / "clean.sqlite", bootstrap=0
    )
    pd.testing.assert_frame_equal(resumed.scores, clean.scores)
    timeless = ["seconds_per_arch"]
    pd.testing.assert_frame_equal(resumed.summary.drop(columns=timeless), clean.summary.drop(columns=timeless))
