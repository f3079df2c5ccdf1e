"""Factor analysis, picks, agreement, transfer tables and published figures on synthetic tables
whose answer is known by construction."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from zsbench_metrics import mbr_flops, spearman

import zsbench
from zsbench.errors import UsageError
from zsbench.studies import analysis, published
from zsbench.studies.scores import ScoreTable

MBR = mbr_flops.MeanBestRankFlops()
SPEARMAN = spearman.SpearmanMetric()


def make_table(n: int = 300, seed: int = 0) -> tuple[ScoreTable, pd.DataFrame]:
    """Four stages' widths and depths drawn at random; the proxy ``deep`` is S2_depth plus a
    little noise, the accuracy is driven by S3_out; ``shallow`` is -deep (lower is better)."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({f"S{i}_{kind}": rng.integers(1, 9, size=n).astype(float) for i in range(1, 5) for kind in ("out", "depth")})
    features["S1_stride"] = 2.0  # constant: dropped
    frame = pd.DataFrame(
        {
            "arch": [f"a{i}" for i in range(n)],
            "accuracy": features["S3_out"] + 0.1 * rng.normal(size=n),
            "flops": rng.integers(1, 100, size=n).astype(float),
            "params": rng.random(n),
            "depth": features[[f"S{i}_depth" for i in range(1, 5)]].sum(axis=1),
            "deep": features["S2_depth"] + 0.01 * rng.normal(size=n),
        }
    )
    frame["shallow"] = -frame["deep"]  # the same ranking as deep, declared lower-is-better
    return ScoreTable(frame=frame, directions={"deep": True, "shallow": False}, benchmark="synthetic"), features


def test_importance_recovers_the_one_feature_that_drives_a_score():
    table, features = make_table()
    result = analysis.importance(features, {"accuracy": table.accuracy, "deep": table.frame["deep"].to_numpy()}, seed=0)
    assert result.importance["deep"].idxmax() == "S2_depth" and result.importance.loc["S2_depth", "deep"] > 0.9
    assert result.importance["accuracy"].idxmax() == "S3_out" and result.importance.loc["S3_out", "accuracy"] > 0.9
    np.testing.assert_allclose(result.importance.sum(), 1.0)
    assert result.r2["deep"] > 0.95 and result.r2["accuracy"] > 0.9
    assert result.dropped == ["S1_stride"]


def test_importance_of_noise_shows_an_r2_near_zero():
    _, features = make_table()
    noise = np.random.default_rng(1).normal(size=len(features))
    result = analysis.importance(features, {"noise": noise})
    assert result.r2["noise"] < 0.1


def test_picks_are_the_best_scored_within_each_budget():
    table, _ = make_table(n=60)
    frame = analysis.picks(table, cost="flops", budgets=4)
    cost = table.frame["flops"].to_numpy()
    lo, hi = cost.min(), cost.max()
    for label, m in (("25%", 1), ("100%", 4)):
        pool = cost <= lo + (hi - lo) * m / 4 + 1e-9
        row = frame[(frame["proxy"] == "shallow") & (frame["budget"] == label)].iloc[0]
        # shallow is lower-is-better: its pick is the pool's lowest raw score
        best = np.flatnonzero(pool)[np.argmin(table.frame["shallow"].to_numpy()[pool])]
        assert row["arch"] == table.frame["arch"][best]
        assert row["rank"] == 1 + (table.accuracy[pool] > table.accuracy[best]).sum()
        oracle = frame[(frame["proxy"] == "oracle") & (frame["budget"] == label)].iloc[0]
        assert oracle["rank"] == 1 and oracle["accuracy"] == table.accuracy[pool].max()


def test_agreement_oracle_column_is_each_proxys_index_and_the_diagonal_is_perfect():
    table, _ = make_table(n=80)
    matrix = analysis.agreement(table, MBR)
    for column in table.proxies:
        data = zsbench.MetricInput(table.frame[column].to_numpy(), table.accuracy, table.directions[column], table.costs())
        own = MBR.compute(data)["mbr_flops"]
        assert matrix.loc[column, "oracle"] == pytest.approx(own)
    assert np.allclose(np.diag(matrix.to_numpy()), 0.0)
    # deep and shallow are the same ranking once directions apply: each judges the other perfect
    assert matrix.loc["deep", "shallow"] == 0.0 and matrix.loc["shallow", "deep"] == 0.0


def test_transfer_puts_each_benchmark_in_a_column():
    first, _ = make_table(n=50, seed=0)
    second, _ = make_table(n=70, seed=1)
    second.benchmark = "other"
    second.frame = second.frame.drop(columns=["shallow"])
    second.directions = {"deep": True}
    frame = analysis.transfer([first, second], SPEARMAN)
    rows = frame.set_index("proxy")
    assert list(frame["proxy"]) == ["oracle", "deep", "shallow"]
    assert rows.loc["oracle", "synthetic"] == pytest.approx(1.0)
    assert np.isnan(rows.loc["shallow", "other"])
    with pytest.raises(UsageError, match="no entry"):
        analysis.transfer([first], SPEARMAN, entries=["spearman/absent"])


def test_column_agreement_orders_proxies_across_columns():
    proxies = ["oracle", "p1", "p2", "p3", "p4", "p5", "p6"]
    frame = pd.DataFrame(
        {
            "proxy": [*proxies, "p1"],
            "entry": ["mbr_flops"] * 7 + ["mbr_flops/acc@100%"],
            "a": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 99.0],
            "b": [0.0, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, -99.0],  # the reverse order of a
            "c": [0.0, 0.1, 0.3, 0.2, np.nan, np.nan, np.nan, 0.0],  # only 3 proxies scored
            "d": [0.9, 0.1, 0.2, 0.3, 0.4, 0.6, 0.5, 0.0],  # a with the last two swapped; its oracle is ignored
        }
    )
    pairs = analysis.column_agreement(frame, "mbr_flops").set_index(["first", "second"])
    assert list(pairs.index) == [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")]
    assert pairs.loc[("a", "b"), "spearman"] == pytest.approx(-1.0)
    assert pairs.loc[("a", "b"), "kendall"] == pytest.approx(-1.0)
    assert pairs.loc[("a", "b"), "proxies"] == 6  # the oracle row and the other entry are left out
    assert pairs.loc[("a", "d"), "spearman"] == pytest.approx(1 - 6 * 2 / (6 * 35))  # one adjacent swap
    assert pairs.loc[("a", "c"), "proxies"] == 3 and np.isnan(pairs.loc[("a", "c"), "spearman"])
    relaxed = analysis.column_agreement(frame, "mbr_flops", min_proxies=3).set_index(["first", "second"])
    assert relaxed.loc[("a", "c"), "spearman"] == pytest.approx(0.5)
    frame["e"] = 0.5  # every proxy equal: no order to compare, NaN without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flat = analysis.column_agreement(frame, "mbr_flops").set_index(["first", "second"])
    assert np.isnan(flat.loc[("a", "e"), "spearman"]) and flat.loc[("a", "e"), "proxies"] == 6


def test_published_nbzero_figures_match_the_paper():
    data = published.load("nbzero")
    columns = {c["key"]: c for c in data["columns"]}
    # figures the paper's text quotes, read independently of its tables
    mbr = {key: c["values"]["mbr_flops"] for key, c in columns.items()}
    assert (mbr["nbzero:R1/cifar10"]["flops"], mbr["nbzero:R1/cifar10"]["zen"]) == (0.142, 0.133)
    assert (mbr["nbzero:R1/cifar100"]["flops"], mbr["nbzero:R1/cifar100"]["synflow"]) == (0.157, 0.102)
    assert (mbr["nbzero:R1/imagenet16-120"]["flops"], mbr["nbzero:R1/imagenet16-120"]["synflow"]) == (0.286, 0.093)
    assert (mbr["nbzero:R2"]["flops"], mbr["nbzero:R2"]["zen"]) == (0.132, 0.045)
    # Table 3's R1 row repeats Table 2's CIFAR-100 row, and the data says so
    assert columns["nbzero:R1"]["values"] == columns["nbzero:R1/cifar100"]["values"]
    assert any("repeats Table 2's 'CIFAR-100' row" in note for note in data["notes"])
    for column in data["columns"]:
        for entry in ("mbr_flops", "mbr_flops/acc@100%"):
            assert len(column["values"][entry]) == 12  # nine proxies, FLOPs, Params, Oracle
    frame = published.frame("nbzero", ["mbr_flops"])
    assert frame.iloc[0]["proxy"] == "oracle" and frame.set_index("proxy").loc["zen", "nbzero:R2"] == 0.045
    with pytest.raises(UsageError, match="publishes"):
        published.frame("nbzero", ["kendall"])
    with pytest.raises(UsageError, match="shipped"):
        published.load("nope")
