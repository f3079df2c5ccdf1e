"""What torch's thread count does to ``zsbench evaluate``, alone and next to another job.

Usage::

    python benchmarks/perf/threads_perf.py [--proxies synflow,snip,grad_norm,naswot,zen]
        [--archs 10] [--benchmark nb201-cifar10] [--data-root DIR]

Runs ``zsbench evaluate`` as a new user would (a fresh process, a fresh cache, no
``OMP_NUM_THREADS`` in its environment) on the same ``--archs`` cells with:

* ``torch default``: no ``--threads`` and torch left to its own default (``--threads`` set
  to torch's default count, which is what evaluate did before it had the option);
* ``--threads 1``;

each once on the machine as it is and once next to another job: a process doing float32
matrix products with torch's default threads, as another user's training would. The figure
is scoring seconds per architecture (the sum over the proxies of evaluate's
``seconds_per_arch``, so process start and data loading are excluded). All runs are made
in one call, alternating, so that the machine's other load hits them alike; the last column
is the ratio of the two thread settings measured under the same condition.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMPETITOR = """
import torch
a = torch.randn(768, 768)
while True:
    a = torch.tanh(a @ a)
"""


def torch_default_threads(env: dict[str, str]) -> int:
    """torch's default intra-op thread count in a fresh process with ``env``."""
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(out.stdout.strip())


def run_evaluate(args: argparse.Namespace, threads: int, env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Scoring seconds per architecture (summed over proxies) and the per-proxy figures."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable, "-m", "zsbench", "evaluate", "--proxies", args.proxies, "--benchmark", args.benchmark,
            "--limit", str(args.archs), "--seed", str(args.seed), "--bootstrap", "0", "--metrics", "kendall",
            "--cache", str(Path(folder) / "scores.sqlite"), "--threads", str(threads), "--json", "--quiet",
        ]  # fmt: skip
        if args.data_root:
            command += ["--data-root", args.data_root]
        out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"evaluate failed ({out.returncode}): {out.stderr.strip().splitlines()[-1:]}")
    rows = json.loads(out.stdout)["rows"]
    per_proxy = {row["proxy"]: float(row["seconds_per_arch"] or 0.0) for row in rows}
    return sum(per_proxy.values()), per_proxy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proxies", default="synflow,snip,grad_norm,naswot,zen")
    parser.add_argument("--benchmark", default="nb201-cifar10")
    parser.add_argument("--archs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    default = torch_default_threads(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cores} cores, torch default {default} threads, "
          f"load average {os.getloadavg()[0]:.1f} at start", flush=True)  # fmt: skip
    print(f"# {args.archs} archs of {args.benchmark}, proxies {args.proxies}", flush=True)
    results: dict[tuple[str, int], tuple[float, dict[str, float]]] = {}
    for condition in ("as it is", "with another job"):
        competitor = None
        if condition == "with another job":
            competitor = subprocess.Popen([sys.executable, "-c", COMPETITOR], env=env)
            time.sleep(3)  # let it start its threads
        try:
            for threads in (default, 1):
                started = time.perf_counter()
                results[(condition, threads)] = run_evaluate(args, threads, env)
                print(f"#   {condition}, {threads} thread(s): {results[(condition, threads)][0]:.3f} s/arch "
                      f"({time.perf_counter() - started:.0f} s wall)", flush=True)  # fmt: skip
        finally:
            if competitor is not None:
                competitor.kill()
                competitor.wait()

    proxies = list(results[("as it is", 1)][1])
    header = ["condition", f"torch default ({default} threads) s/arch", "--threads 1 s/arch", "default / 1 thread"]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for condition in ("as it is", "with another job"):
        many, one = results[(condition, default)][0], results[(condition, 1)][0]
        print(f"| {condition} | {many:.3f} | {one:.3f} | {many / one:.2f}x |")
    print()
    print("per proxy, s/arch (torch default / 1 thread):")
    print("| proxy | as it is | with another job |")
    print("|---|---|---|")
    for proxy in proxies:
        cells = []
        for condition in ("as it is", "with another job"):
            many, one = results[(condition, default)][1][proxy], results[(condition, 1)][1][proxy]
            cells.append(f"{many:.3f} / {one:.3f}")
        print(f"| {proxy} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
