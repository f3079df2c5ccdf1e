"""The indices' bootstrap intervals (BCa) on cases whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

import zsbench
from zsbench.engine.indices import bca_bounds, compute_with_interval, jackknife_groups


def _coverage(dims: int, n: int, replications: int, resamples: int) -> tuple[float, float]:
    """How often the percentile and the BCa interval of the length of a mean vector hold the
    true length (1). The estimate is biased upwards by about dims / (2 n) and the bootstrap
    adds the same bias again, so the percentile interval sits too high; BCa's bias correction
    takes it back."""
    rng = np.random.default_rng(7)
    mean = np.zeros(dims)
    mean[0] = 1.0
    groups = jackknife_groups(n)
    percentile = bca = 0
    for _ in range(replications):
        x = rng.normal(size=(n, dims)) + mean
        draws = np.linalg.norm(x[rng.integers(0, n, size=(resamples, n))].mean(axis=1), axis=-1)
        point = float(np.linalg.norm(x.mean(axis=0)))
        jackknife = np.array([np.linalg.norm(x[rows].mean(axis=0)) for rows in groups])
        low, high = np.percentile(draws, [2.5, 97.5])
        percentile += low <= 1.0 <= high
        low, high = bca_bounds(point, draws, jackknife, 0.95)
        bca += low <= 1.0 <= high
    return percentile / replications, bca / replications


def test_bca_covers_a_biased_statistic_near_its_nominal_rate_where_the_percentile_bootstrap_does_not():
    percentile, bca = _coverage(dims=10, n=100, replications=300, resamples=500)
    # 300 replications: a binomial standard error of about 0.015 at 0.93
    assert 0.90 <= bca <= 0.98, bca
    assert percentile < 0.89, percentile
    assert bca - percentile > 0.04


def test_bca_agrees_with_scipy_on_a_skewed_mean():
    from scipy import stats

    rng = np.random.default_rng(3)
    x = rng.lognormal(size=40)
    draws = x[rng.integers(0, x.size, size=(20_000, x.size))].mean(axis=1)
    jackknife = np.array([x[rows].mean() for rows in jackknife_groups(x.size)])
    low, high = bca_bounds(float(x.mean()), draws, jackknife, 0.95)
    reference = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=20_000, random_state=4).confidence_interval
    assert low == pytest.approx(reference.low, rel=0.03)
    assert high == pytest.approx(reference.high, rel=0.03)
    # skewed to the right: BCa's interval reaches further above the mean than below it
    assert high - x.mean() > x.mean() - low


def test_bca_degenerate_cases():
    assert bca_bounds(0.5, np.full(50, 0.5), np.full(10, 0.5)) == (0.5, 0.5)  # every draw equal
    low, high = bca_bounds(float("nan"), np.arange(10.0), np.arange(5.0))
    assert np.isnan(low) and np.isnan(high)
    # a constant jackknife (no acceleration) and draws symmetric about the point: the percentile interval
    draws = np.linspace(-1, 1, 401)
    low, high = bca_bounds(0.0, draws, np.zeros(10))
    assert (low, high) == pytest.approx(tuple(np.quantile(draws, [0.025, 0.975])))


def test_jackknife_groups_leave_one_out_or_one_block_out():
    small = jackknife_groups(5)
    assert [sorted(set(range(5)) - set(rows.tolist())) for rows in small] == [[0], [1], [2], [3], [4]]
    large = jackknife_groups(1_000, groups=100)
    left_out = [sorted(set(range(1_000)) - set(rows.tolist())) for rows in large]
    assert len(large) == 100 and all(len(out) == 10 for out in left_out)
    assert sorted(i for out in left_out for i in out) == list(range(1_000))  # every architecture left out once
    assert jackknife_groups(2) == []


class _Variance(zsbench.Metric):
    """A biased statistic (the variance with 1/n) of the scores, as an index."""

    name = "variance"
    higher_is_better = True

    def compute(self, data: zsbench.MetricInput) -> dict[str, float]:
        return {self.name: float(np.var(data.scores))}


def test_an_index_interval_is_bca_of_its_resamples_and_jackknife():
    rng = np.random.default_rng(0)
    scores, accuracy = rng.exponential(size=60), rng.normal(size=60)
    data = zsbench.MetricInput(scores=scores, accuracy=accuracy, higher_is_better=True, costs=None, options={})
    resamples = rng.integers(0, 60, size=(300, 60))
    result = compute_with_interval(_Variance(), data, resamples, 0.9)
    expected = bca_bounds(
        float(np.var(scores)),
        np.array([np.var(scores[rows]) for rows in resamples]),
        np.array([np.var(scores[rows]) for rows in jackknife_groups(60)]),
        0.9,
    )
    assert (result["variance/ci_low"], result["variance/ci_high"]) == pytest.approx(expected)
    low, high = np.percentile([np.var(scores[rows]) for rows in resamples], [5, 95])
    assert (result["variance/ci_low"], result["variance/ci_high"]) != pytest.approx((low, high))
