"""Hybrid proxies on small synthetic tables whose right answer is known.

Every expected value is obtained another way than the module computes it: a brute-force
pairwise count, a per-row call of the index, or a construction that fixes the answer.
"""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata, spearmanr
from zsbench_metrics import kendall, mbr_flops, mbr_params, pearson, spearman

import zsbench
from zsbench.errors import UsageError
from zsbench.ranking import average_ranks_rows
from zsbench.studies import hybrid
from zsbench.studies.hybrid import HybridDefinition, Member
from zsbench.studies.scores import ScoreTable

SPEARMAN = spearman.SpearmanMetric()
PEARSON = pearson.PearsonMetric()
KENDALL = kendall.KendallMetric()
MBR = mbr_flops.MeanBestRankFlops()
MBR_PARAMS = mbr_params.MeanBestRankParams()


def table_of(
    columns: dict[str, np.ndarray],
    accuracy: np.ndarray,
    *,
    directions: dict[str, bool] | None = None,
    flops: np.ndarray | None = None,
    params: np.ndarray | None = None,
) -> ScoreTable:
    n = len(accuracy)
    rng = np.random.default_rng(99)
    frame = pd.DataFrame(
        {
            "arch": [f"a{i}" for i in range(n)],
            "accuracy": accuracy,
            "flops": flops if flops is not None else rng.permutation(n).astype(float),
            "params": params if params is not None else rng.permutation(n).astype(float),
            "depth": np.ones(n),
            **columns,
        }
    )
    directions = directions or dict.fromkeys(columns, True)
    return ScoreTable(frame=frame, directions=directions, benchmark="synthetic")


def complementary(n: int = 400, seed: int = 0) -> ScoreTable:
    """accuracy = u + v; proxy ``pu`` sees u, ``pv`` sees v (each with a little noise): each alone
    explains half of the accuracy's variance, together nearly all of it."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=n), rng.normal(size=n)
    return table_of(
        {"pu": u + 0.1 * rng.normal(size=n), "pv": -(v + 0.1 * rng.normal(size=n)), "junk": rng.normal(size=n)},
        u + v,
        directions={"pu": True, "pv": False, "junk": True},
    )


# -- vectorised indices give the per-row values ---------------------------------------------------


def test_average_ranks_rows_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    values = np.round(rng.random((20, 300)) * 30)
    np.testing.assert_allclose(average_ranks_rows(values), rankdata(values, axis=1))


@pytest.mark.parametrize("with_failures", [False, True])
@pytest.mark.parametrize("metric", [SPEARMAN, PEARSON, KENDALL, MBR, MBR_PARAMS])
def test_compute_many_equals_compute_per_row(metric, with_failures):
    rng = np.random.default_rng(2)
    n = 120
    accuracy = np.round(rng.normal(size=n) * 5)  # ties in the accuracy too
    costs = pd.DataFrame({"flops": rng.integers(1, 40, size=n).astype(float), "params": rng.random(n), "depth": np.ones(n)})
    rows = np.round(rng.normal(size=(9, n)) * 3)  # ties, also at the best score of a budget
    rows[4] = 7.0  # a constant row
    if with_failures:
        rows[3, :5] = np.nan  # failed scores: the general path
        rows[5] = np.nan  # a row that failed everywhere
    data = zsbench.MetricInput(scores=np.empty(0), accuracy=accuracy, higher_is_better=False, costs=costs, options={"budgets": 4})
    many = metric.compute_many(rows, data)
    for i, row in enumerate(rows):
        single = metric.compute(zsbench.MetricInput(row, accuracy, False, costs, {"budgets": 4}))
        for key, value in single.items():
            np.testing.assert_allclose(many[key][i], value, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{key} row {i}")


def test_default_compute_many_loops_over_compute():
    class Count(zsbench.Metric):
        name = "count_positive"

        def compute(self, data):
            return {self.name: float((np.asarray(data.scores) > 0).sum())}

    rows = np.array([[1.0, -1.0, 2.0], [-1.0, -2.0, -3.0]])
    data = zsbench.MetricInput(scores=np.empty(0), accuracy=np.zeros(3))
    np.testing.assert_array_equal(Count().compute_many(rows, data)["count_positive"], [2.0, 0.0])


# -- rules -----------------------------------------------------------------------------------------


def test_two_complementary_noisy_proxies_beat_each_alone():
    table = complementary()
    result = hybrid.search(table, [SPEARMAN], members=[Member("pu"), Member("pv", False), Member("junk")], max_size=2)
    frame = result.candidates
    singles = frame[frame["size"] == 1].set_index(frame[frame["size"] == 1]["members"].map(lambda m: m[0]))
    assert 0.6 < singles.loc["pu", "spearman"] < 0.8 and 0.6 < singles.loc["pv", "spearman"] < 0.8
    top = frame.iloc[0]
    assert set(top["members"]) == {"pu", "pv"}
    assert top["spearman"] > max(singles.loc["pu", "spearman"], singles.loc["pv", "spearman"]) + 0.15
    # every sum rule finds it, and each rule's value is the Spearman of that rule's formula
    pair = frame[frame["members"].map(set) == {"pu", "pv"}].set_index("rule")
    u, v = table.frame["pu"].to_numpy(), -table.frame["pv"].to_numpy()
    expected = {
        "rank_sum": rankdata(u) + rankdata(v),
        "log_rank": np.log(rankdata(u) / len(u)) + np.log(rankdata(v) / len(v)),
        "zscore": (u - u.mean()) / u.std() + (v - v.mean()) / v.std(),
    }
    for rule, combined in expected.items():
        assert pair.loc[rule, "spearman"] == pytest.approx(spearmanr(combined, table.accuracy).statistic, abs=1e-12)


@pytest.mark.parametrize("rule", ["rank_sum", "log_rank", "zscore", "vote"])
def test_a_constant_proxy_adds_nothing(rule):
    table = complementary(n=200)
    table.frame["constant"] = 3.0
    table.directions["constant"] = True
    result = hybrid.search(table, [SPEARMAN, MBR], members=[Member("pu"), Member("constant")], rules=[rule], max_size=2)
    frame = result.candidates.set_index(result.candidates["members"].map("+".join))
    for index in ("spearman", "mbr_flops", "mbr_flops/acc@20%"):
        assert frame.loc["pu+constant", index] == pytest.approx(frame.loc["pu", index], abs=1e-12)


def test_vote_agrees_with_a_brute_force_pairwise_count():
    rng = np.random.default_rng(3)
    scores = np.round(rng.normal(size=(3, 25)) * 2)  # ties: some pairs get fewer votes
    wins = hybrid.vote_wins(scores, block=7)
    expected = np.zeros(25)
    for i, j in itertools.permutations(range(25), 2):
        for_i = sum(scores[m, i] > scores[m, j] for m in range(3))
        for_j = sum(scores[m, j] > scores[m, i] for m in range(3))
        expected[i] += for_i > for_j
    np.testing.assert_array_equal(wins, expected)


def test_vote_refuses_an_unaffordable_pool():
    with pytest.raises(UsageError, match="--limit"):
        hybrid.vote_wins(np.zeros((2, hybrid.VOTE_MAX_ARCHS + 1)))


class RecordingModel:
    """Remembers the ids (feature 0) it was fitted on and checks it never predicts one of them."""

    seen: ClassVar[list[tuple[set, set]]] = []

    def __init__(self, seed):
        self.fitted: set = set()

    def fit(self, features, target):
        self.fitted = set(features[:, 0].tolist())
        return self

    def predict(self, features):
        asked = set(features[:, 0].tolist())
        RecordingModel.seen.append((self.fitted, asked))
        return np.zeros(len(features))


def test_learned_never_sees_its_test_fold():
    n = 60
    rng = np.random.default_rng(4)
    table = table_of({"ident": np.arange(n, dtype=float), "p": rng.normal(size=n)}, rng.normal(size=n))
    RecordingModel.seen = []
    definition = HybridDefinition(members=("ident", "p"), rule="learned", folds=5, seed=1)
    hybrid.combine(table, definition, model_factory=RecordingModel)
    assert len(RecordingModel.seen) == 5
    predicted = set()
    for fitted, asked in RecordingModel.seen:
        assert not fitted & asked
        assert len(fitted) + len(asked) == n
        predicted |= asked
    assert predicted == set(range(1, n + 1))  # the ids enter as their ranks 1..n


def test_learned_out_of_fold_cannot_memorise_noise():
    # accuracy is pure noise and the member a unique id: a model judged on its own training
    # rows would look perfect; judged out of fold it has nothing to go on
    n = 300
    rng = np.random.default_rng(5)
    accuracy = rng.normal(size=n)
    ident = rng.permutation(n).astype(float)
    table = table_of({"ident": ident}, accuracy)
    learned = hybrid.combine(table, HybridDefinition(members=("ident",), rule="learned", seed=0))
    in_sample = hybrid.default_regressor(0).fit(ident[:, None], accuracy).predict(ident[:, None])
    assert spearmanr(in_sample, accuracy).statistic > 0.5
    assert abs(spearmanr(learned, accuracy).statistic) < 0.2


def test_learned_takes_scores_beyond_float32():
    n = 100
    rng = np.random.default_rng(7)
    x = rng.normal(size=n)
    table = table_of({"huge": np.exp(x) * 1e40}, x)  # synflow-sized scores
    learned = hybrid.combine(table, HybridDefinition(("huge",), "learned"))
    assert spearmanr(learned, x).statistic > 0.9


def test_learned_finds_a_non_monotone_signal():
    n = 400
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, size=n)
    table = table_of({"x": x}, -(x**2) + 0.05 * rng.normal(size=n))
    single = hybrid.search(table, [SPEARMAN], members=[Member("x")], max_size=1).candidates.iloc[0]["spearman"]
    learned = spearmanr(hybrid.combine(table, HybridDefinition(("x",), "learned")), table.accuracy).statistic
    assert abs(single) < 0.2 and learned > 0.9


# -- failures, members, definitions ---------------------------------------------------------------


def test_failed_members_leave_their_architectures_out_and_say_how_many():
    table = complementary(n=100)
    table.frame.loc[:6, "pv"] = np.nan
    result = hybrid.search(table, [SPEARMAN], members=[Member("pu"), Member("pv", False)], max_size=2)
    frame = result.candidates.set_index(result.candidates["members"].map("+".join) + "/" + result.candidates["rule"])
    assert frame.loc["pu/single", "left_out"] == 0 and frame.loc["pu/single", "archs"] == 100
    assert frame.loc["pu+pv/rank_sum", "left_out"] == 7 and frame.loc["pu+pv/rank_sum", "archs"] == 93
    keep = np.arange(100) >= 7
    u, v = table.frame["pu"].to_numpy()[keep], -table.frame["pv"].to_numpy()[keep]
    expected = spearmanr(rankdata(u) + rankdata(v), table.accuracy[keep]).statistic
    assert frame.loc["pu+pv/rank_sum", "spearman"] == pytest.approx(expected, abs=1e-12)


def test_search_covers_every_subset_and_orders_by_the_index():
    table = complementary(n=80)
    members = [Member("pu"), Member("pv", False), Member("junk"), Member("flops"), Member("params")]
    result = hybrid.search(table, [MBR, SPEARMAN], members=members, max_size=3)
    frame = result.candidates
    assert len(frame) == 5 + (10 + 10) * 3
    assert frame["mbr_flops"].is_monotonic_increasing  # lower is better for mBR
    best = result.best_per_size()
    assert list(best["size"]) == [1, 2, 3]


def test_members_of_drops_a_proxy_that_is_a_cost_column():
    table = complementary(n=50)
    table.frame["proxy:flops"] = table.frame["flops"] - 10  # counts a constant apart: the same ranking
    table.directions["proxy:flops"] = True
    names = [m.name for m in hybrid.members_of(table)]
    assert names == ["pu", "pv", "junk", "flops", "params"]
    table.frame["proxy:flops"] = -table.frame["flops"]  # another ranking under the cost's name: kept apart
    assert [m.name for m in hybrid.members_of(table)] == ["pu", "pv", "junk", "proxy:flops", "flops", "params"]


def test_definition_round_trip_and_evaluation(tmp_path):
    table = complementary(n=120)
    definition = HybridDefinition(members=("pu", "pv"), rule="rank_sum", directions={"pu": True, "pv": False})
    path = hybrid.save_definition("mine", definition, tmp_path)
    loaded = hybrid.load_definition("mine", tmp_path)
    assert loaded == definition and path.name == "mine.json"
    frame = hybrid.evaluate_definitions(table, [loaded], [SPEARMAN], bootstrap=50, oracle=True)
    assert list(frame["hybrid"]) == ["oracle", "pu+pv (rank_sum)"]
    assert frame.loc[0, "spearman"] == pytest.approx(1.0)
    u, v = table.frame["pu"].to_numpy(), -table.frame["pv"].to_numpy()
    assert frame.loc[1, "spearman"] == pytest.approx(spearmanr(rankdata(u) + rankdata(v), table.accuracy).statistic)
    assert frame.loc[1, "spearman/ci_low"] < frame.loc[1, "spearman"] < frame.loc[1, "spearman/ci_high"]
    with pytest.raises(UsageError, match="no saved hybrid"):
        hybrid.load_definition("other", tmp_path)


def test_a_definition_with_a_missing_member_is_a_gap_not_a_crash():
    table = complementary(n=40)
    frame = hybrid.evaluate_definitions(table, [HybridDefinition(("pu", "absent"), "rank_sum")], [SPEARMAN])
    assert frame.loc[0, "archs"] == 0 and "absent" in frame.loc[0, "missing"]
