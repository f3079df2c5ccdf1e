"""NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks): its
NAS-Bench-201 CIFAR-10 row beside zsbench's values, and, on the cells of its published proxy
scores, how zsbench's implementations rank the same cells as NASLib's.

    python benchmarks/repro/nbsz2022.py --limit 1000 --cache scores.sqlite --out benchmarks/repro/nbsz2022.md

Part 1: Spearman's rho against NAS-Bench-201's CIFAR-10 200-epoch validation accuracy (the
ground truth NASLib stores, our column ``cifar10_valid_200ep``) on zsbench's seeded sample of
``--limit`` cells, beside the paper's values, with a 95 % percentile-bootstrap interval.

Part 2: the NB201 CIFAR-10 cells of the early NAS-Bench-Suite-Zero release
(``<data-root>/nbsz_partial/nbsz_partial_scores.parquet``, about 724 cells with NASLib's scores
of 11 proxies): per proxy, Spearman between zsbench's score and NASLib's score of the same
cells (1.0: the two implementations rank identically), and each implementation's rho against
the validation accuracy. ``--nbsz-limit`` scores only the first cells of that file.
The 12-epoch training accuracy is a reference row in both parts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _study import (
    BOOTSTRAP,
    fmt,
    interval,
    markdown_table,
    nb201_ground_truth,
    run_stamp,
    score_cells,
    spearman_interval,
    write_report,
)

TRUTH = "cifar10_valid_200ep"
TWELVE = "cifar10_valid_12ep"
# NAS-Bench-Suite-Zero, NAS-Bench-201 CIFAR-10, Spearman rho (the paper's figure of all proxies).
PUBLISHED = {"naswot": 0.77, "synflow": 0.73, "jacob_cov": 0.75, "params": 0.72, "flops": 0.69, "zen": 0.35}
# zsbench proxy -> NASLib's name in the released scores.
NASLIB_NAMES = {
    "naswot": "nwot",
    "synflow": "synflow",
    "jacob_cov": "jacov",
    "params": "params",
    "flops": "flops",
    "snip": "snip",
    "grasp": "grasp",
    "fisher": "fisher",
    "grad_norm": "grad_norm",
    "l2_norm": "l2_norm",
    "plain": "plain",
}
NBSZ_FILE = "nbsz_partial/nbsz_partial_scores.parquet"


def part_one(proxies: list[str], args: argparse.Namespace, truth) -> str:
    scores, source = score_cells(
        proxies, "nb201-cifar10", limit=args.limit, cache=args.cache, cached_only=args.cached_only, data_root=args.data_root
    )
    accuracy = truth.loc[scores["arch"], TRUTH].to_numpy()
    rows = []
    for proxy in proxies:
        c = spearman_interval(scores[proxy], accuracy, bootstrap=args.bootstrap)
        published = PUBLISHED.get(proxy, float("nan"))
        inside = "n/a" if proxy not in PUBLISHED else ("yes" if c.low <= published <= c.high else "no")
        rows.append([proxy, str(c.n), fmt(c.value), interval(c), fmt(published, 2), fmt(c.value - published), inside])
    twelve = spearman_interval(truth.loc[scores["arch"], TWELVE], accuracy, bootstrap=args.bootstrap)
    rows.append([f"12-epoch training ({TWELVE}), reference", str(twelve.n), fmt(twelve.value), interval(twelve), "n/a", "n/a", "n/a"])
    table = markdown_table(["proxy", "cells", "zsbench rho", "95 % interval", "published", "difference", "published inside interval"], rows)
    return "\n".join(
        [f"### Part 1: NAS-Bench-201 CIFAR-10 row (ground truth `{TRUTH}`)", "", f"Inputs: `{source}`.", "", table]
    )


def part_two(proxies: list[str], args: argparse.Namespace, truth) -> str:
    import pandas as pd

    from zsbench.data import require_data_root

    path = require_data_root(args.data_root) / NBSZ_FILE
    naslib = pd.read_parquet(path)
    naslib = naslib[(naslib["search_space"] == "nasbench201") & (naslib["task"] == "cifar10")].reset_index(drop=True)
    if args.nbsz_limit:
        naslib = naslib.iloc[: args.nbsz_limit]
    compared = [p for p in proxies if p in NASLIB_NAMES]
    with tempfile.TemporaryDirectory() as folder:
        table_file = Path(folder) / "nbsz_nb201_cifar10.parquet"
        naslib.rename(columns={"arch_str": "arch", "val_accuracy": "accuracy"})[["arch", "accuracy"]].to_parquet(table_file)
        scores, source = score_cells(
            compared, table_file, space="nb201", limit=None, cache=args.cache, cached_only=args.cached_only, data_root=args.data_root
        )
    merged = naslib.set_index("arch_str").loc[scores["arch"]]
    accuracy = merged["val_accuracy"].to_numpy()
    rows = []
    for proxy in compared:
        theirs = merged[NASLIB_NAMES[proxy]].to_numpy()
        agreement = spearman_interval(scores[proxy], theirs, bootstrap=args.bootstrap)
        ours = spearman_interval(scores[proxy], accuracy, bootstrap=args.bootstrap)
        published = spearman_interval(theirs, accuracy, bootstrap=0)
        rows.append(
            [proxy, NASLIB_NAMES[proxy], str(agreement.n), fmt(agreement.value), interval(agreement),
             fmt(ours.value), interval(ours), fmt(published.value), fmt(ours.value - published.value)]
        )
    twelve = spearman_interval(truth.loc[scores["arch"], TWELVE], accuracy, bootstrap=args.bootstrap)
    rows.append(["12-epoch training, reference", "n/a", str(twelve.n), "n/a", "n/a", fmt(twelve.value), interval(twelve), "n/a", "n/a"])
    table = markdown_table(
        ["proxy", "NASLib name", "cells", "rho(zsbench, NASLib)", "95 % interval", "zsbench rho vs accuracy", "95 % interval",
         "NASLib rho vs accuracy", "difference"],
        rows,
    )
    return "\n".join(
        [
            "### Part 2: zsbench and NASLib on the same cells (NAS-Bench-Suite-Zero's released scores)",
            "",
            f"{len(naslib)} NB201 CIFAR-10 cells of the early release; ground truth: NASLib's `val_accuracy` (200-epoch "
            f"validation accuracy). zsbench inputs: `{source}`; NASLib used its own batch and settings, so a rank "
            "agreement below 1 can come from the batch as well as from the definition.",
            "",
            table,
        ]
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1000, help="cells of part 1 (zsbench's seeded sample; default 1000)")
    parser.add_argument("--nbsz-limit", type=int, default=None, help="score only the first N cells of part 2")
    parser.add_argument("--proxies", default="naswot,synflow,jacob_cov,params,flops,zen,snip,grasp,fisher,grad_norm,l2_norm,plain")
    parser.add_argument("--parts", default="1,2")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--cached-only", action="store_true", help="report only the scores already cached (a study still running)")
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    proxies = [p for p in args.proxies.split(",") if p]
    truth = nb201_ground_truth()
    parts = set(args.parts.split(","))
    sections = []
    if "1" in parts:
        sections.append(part_one(proxies, args, truth))
    if "2" in parts:
        sections.append(part_two(proxies, args, truth))
    report = "\n\n".join(
        [
            "## NAS-Bench-Suite-Zero (2022): NAS-Bench-201 CIFAR-10",
            "zsbench: rho of the score oriented so that higher is better, 95 % percentile-bootstrap interval over the cells; "
            "difference = zsbench - published.",
            *sections,
            run_stamp("nbsz2022.py", argv if argv is not None else sys.argv[1:]),
        ]
    )
    write_report(args.out, report)
    return report


if __name__ == "__main__":
    main()
