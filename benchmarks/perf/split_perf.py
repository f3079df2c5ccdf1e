"""How to split the cores between worker processes and torch threads, measured on one run.

Usage::

    python benchmarks/perf/split_perf.py [--benchmark nasbench-macro-cifar10] [--proxies all,-ntk]
        [--archs 24] [--splits local:2,1x2,2x1] [--repeats 2]

Every split scores the same ``--archs`` networks of a seeded subset of the benchmark with
every proxy of ``--proxies``, into a fresh cache, with the score packs off (so that every
score is computed). A split is ``local:T`` (the in-process executor, ``T`` torch threads) or
``WxT`` (``W`` worker processes of ``T`` threads each, the process executor). The splits
alternate within every repeat, so that a change of the machine's load hits them alike; the
ratio is against the first split of the same repeat. Wall time counts the whole run, worker
start and plugin loading included, because that is what a user waits for.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def _parse_split(text: str) -> tuple[str, int, int]:
    if text.startswith("local:"):
        return "local", 1, int(text.split(":", 1)[1])
    workers, threads = text.split("x")
    return "process", int(workers), int(threads)


def run(args: argparse.Namespace, split: str) -> float:
    """Wall seconds of one evaluation with ``split``."""
    from zsbench.engine.evaluation import IndexOptions, PoolOptions, RunOptions, ScoringOptions, evaluate

    executor, workers, threads = _parse_split(split)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = evaluate(
            args.proxies,
            args.benchmark,
            metrics="kendall",
            pool=PoolOptions(limit=args.archs, seed=args.seed, data_root=args.data_root),
            scoring=ScoringOptions(),
            run=RunOptions(
                cache=Path(folder) / "scores.sqlite",
                executor=executor,
                workers=workers,
                threads=threads,
                use_packs=False,
            ),
            indices=IndexOptions(bootstrap=0),
        )
        wall = time.perf_counter() - started
    if len(result.failures):
        print(f"#   note: {len(result.failures)} failed scores")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="nasbench-macro-cifar10")
    parser.add_argument("--proxies", default="all,-ntk")
    parser.add_argument("--archs", type=int, default=24)
    parser.add_argument("--splits", default="local:2,1x2,2x1")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args()
    splits = [s.strip() for s in args.splits.split(",") if s.strip()]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cores} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start", flush=True)  # fmt: skip
    print(f"# {args.archs} networks of {args.benchmark}, proxies {args.proxies}, packs off, "
          f"{args.repeats} repeat(s)", flush=True)  # fmt: skip
    rows: list[tuple[int, str, float]] = []
    for repeat in range(args.repeats):
        for split in splits:
            wall = run(args, split)
            rows.append((repeat, split, wall))
            print(f"#   repeat {repeat + 1}, {split}: {wall:.1f} s, load average {os.getloadavg()[0]:.1f}", flush=True)
    print()
    print(f"| repeat | split | wall s | networks/s | speed vs {splits[0]}, same repeat |")
    print("|---|---|---:|---:|---:|")
    for repeat, split, wall in rows:
        base = next(w for r, s, w in rows if r == repeat and s == splits[0])
        print(f"| {repeat + 1} | {split} | {wall:.1f} | {args.archs / wall:.3f} | {base / wall:.2f}x |")


if __name__ == "__main__":
    main()
