"""Throughput of ``evaluate`` with 1 and 2 worker processes, and the workers' memory over a long run.

Usage::

    python benchmarks/perf/throughput.py [--proxies all] [--archs 200] [--workers 1,2]
        [--threads 1] [--repeats 1] [--memory-archs 1000] [--memory-proxies all] [--benchmark nb201-cifar10]
        [--device cuda]

Part 1, throughput: :func:`zsbench.evaluate` scores the first ``--archs`` cells of a seeded
subset of the benchmark with every proxy of ``--proxies``, into a fresh cache, once per
worker count of ``--workers`` (process executor, ``--threads`` torch threads per worker).
``archs/s`` counts every architecture over the whole run (worker start included);
``steady archs/s`` counts those after the first finished one, until the last, so that
process start and plugin loading are left out. With ``--repeats``, the worker counts
alternate within every repeat, and the speed-up is against the first worker count of the
same repeat.

Part 2, memory: one worker process scores ``--memory-archs`` cells with
``--memory-proxies``; after every tenth of them the script reads the worker's resident set
(``VmRSS``) and its peak so far (``VmHWM``) from ``/proc`` (Linux). Flat figures mean
that nothing accumulates per architecture.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from _device import checked_device


def _status_mib(pid: int, field: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run(args: argparse.Namespace, proxies: str, archs: int, workers: int, on_progress=None) -> tuple[float, list[float]]:
    """Wall seconds of the evaluation and the time of every finished architecture."""
    from zsbench.engine.evaluation import IndexOptions, PoolOptions, RunOptions, ScoringOptions, evaluate

    finished: list[float] = []

    def progress(done: int, total: int) -> None:
        finished.append(time.perf_counter())
        if on_progress is not None:
            on_progress(done, total)

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = evaluate(
            proxies,
            args.benchmark,
            metrics="kendall",
            pool=PoolOptions(limit=archs, seed=args.seed, data_root=args.data_root),
            scoring=ScoringOptions(device=args.device),
            run=RunOptions(
                cache=Path(folder) / "scores.sqlite", executor="process", workers=workers, threads=args.threads
            ),
            indices=IndexOptions(bootstrap=0),
            progress=progress,
        )
        wall = time.perf_counter() - started
    failures = len(result.failures)
    if failures:
        print(f"#   note: {failures} failed scores ({result.failures['proxy'].value_counts().to_dict()})")
    return wall, [t - started for t in finished]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proxies", default="all")
    parser.add_argument("--benchmark", default="nb201-cifar10")
    parser.add_argument("--archs", type=int, default=200)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--memory-archs", type=int, default=1000)
    parser.add_argument("--memory-proxies", default=None, help="default: --proxies")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (every worker scores there)")
    args = parser.parse_args()
    checked_device(parser, args.device)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cores} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start", flush=True)  # fmt: skip
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    if counts and args.archs > 0:
        print(f"# throughput: {args.archs} archs of {args.benchmark}, proxies {args.proxies}, device {args.device}, "
              f"{args.threads} thread(s)/worker, {args.repeats} repeat(s)", flush=True)  # fmt: skip
        rows = []
        for repeat in range(args.repeats):
            # the worker counts alternate within every repeat, so that changing load hits them alike
            for workers in counts:
                wall, finished = run(args, args.proxies, args.archs, workers)
                steady = (len(finished) - 1) / (finished[-1] - finished[0]) if len(finished) > 1 else float("nan")
                rows.append((repeat, workers, wall, len(finished) / wall, steady))
                print(f"#   repeat {repeat + 1}, {workers} worker(s): {wall:.1f} s, "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        print()
        base = counts[0]
        print(f"| repeat | workers | wall s | archs/s | steady archs/s | archs/s vs {base} worker(s), same repeat |")
        print("|---|---|---|---|---|---|")
        for repeat, workers, wall, rate, steady in rows:
            base_rate = next(r[3] for r in rows if r[0] == repeat and r[1] == base)
            print(f"| {repeat + 1} | {workers} | {wall:.1f} | {rate:.4f} | {steady:.4f} | {rate / base_rate:.2f}x |")
    if args.memory_archs > 0:
        proxies = args.memory_proxies or args.proxies
        step = max(1, args.memory_archs // 10)
        samples: list[tuple[int, float | None, float | None]] = []

        def sample(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                (child,) = multiprocessing.active_children() or (None,)
                if child is not None and child.pid is not None:
                    samples.append((done, _status_mib(child.pid, "VmRSS"), _status_mib(child.pid, "VmHWM")))

        print()
        print(f"# memory: {args.memory_archs} archs of {args.benchmark}, proxies {proxies}, 1 worker")
        wall, _ = run(args, proxies, args.memory_archs, 1, on_progress=sample)
        print(f"#   {wall:.1f} s")
        print()
        print("| archs done | worker RSS MiB | worker peak RSS MiB |")
        print("|---|---|---|")
        for done, rss, peak in samples:
            print(f"| {done} | {rss or float('nan'):.0f} | {peak or float('nan'):.0f} |")


if __name__ == "__main__":
    main()
