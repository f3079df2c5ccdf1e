"""Several processes on one score cache at once: every run finishes, every score is stored
exactly once with the value a single process computes, none is lost, and no run meets
"database is locked"."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cli_helpers import cli_command

from zsbench.engine.cache import ScoreCache

ARGS = ["evaluate", "-p", "toy_params,toy_output,toy_flaky", "-b", "toy-bench", "-m", "kendall", "--bootstrap", "0",
        "--quiet", "--json"]
SEEDS = (0, 1, 2, 3)  # four seeded samples of 20 of the 32 toy networks: they overlap


def _records(path: Path) -> dict[tuple, tuple]:
    with sqlite3.connect(path) as db:
        scores = {tuple(row[:5]): row[5:] for row in db.execute(
            "SELECT space, arch, proxy, proxy_version, contract, value, error FROM scores")}
        costs = {("cost", *row[:4]): row[4:] for row in db.execute(
            "SELECT space, arch, num_classes, input_size, flops, params, depth, error FROM costs")}
    return {**scores, **costs}


@pytest.mark.slow
def test_four_processes_on_one_cache_store_what_one_process_stores_record_by_record(tmp_path):
    env = {**os.environ, "TOY_DELAY": "0.03", "OMP_NUM_THREADS": "1", "TOY_CALL_LOG": str(tmp_path / "calls.log")}
    shared = tmp_path / "shared.sqlite"
    runs = [subprocess.Popen(cli_command(*ARGS, "--limit", "20", "--seed", str(seed), "--cache", str(shared)),
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in SEEDS]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err, err
    computed_concurrently = len((tmp_path / "calls.log").read_text().splitlines())

    single = tmp_path / "single.sqlite"
    env["TOY_CALL_LOG"] = str(tmp_path / "single.log")
    for seed in SEEDS:  # the same runs one after another in one cache
        done = subprocess.run(cli_command(*ARGS, "--limit", "20", "--seed", str(seed), "--cache", str(single)),
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    computed_once = len((tmp_path / "single.log").read_text().splitlines())

    concurrent, sequential = _records(shared), _records(single)
    assert len(sequential) > 3 * 20  # the samples overlap, and their union is larger than any one
    assert concurrent == sequential  # the same keys (none lost, none extra) with the same values and errors
    with ScoreCache(shared) as cache:  # a primary key per score: each is stored once
        assert cache.count_scores() == sum(1 for key in sequential if key[0] != "cost")
    # every call a single process makes, the concurrent runs made too (at most each run made them all)
    assert computed_once <= computed_concurrently <= 4 * 20 * 3
