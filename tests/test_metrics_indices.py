"""Index values against independent computations on hand-made tables.

Every expected value here is computed another way than the plugin does it: brute force
over pairs or over all tie-breaks, or worked out by hand in the comment next to it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from zsbench_metrics import br_at_k, kendall, mbr_depth, mbr_flops, mbr_params, p_at_k, pearson, spearman

import zsbench
import zsbench.engine.indices


def _host() -> zsbench.PluginHost:
    host = zsbench.PluginHost(entry_points=False)
    for module in (pearson, kendall, spearman, br_at_k, p_at_k, mbr_flops, mbr_params, mbr_depth):
        host.register_plugin(module, name=module.__name__.rsplit(".", 1)[1])
    return host


HOST = _host()


def compute(metric: str, scores, accuracy, higher_is_better=True, costs=None, **options) -> dict[str, float]:
    data = zsbench.MetricInput(
        scores=np.asarray(scores, dtype=float),
        accuracy=np.asarray(accuracy, dtype=float),
        higher_is_better=higher_is_better,
        costs=costs,
        options=options,
    )
    return HOST.metrics.get(metric).compute(data)


# -- independent reference implementations ---------------------------------------------------


def pearson_by_formula(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    dx, dy = x - x.mean(), y - y.mean()
    return float((dx * dy).sum() / math.sqrt((dx**2).sum() * (dy**2).sum()))


def average_ranks(values) -> np.ndarray:
    values = list(values)
    ranks = []
    for v in values:
        below = sum(1 for w in values if w < v)
        equal = sum(1 for w in values if w == v)
        ranks.append(below + (equal + 1) / 2)
    return np.array(ranks)


def kendall_tau_b_by_pairs(x, y) -> float:
    concordant = discordant = ties_x = ties_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if sx == 0 and sy == 0:
            continue
        if sx == 0:
            ties_x += 1
        elif sy == 0:
            ties_y += 1
        elif sx == sy:
            concordant += 1
        else:
            discordant += 1
    return (concordant - discordant) / math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))


def topk_by_enumeration(scores, accuracy, k, stat) -> float:
    """Average of ``stat(picked_indices)`` over every order of the tied scores."""
    finite = [i for i in range(len(scores)) if np.isfinite(scores[i])]
    values = []
    for perm in itertools.permutations(finite):
        # a stable sort of a permutation = one uniformly random tie-break
        order = sorted(perm, key=lambda i: -scores[i])
        values.append(stat(order[:k]))
    return float(np.mean(values))


ACC = np.array([70.0, 72.5, 71.0, 90.0, 65.0, 80.0, 85.0, 60.0])


# -- correlations -----------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["pearson", "kendall", "spearman"])
def test_perfect_and_reversed_proxies(metric):
    assert compute(metric, ACC * 3 + 1, ACC)[metric] == pytest.approx(1.0)
    # a lower-is-better proxy whose raw values fall as accuracy rises is also perfect
    assert compute(metric, -ACC, ACC, higher_is_better=False)[metric] == pytest.approx(1.0)
    # the direction is applied as a sign, never as abs(): the reversed oracle scores -1
    assert compute(metric, -ACC, ACC)[metric] == pytest.approx(-1.0)
    assert compute(metric, ACC, ACC, higher_is_better=False)[metric] == pytest.approx(-1.0)


def test_correlations_equal_independent_formulas_on_raw_scores():
    rng = np.random.default_rng(3)
    accuracy = rng.normal(80, 5, 40)
    scores = np.exp(accuracy / 10) + rng.normal(0, 20, 40)  # raw, skewed: no log taken
    scores[[3, 17]] = scores[5]  # ties in the scores
    assert compute("pearson", scores, accuracy)["pearson"] == pytest.approx(pearson_by_formula(scores, accuracy))
    spearman_ref = pearson_by_formula(average_ranks(scores), average_ranks(accuracy))
    assert compute("spearman", scores, accuracy)["spearman"] == pytest.approx(spearman_ref)
    assert compute("kendall", scores, accuracy)["kendall"] == pytest.approx(kendall_tau_b_by_pairs(scores, accuracy))


@pytest.mark.parametrize("metric", ["pearson", "kendall", "spearman"])
def test_failed_scores_are_dropped_and_counted(metric):
    scores = np.array([1.0, 5.0, np.nan, 3.0, 2.0, np.nan, 9.0, 4.0])
    result = compute(metric, scores, ACC)
    keep = np.isfinite(scores)
    clean = compute(metric, scores[keep], ACC[keep])
    assert result[metric] == pytest.approx(clean[metric])
    assert result[f"{metric}/n"] == 6


def test_correlation_of_constant_or_too_few_scores_is_nan():
    assert math.isnan(compute("kendall", np.ones(8), ACC)["kendall"])
    assert math.isnan(compute("pearson", [1.0, 2.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan], ACC)["pearson"])


# -- BR@K and P@K -----------------------------------------------------------------------------


def test_top_k_defaults_report_both_fractions_with_k_at_least_one():
    n = 300
    accuracy = np.arange(n, dtype=float)
    result = compute("br_at_k", accuracy, accuracy)
    # 0.1 % of 300 = 0.3 -> at least 1; 5 % of 300 = 15
    assert result["br_at_k/K@0.1%"] == 1
    assert result["br_at_k/K@5%"] == 15
    assert result["br_at_k"] == 0.0
    assert "br_at_k/0.1%" not in result  # the first fraction is the index itself
    assert compute("p_at_k", accuracy, accuracy)["p_at_k/5%"] == 1.0


def test_br_and_p_at_k_of_oracle_and_reversed_oracle():
    n = 200
    accuracy = np.random.default_rng(0).permutation(n).astype(float)
    options = {"k": [0.05]}
    assert compute("br_at_k", accuracy, accuracy, **options)["br_at_k"] == 0.0
    assert compute("p_at_k", accuracy, accuracy, **options)["p_at_k"] == 1.0
    # reversed: its top 10 are the 10 worst; the best of them has 190 better ones
    assert compute("br_at_k", -accuracy, accuracy, **options)["br_at_k"] == pytest.approx(190 / 200)
    assert compute("p_at_k", -accuracy, accuracy, **options)["p_at_k"] == 0.0


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_ties_equal_the_average_over_every_tie_break(k):
    accuracy = np.array([50.0, 60.0, 70.0, 80.0, 90.0, 65.0, 75.0])
    scores = np.array([3.0, 3.0, 1.0, 3.0, 2.0, 3.0, np.nan])  # four-way tie at the top, one failure
    n = len(accuracy)
    fraction = k / n
    ranks = np.array([(accuracy > a).sum() for a in accuracy])

    expected_br = topk_by_enumeration(scores, accuracy, k, lambda picked: min(ranks[picked]) / n)
    expected_p = topk_by_enumeration(scores, accuracy, k, lambda picked: sum(ranks[picked] < k) / k)
    assert compute("br_at_k", scores, accuracy, k=fraction)["br_at_k"] == pytest.approx(expected_br)
    assert compute("p_at_k", scores, accuracy, k=fraction)["p_at_k"] == pytest.approx(expected_p)


def test_p_at_k_counts_unfillable_places_as_misses():
    accuracy = np.array([1.0, 2.0, 3.0, 4.0])
    scores = np.array([np.nan, np.nan, np.nan, 7.0])  # K = 2: only the best arch was scored
    assert compute("p_at_k", scores, accuracy, k=0.5)["p_at_k"] == 0.5
    assert compute("br_at_k", scores, accuracy, k=0.5)["br_at_k"] == 0.0
    assert math.isnan(compute("br_at_k", np.full(4, np.nan), accuracy, k=0.5)["br_at_k"])


# -- mBR --------------------------------------------------------------------------------------


def _costs(flops, params=None, depth=None) -> pd.DataFrame:
    flops = np.asarray(flops, dtype=float)
    return pd.DataFrame(
        {
            "flops": flops,
            "params": flops if params is None else params,
            "depth": flops if depth is None else depth,
        }
    )


def test_mbr_of_oracle_is_zero_and_of_reversed_oracle_is_one():
    rng = np.random.default_rng(1)
    n = 60
    accuracy = rng.permutation(n).astype(float)
    costs = _costs(rng.integers(1, 1000, n), rng.integers(1, 50, n), rng.integers(3, 20, n))
    for metric in ("mbr_flops", "mbr_params", "mbr_depth"):
        assert compute(metric, accuracy, accuracy, costs=costs)[metric] == 0.0
        assert compute(metric, -accuracy, accuracy, costs=costs)[metric] == pytest.approx(1.0)
        # direction applied: a lower-is-better proxy with the inverted oracle is the oracle
        assert compute(metric, -accuracy, accuracy, costs=costs, higher_is_better=False)[metric] == 0.0


def test_mbr_worked_example_with_tie_and_failure():
    # cost:   10  20  30  40  50   -> lo 10, hi 50, M = 2 thresholds: 30 and 50
    # acc:    60  80  70  90  50
    # score:   5   1   5  nan  2   (tie between arch 0 and arch 2, arch 3 failed)
    accuracy = np.array([60.0, 80.0, 70.0, 90.0, 50.0])
    scores = np.array([5.0, 1.0, 5.0, np.nan, 2.0])
    costs = _costs([10, 20, 30, 40, 50])
    result = compute("mbr_flops", scores, accuracy, costs=costs, budgets=2)
    # budget 30: S = {0, 1, 2}; picks tie 0 (2 better: 80, 70) and 2 (1 better: 80) -> r = 1.5
    #   BR = 1.5 / 2 = 0.75, picked accuracy = mean(60, 70) = 65
    # budget 50: S = all 5; tie 0 (3 better) and 2 (2 better) -> r = 2.5, BR = 2.5 / 4
    assert result["mbr_flops/br@50%"] == pytest.approx(0.75)
    assert result["mbr_flops/acc@50%"] == pytest.approx(65.0)
    assert result["mbr_flops/br@100%"] == pytest.approx(0.625)
    assert result["mbr_flops/acc@100%"] == pytest.approx(65.0)
    assert result["mbr_flops"] == pytest.approx((0.75 + 0.625) / 2)


def test_mbr_default_five_budgets_and_picked_accuracies():
    accuracy = np.array([50.0, 55.0, 60.0, 65.0, 70.0, 75.0])
    costs = _costs([0, 20, 40, 60, 80, 100])
    result = compute("mbr_flops", accuracy, accuracy, costs=costs)
    assert [result[f"mbr_flops/acc@{p}%"] for p in (20, 40, 60, 80, 100)] == [55.0, 60.0, 65.0, 70.0, 75.0]


def test_mbr_budget_where_every_score_failed_counts_as_worst():
    accuracy = np.array([50.0, 60.0, 70.0, 80.0])
    scores = np.array([np.nan, 1.0, 2.0, 3.0])  # the only arch within the first budget failed
    costs = _costs([1, 10, 10, 10])
    result = compute("mbr_flops", scores, accuracy, costs=costs, budgets=2)
    # threshold 5.5 holds only arch 0 -> nothing picked -> BR 1; threshold 10: oracle pick -> 0
    assert result["mbr_flops/br@50%"] == 1.0
    assert math.isnan(result["mbr_flops/acc@50%"])
    assert result["mbr_flops"] == 0.5


def test_mbr_without_costs_says_what_is_missing():
    with pytest.raises(ValueError, match="flops"):
        compute("mbr_flops", ACC, ACC)


def test_metric_plugins_are_installed_through_entry_points():
    wanted = ["pearson", "kendall", "spearman", "br_at_k", "p_at_k", "mbr_flops", "mbr_params", "mbr_depth"]
    host = zsbench.PluginHost(load=wanted)
    assert host.metrics.names() == sorted(wanted)
    assert not host.failed()
    for name in ("br_at_k", "mbr_flops"):
        assert host.metrics.get(name).higher_is_better is False


# -- edge cases, as decided in zsbench.ranking and the index docstrings -------------------------


def test_accuracy_ties_share_the_better_true_rank():
    """True rank = how many architectures are strictly more accurate: tied ones share it."""
    from zsbench.ranking import true_ranks

    assert list(true_ranks(np.array([90.0, 95.0, 95.0, 80.0]))) == [2.0, 0.0, 0.0, 3.0]
    # K = 1 (25 % of 4): the proxy's pick is the second of two equally best networks, which is
    # in the true top-1 (no network is strictly better) and has the best rank, 0
    accuracy, scores = [95.0, 95.0, 90.0, 80.0], [0.0, 9.0, 1.0, 2.0]
    assert compute("p_at_k", scores, accuracy, k=0.25)["p_at_k"] == 1.0
    assert compute("br_at_k", scores, accuracy, k=0.25)["br_at_k"] == 0.0


@pytest.mark.parametrize("metric", ["pearson", "kendall", "spearman", "br_at_k", "p_at_k", "mbr_flops", "mbr_params", "mbr_depth"])
def test_a_proxy_whose_every_score_failed_gets_nan_from_every_index(metric):
    costs = pd.DataFrame({"flops": [1.0, 2.0, 3.0, 4.0], "params": [4, 3, 2, 1], "depth": [1, 1, 2, 2]})
    result = compute(metric, [np.nan] * 4, [1.0, 2.0, 3.0, 4.0], costs=costs)
    assert math.isnan(result[metric])


def test_mbr_leaves_architectures_of_unknown_cost_out_of_every_budget():
    # the proxy prefers network 2, whose FLOPs are unknown: it is in no budget, so the pick of
    # the one budget (M = 1, all known costs) is network 3, the most accurate of networks 0, 1, 3
    costs = pd.DataFrame({"flops": [1.0, 2.0, np.nan, 4.0]})
    result = compute("mbr_flops", [1.0, 2.0, 10.0, 4.0], [1.0, 2.0, 10.0, 4.0], costs=costs, budgets=1)
    assert result["mbr_flops"] == 0.0 and result["mbr_flops/acc@100%"] == 4.0
    # with every cost unknown there is no budget at all
    unknown = pd.DataFrame({"flops": [np.nan] * 4})
    assert math.isnan(compute("mbr_flops", [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], costs=unknown)["mbr_flops"])


@pytest.mark.parametrize(
    ("fraction", "n", "k"),
    [(0.001, 1000, 1), (0.001, 1500, 2), (0.001, 100, 1), (0.05, 30, 2), (0.05, 50, 3), (0.05, 70, 4), (1.0, 7, 7)],
)
def test_k_is_the_fraction_of_n_rounded_half_up_and_at_least_one(fraction, n, k):
    # 0.05 * 50 = 2.5 rounds up to 3 (Python's round() would give 2); 0.05 * 70 = 3.5 -> 4
    from zsbench.ranking import top_count

    assert top_count(fraction, n) == k
    accuracy = np.arange(n, dtype=float)
    assert compute("br_at_k", accuracy, accuracy, k=fraction)[f"br_at_k/K@{fraction * 100:g}%"] == k


def test_indices_declare_the_role_and_label_of_every_entry_they_return():
    """What the engine and the displays read instead of parsing key names."""
    costs = pd.DataFrame({"flops": [1.0, 2.0, 3.0, 4.0], "params": [1, 2, 3, 4], "depth": [1, 2, 3, 4]})
    declared = {}
    for name in ("kendall", "br_at_k", "mbr_flops"):
        metric = HOST.metrics.get(name)
        result = compute(name, [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], costs=costs, budgets=2)
        declared.update({key: (metric.entry_role(key), metric.entry_label(key)) for key in result})
    assert declared == {
        "kendall": ("index", ""),
        "kendall/n": ("detail", ""),  # the whole rest is its declared prefix
        "br_at_k": ("index", ""),
        "br_at_k/K@0.1%": ("setting", "0.1%"),
        "br_at_k/5%": ("estimate", "5%"),
        "br_at_k/K@5%": ("setting", "5%"),
        "mbr_flops": ("index", ""),
        "mbr_flops/br@50%": ("detail", "50%"),
        "mbr_flops/acc@50%": ("pick", "50%"),
        "mbr_flops/br@100%": ("detail", "100%"),
        "mbr_flops/acc@100%": ("pick", "100%"),
    }
    assert [e.obj.name for e in zsbench.engine.indices.order_metrics(list(HOST.metrics))] == [
        "pearson", "kendall", "spearman", "br_at_k", "p_at_k", "mbr_flops", "mbr_params", "mbr_depth"
    ]
