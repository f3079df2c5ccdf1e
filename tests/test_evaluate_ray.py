"""The Ray executor gives the same scores as the in-process one.

CI starts a local Ray instance and sets ``RAY_ADDRESS``; without it the executor starts
(and stops) a local instance itself.
"""

from __future__ import annotations

import pandas as pd
import pytest
from toy_plugins import evaluate_with, toy_batch, toy_host

ray = pytest.importorskip("ray", reason="needs the ray extra: pip install 'zsbench[ray]'")

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_ray_scores_equal_local_scores(tmp_path):
    options = {
        "proxies": "toy_params,toy_output,toy_flaky",
        "limit": 8,
        "seed": 2,
        "bootstrap": 0,
        "metrics": "kendall,mbr_flops",
        "batch": toy_batch(),
    }
    local = evaluate_with(benchmark="toy-bench", host=toy_host(), cache=tmp_path / "local.sqlite", **options)
    remote = evaluate_with(
        benchmark="toy-bench", host=toy_host(), cache=tmp_path / "ray.sqlite", executor="ray", **options
    )
    assert remote.computed == local.computed == 3 * 8
    pd.testing.assert_frame_equal(local.scores, remote.scores)
    pd.testing.assert_frame_equal(local.failures, remote.failures)
    timeless = ["seconds_per_arch"]
    pd.testing.assert_frame_equal(local.summary.drop(columns=timeless), remote.summary.drop(columns=timeless))
