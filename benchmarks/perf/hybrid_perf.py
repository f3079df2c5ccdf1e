"""Time of the exhaustive hybrid-proxy search (``zsbench hybrid``) on a NAS-Bench-201-sized pool.

Usage::

    python benchmarks/perf/hybrid_perf.py [--archs 15625] [--members 15] [--max-size 4]
        [--rules rank_sum,log_rank,zscore] [--indices spearman,mbr_flops] [--threads 1] [--compare 40]

The scores are synthetic (the search's cost does not depend on their values, only on the
pool size, the member count and the ties): ``--members`` members that are noisy views of a
common accuracy, a third of them rounded to a few hundred distinct values (ties, as in the
cost-like proxies), and FLOPs with many repeated values (as in NAS-Bench-201). Every subset of
size 1 to ``--max-size`` is judged under every rule with every index, through the installed
index plugins' :meth:`zsbench.Metric.compute_many`, exactly as ``zsbench hybrid`` does.

The table gives the candidates and seconds per (size, rule) and the total, as wall time and as
the CPU time of the process (on a machine shared with other jobs the wall time also counts the
time other processes held the cores; the CPU time is what the search itself used); ``--compare N``
also times ``N`` candidates of the largest size judged one by one with ``Metric.compute``
(the path without vectorisation) in the same run, and prints the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=15625)
    parser.add_argument("--members", type=int, default=15)
    parser.add_argument("--max-size", type=int, default=4)
    parser.add_argument("--rules", default="rank_sum,log_rank,zscore")
    parser.add_argument("--indices", default="spearman,mbr_flops")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (1: what one core does)")
    parser.add_argument("--compare", type=int, default=40, help="candidates judged one by one for the ratio (0: skip)")
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import itertools

    import numpy as np
    import pandas as pd

    import zsbench
    from zsbench.studies import hybrid
    from zsbench.studies.scores import ScoreTable

    rng = np.random.default_rng(0)
    n = args.archs
    accuracy = rng.normal(size=n)
    columns = {}
    for m in range(args.members):
        values = accuracy * rng.uniform(0.2, 1.0) + rng.normal(size=n)
        if m % 3 == 0:
            values = np.round(values * 50)  # a few hundred distinct values: ties
        columns[f"p{m}"] = values
    frame = pd.DataFrame(
        {
            "arch": [str(i) for i in range(n)],
            "accuracy": accuracy,
            "flops": rng.integers(0, 200, size=n).astype(float),  # many archs share a cost
            "params": rng.random(n),
            "depth": rng.integers(1, 20, size=n).astype(float),
            **columns,
        }
    )
    table = ScoreTable(frame=frame, directions=dict.fromkeys(columns, True), benchmark="synthetic")
    members = [hybrid.Member(name) for name in columns]
    metrics = zsbench.get_host().metrics.select(args.indices)
    rules = [r for r in args.rules.split(",") if r]

    # warm-up: imports (scipy) and first-call costs stay out of the timings
    hybrid.search(table.__class__(frame.head(200), table.directions, "warm-up"), metrics, members=members[:3], rules=rules, max_size=2)
    total = total_cpu = 0.0
    total_candidates = 0
    # time each (size, rule) alone, then the whole search at once
    table_rows = []
    for size in range(1, args.max_size + 1):
        for rule in ["single"] if size == 1 else rules:
            subsets = list(itertools.combinations(range(len(members)), size))
            matrix = np.vstack([table.frame[m.name].to_numpy(dtype=float) for m in members])
            data = zsbench.MetricInput(scores=np.empty(0), accuracy=accuracy, costs=table.costs(), options={})
            started, cpu_started = time.perf_counter(), time.process_time()
            hybrid._judge(matrix, subsets, rule, data, metrics, folds=5, seed=0, model_factory=hybrid.default_regressor)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            table_rows.append((size, rule, len(subsets), seconds, cpu))
            total += seconds
            total_cpu += cpu
            total_candidates += len(subsets)
    started, cpu_started = time.perf_counter(), time.process_time()
    whole = hybrid.search(table, metrics, members=members, rules=rules, max_size=args.max_size)
    whole_seconds, whole_cpu = time.perf_counter() - started, time.process_time() - cpu_started

    print(
        f"hybrid search: {n} architectures, {len(members)} members, sizes 1-{args.max_size}, rules {', '.join(rules)}, "
        f"indices {', '.join(m.name for m in metrics)}, {args.threads} thread(s), load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| size | rule | candidates | wall s | CPU s | CPU ms per candidate |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for size, rule, count, seconds, cpu in table_rows:
        print(f"| {size} | {rule} | {count} | {seconds:.2f} | {cpu:.2f} | {1000 * cpu / count:.1f} |")
    print(f"| all | | {total_candidates} | {total:.2f} | {total_cpu:.2f} | {1000 * total_cpu / total_candidates:.1f} |")
    print()
    print(
        f"whole search (hybrid.search, ordering included): {len(whole.candidates)} candidates in {whole_seconds:.2f} s wall, "
        f"{whole_cpu:.2f} s CPU"
    )

    if args.compare:
        size = args.max_size
        subsets = list(itertools.combinations(range(len(members)), size))[: args.compare]
        matrix = np.vstack([table.frame[m.name].to_numpy(dtype=float) for m in members])
        terms = np.vstack([hybrid.member_transform(row, rules[0]) for row in matrix])
        started = time.perf_counter()
        for subset in subsets:
            scores = terms[list(subset)].sum(axis=0)
            for metric in metrics:
                metric.compute(zsbench.MetricInput(scores, accuracy, True, table.costs(), {}))
        loop = (time.perf_counter() - started) / len(subsets)
        data = zsbench.MetricInput(scores=np.empty(0), accuracy=accuracy, costs=table.costs(), options={})
        started = time.perf_counter()
        hybrid._judge(matrix, subsets, rules[0], data, metrics, folds=5, seed=0, model_factory=hybrid.default_regressor)
        vectorised = (time.perf_counter() - started) / len(subsets)
        print(
            f"{len(subsets)} candidates of size {size} under {rules[0]}: one by one with Metric.compute "
            f"{1000 * loop:.1f} ms each, vectorised {1000 * vectorised:.1f} ms each: {loop / vectorised:.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
