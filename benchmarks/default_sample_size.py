"""How large the default sample must be for a cheap proxy's interval to clear 0.

`zsbench evaluate` without `--benchmark` scores a seeded sample of the default benchmark. This
script reads only the benchmark's table (no proxy is scored): for the table's `params` and
`flops` columns, the Spearman correlation with the accuracy over the whole table, then, for
each sample size, the default seed's sample (the rows `evaluate` would score) with its 95 %
percentile-bootstrap interval, and the share of random samples of that size whose interval
excludes 0. The share says whether a result at that size is a property of the benchmark or
of the seed.

    python benchmarks/default_sample_size.py --sizes 40,60,100,150 --samples 200
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from zsbench.builds import retrain_agreement
from zsbench.engine.evaluation import resolve_benchmark, sample_rows
from zsbench.plugins import get_host
from zsbench.settings import default_benchmark


def interval(x: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of Spearman's rho over the pairs (the one the
    benchmarks' noise ceilings use, :func:`zsbench.builds.retrain_agreement`)."""
    low, high = retrain_agreement(x, y, bootstrap=resamples, seed=seed)["spearman_ci"]
    return low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default=None, help="default: evaluate's default benchmark")
    parser.add_argument("--columns", default="params,flops")
    parser.add_argument("--sizes", default="40,60,100,150")
    parser.add_argument("--samples", type=int, default=200, help="random samples per size")
    parser.add_argument("--resamples", type=int, default=300, help="bootstrap resamples per random sample")
    parser.add_argument("--seed", type=int, default=0, help="the sample seed of evaluate (its --seed)")
    args = parser.parse_args()

    name = args.benchmark or default_benchmark()
    table = resolve_benchmark(get_host(), name, None).load()
    accuracy = table["accuracy"].to_numpy(dtype=float)
    sizes = [int(n) for n in args.sizes.split(",")]
    rng = np.random.default_rng(12345)
    print(f"benchmark {name}: {len(table)} architectures; {args.samples} random samples per size, "
          f"{args.resamples} bootstrap resamples each (1,000 for the default seed's sample)\n")
    print("| column | whole table | n | default seed's sample: Spearman [95 % interval] | random samples whose interval excludes 0 |")
    print("| --- | ---: | ---: | --- | ---: |")
    for column in args.columns.split(","):
        values = table[column].to_numpy(dtype=float)
        whole = stats.spearmanr(values, accuracy).statistic
        for n in sizes:
            rows = np.asarray(sample_rows(len(table), n, args.seed))
            rho = stats.spearmanr(values[rows], accuracy[rows]).statistic
            low, high = interval(values[rows], accuracy[rows], 1000, seed=0)
            clear = 0
            for sample in range(args.samples):
                drawn = rng.choice(len(table), n, replace=False)
                clear += interval(values[drawn], accuracy[drawn], args.resamples, seed=sample)[0] > 0
            print(f"| {column} | {whole:.2f} | {n} | {rho:.2f} [{low:.2f}, {high:.2f}] | {clear / args.samples:.0%} |")


if __name__ == "__main__":
    main()
