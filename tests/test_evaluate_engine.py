"""The evaluation engine on the toy plugins: values, cache keys and resumption, failures,
subsets, output files and the process executor."""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from toy_plugins import ToySpace, evaluate_with, toy_accuracy, toy_batch, toy_host

import zsbench
from zsbench.engine.cache import ScoreCache

PROXIES = "toy_params,toy_lower,toy_output,toy_flaky"


@pytest.fixture()
def host() -> zsbench.PluginHost:
    return toy_host()


@pytest.fixture()
def call_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "calls.log"
    monkeypatch.setenv("TOY_CALL_LOG", str(log))
    return log


def calls(log: Path) -> Counter:
    if not log.exists():
        return Counter()
    return Counter(line.split()[0] for line in log.read_text().splitlines())


def run(host, cache, **kwargs) -> zsbench.engine.evaluation.EvaluationResult:
    kwargs.setdefault("batch", toy_batch())
    kwargs.setdefault("bootstrap", 0)
    kwargs.setdefault("metrics", "kendall,spearman,pearson,br_at_k,mbr_flops,mbr_params")
    return evaluate_with(kwargs.pop("proxies", PROXIES), "toy-bench", host=host, cache=cache, **kwargs)


def test_scores_frame_has_benchmark_keys_costs_and_nan_for_failures(host, tmp_path):
    result = run(host, tmp_path / "c.sqlite")
    scores = result.scores
    assert list(scores.columns) == ["arch", "accuracy", "flops", "params", "depth", *PROXIES.split(",")]
    assert len(scores) == result.archs == 32
    # the benchmark's own key, unchanged (the toy benchmark puts a space in front)
    assert scores["arch"].iloc[0] == " w2-d1"
    space = ToySpace()
    row = scores.set_index("arch").loc[" w5-d3"]
    assert row["accuracy"] == toy_accuracy("w5-d3")
    cost = space.cost("w5-d3", 10, 8)
    assert (row["flops"], row["params"], row["depth"]) == (cost.flops, cost.params, cost.depth)
    assert row["toy_params"] == cost.params
    assert row["depth"] == 4  # three convs and the linear head
    # toy_flaky fails on depth 4: NaN in the frame, one failure row each, counted in the summary
    depth4 = scores["arch"].str.endswith("d4")
    assert scores.loc[depth4, "toy_flaky"].isna().all() and scores.loc[~depth4, "toy_flaky"].notna().all()
    assert sorted(result.failures["arch"]) == sorted(scores.loc[depth4, "arch"])
    assert set(result.failures["error"]) == {"RuntimeError: toy_flaky does not like depth 4"}
    summary = result.summary.set_index("proxy")
    assert summary.loc["toy_flaky", "failures"] == 8 and summary.loc["toy_params", "failures"] == 0


def test_indices_equal_an_independent_computation_from_the_written_scores(host, tmp_path):
    result = run(host, tmp_path / "c.sqlite", metrics="all")
    written = result.write_scores(tmp_path / "scores.csv")
    table = pd.read_csv(written)
    summary = result.summary.set_index("proxy")
    for proxy, sign in (("toy_params", 1), ("toy_lower", -1), ("toy_output", 1), ("toy_flaky", 1)):
        ok = table[proxy].notna()
        x, y = sign * table.loc[ok, proxy], table.loc[ok, "accuracy"]
        assert summary.loc[proxy, "kendall"] == pytest.approx(stats.kendalltau(x, y).statistic)
        assert summary.loc[proxy, "spearman"] == pytest.approx(stats.spearmanr(x, y).statistic)
        assert summary.loc[proxy, "pearson"] == pytest.approx(stats.pearsonr(x, y).statistic)
        assert summary.loc[proxy, "kendall/n"] == ok.sum()
    # toy_lower is minus toy_params with lower-is-better: every index must agree exactly
    index_columns = [c for c in summary.columns if c not in ("failures", "seconds_per_arch")]
    pd.testing.assert_series_equal(
        summary.loc["toy_lower", index_columns], summary.loc["toy_params", index_columns], check_names=False
    )
    # mBR with params budgets, by hand from the table: pick the highest toy_params within budget
    params, accuracy = table["params"].to_numpy(), table["accuracy"].to_numpy()
    lo, hi = params.min(), params.max()
    ranks = []
    for m in range(1, 6):
        inside = params <= lo + (hi - lo) * m / 5
        pick_score = table.loc[inside, "toy_params"].max()
        picks = inside & (table["toy_params"].to_numpy() == pick_score)
        r = np.mean([(accuracy[inside] > accuracy[i]).sum() for i in np.flatnonzero(picks)])
        ranks.append(r / max(inside.sum() - 1, 1))
    assert summary.loc["toy_params", "mbr_params"] == pytest.approx(np.mean(ranks))


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate(host, tmp_path):
    options = {"bootstrap": 100, "metrics": "kendall,br_at_k", "proxies": "toy_params,toy_output"}
    first = run(host, tmp_path / "c.sqlite", seed=3, **options).summary.set_index("proxy")
    again = run(host, tmp_path / "c.sqlite", seed=3, **options).summary.set_index("proxy")
    other = run(host, tmp_path / "c.sqlite", seed=4, **options).summary.set_index("proxy")
    pd.testing.assert_frame_equal(first, again)
    assert not first["kendall/ci_low"].equals(other["kendall/ci_low"])
    row = first.loc["toy_output"]
    assert row["kendall/ci_low"] < row["kendall"] < row["kendall/ci_high"]
    assert "br_at_k/5%/ci_low" in first.columns and "kendall/n/ci_low" not in first.columns


def test_second_run_computes_nothing_and_returns_the_same_values(host, tmp_path, call_log):
    cache = tmp_path / "c.sqlite"
    first = run(host, cache)
    assert first.computed == 4 * 32 and first.cached == 0
    assert calls(call_log) == Counter({p: 32 for p in PROXIES.split(",")})
    call_log.unlink()
    second = run(host, cache)
    assert second.computed == 0 and second.cached == 4 * 32
    assert calls(call_log) == Counter()
    pd.testing.assert_frame_equal(first.scores, second.scores)
    with ScoreCache(cache) as store:
        assert store.count_scores() == 4 * 32


def test_cache_key_follows_the_run_contract(host, tmp_path, call_log):
    cache = tmp_path / "c.sqlite"
    run(host, cache, proxies="toy_params,toy_output")
    call_log.unlink()
    # a bigger batch changes what toy_output sees, not what toy_params (input_kind "none") computes
    bigger = toy_batch()
    bigger = zsbench.Batch(bigger.inputs.repeat(2, 1, 1, 1), bigger.targets.repeat(2), 10, bigger.source)
    result = run(host, cache, proxies="toy_params,toy_output", batch=bigger)
    assert calls(call_log) == Counter({"toy_output": 32})
    assert result.computed == 32
    call_log.unlink()
    # another scoring seed changes the initialisation, hence the key, of every proxy
    run(host, cache, proxies="toy_params,toy_output", score_seed=1)
    assert calls(call_log) == Counter({"toy_params": 32, "toy_output": 32})


def test_failures_are_cached_and_retried_only_on_request(host, tmp_path, call_log):
    cache = tmp_path / "c.sqlite"
    run(host, cache, proxies="toy_flaky")
    call_log.unlink()
    again = run(host, cache, proxies="toy_flaky")
    assert calls(call_log) == Counter()
    assert len(again.failures) == 8
    retried = run(host, cache, proxies="toy_flaky", retry_failed=True)
    assert calls(call_log) == Counter({"toy_flaky": 8})  # only the failed ones
    assert retried.computed == 8 and len(retried.failures) == 8


def test_limit_takes_a_seeded_subset(host, tmp_path):
    cache = tmp_path / "c.sqlite"
    a = run(host, cache, proxies="toy_params", limit=10, seed=1)
    b = run(host, cache, proxies="toy_params", limit=10, seed=1)
    c = run(host, cache, proxies="toy_params", limit=10, seed=2)
    assert a.archs == 10 and list(a.scores["arch"]) == list(b.scores["arch"])
    assert list(a.scores["arch"]) != list(c.scores["arch"])
    assert set(a.scores["arch"]) <= set(run(host, cache, proxies="toy_params").scores["arch"])


def test_json_has_exactly_the_documented_shape(host, tmp_path):
    payload = run(host, tmp_path / "c.sqlite", proxies="toy_params,toy_flaky", metrics="kendall,mbr_flops").to_json()
    assert set(payload) == {"benchmark", "archs", "scores", "noise_ceiling", "settings", "rows"}
    assert payload["benchmark"] == "toy-bench" and payload["archs"] == 32
    assert payload["noise_ceiling"] is None  # the toy benchmark does not know its own
    row = {r["proxy"]: r for r in payload["rows"]}["toy_flaky"]
    assert row["failures"] == 8 and isinstance(row["kendall"], float)
    assert {"proxy", "kendall", "kendall/n", "mbr_flops", "mbr_flops/acc@20%", "failures"} <= set(row)


def test_settings_record_the_run(host, tmp_path):
    result = run(host, tmp_path / "c.sqlite", proxies="toy_params", metrics="br_at_k,mbr_flops", limit=10, seed=3)
    settings = result.settings
    assert (settings["benchmark"], settings["archs"], settings["limit"], settings["seed"]) == ("toy-bench", 10, 10, 3)
    assert settings["input"] == toy_batch().source and settings["batch_size"] == toy_batch().size
    assert settings["metric_options"]["mbr_flops"] == {"budgets": 5}
    assert settings["metric_options"]["br_at_k"]["k"] == [0.001, 0.05]
    assert settings["proxy_versions"] == {"toy_params": str(host.proxies.get("toy_params").version)}
    assert settings["versions"]["zsbench"] == zsbench.__version__
    assert result.to_json()["settings"] == settings


def test_metric_that_raises_gives_nan_and_a_warning(host, tmp_path):
    class Broken(zsbench.Metric):
        name = "broken"

        def compute(self, data):
            raise ValueError("no good")

    class Plugin:
        @zsbench.hookimpl
        def register_metrics(self, register):
            register(Broken())

    host.register_plugin(Plugin(), name="broken")
    with pytest.warns(UserWarning, match="index broken failed: ValueError: no good"):
        result = run(host, tmp_path / "c.sqlite", proxies="toy_params", metrics="broken,kendall")
    assert math.isnan(result.summary.loc[0, "broken"]) and result.summary.loc[0, "kendall"] > 0.5


def test_process_workers_give_the_local_scores_and_survive_a_crashing_worker(host, tmp_path, monkeypatch):
    options = {"proxies": "toy_params,toy_output,toy_crash", "bootstrap": 0, "limit": 6, "seed": 5}
    local = run(host, tmp_path / "local.sqlite", **options)
    victim = local.scores["arch"].iloc[2]
    monkeypatch.setenv("TOY_CRASH_ARCH", victim.strip())
    pooled = run(host, tmp_path / "pool.sqlite", workers=2, max_attempts=2, **options)
    crashed = pooled.scores["arch"] == victim
    pd.testing.assert_frame_equal(local.scores[~crashed], pooled.scores[~crashed])
    # the crashing architecture lost only the proxy that killed its worker: retried, then recorded
    # as its failure; the proxies its worker had finished before keep their scores
    assert pooled.scores.loc[crashed, "toy_crash"].isna().all()
    pd.testing.assert_frame_equal(local.scores.loc[crashed, ["toy_params", "toy_output"]],
                                  pooled.scores.loc[crashed, ["toy_params", "toy_output"]])
    assert list(pooled.failures[["arch", "proxy"]].itertuples(index=False, name=None)) == [(victim, "toy_crash")]
    assert pooled.failures["error"].str.startswith("worker crashed 2 times (exit code 17)").all()
    assert pooled.scores.loc[crashed, "flops"].isna().all()  # costs of a crashed task are not invented


def test_a_killed_scoring_worker_is_replaced_and_its_architecture_scored(host, tmp_path, monkeypatch):
    options = {"proxies": "toy_params,toy_output,toy_crash", "bootstrap": 0, "limit": 6, "seed": 5}
    local = run(host, tmp_path / "local.sqlite", **options)
    victim = local.scores["arch"].iloc[2]
    marker = tmp_path / "killed-once"
    monkeypatch.setenv("TOY_CRASH_ARCH", victim.strip())
    monkeypatch.setenv("TOY_CRASH_ONCE", str(marker))
    pooled = run(host, tmp_path / "pool.sqlite", workers=2, max_attempts=2, **options)
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker was killed, not this process
    # the killed worker's architecture was retried on a fresh worker: nothing is missing
    pd.testing.assert_frame_equal(local.scores, pooled.scores)
    assert pooled.failures.empty and pooled.computed == 3 * 6


def test_unknown_components_and_bad_options_are_one_line_errors(host, tmp_path):
    with pytest.raises(zsbench.UnknownComponentError, match="Unknown proxy 'nope'"):
        run(host, tmp_path / "c.sqlite", proxies="nope")
    with pytest.raises(zsbench.UnknownComponentError, match="Unknown metric 'kendal'"):
        run(host, tmp_path / "c.sqlite", metrics="kendal")
    with pytest.raises(zsbench.UnknownComponentError, match="default benchmark 'nasbench-macro-cifar10' is not installed"):
        evaluate_with("toy_params", host=host, batch=toy_batch(), cache=tmp_path / "c.sqlite")
    with pytest.raises(zsbench.UsageError, match="--limit"):
        run(host, tmp_path / "c.sqlite", limit=0)


def test_table_file_benchmark(host, tmp_path):
    archs = ["w2-d1", "w9-d4", "w5-d2", "w7-d3"]
    table = pd.DataFrame({"arch": archs, "accuracy": [60.0, 90.0, 70.0, 80.0], "flops": [1.0, 4.0, 2.0, 3.0]})
    path = tmp_path / "mine.parquet"
    table.to_parquet(path)
    result = evaluate_with(
        "toy_params", path, space="toy", host=host, batch=toy_batch(), cache=tmp_path / "c.sqlite", bootstrap=0
    )
    assert result.benchmark == str(path) and list(result.scores["arch"]) == archs
    assert list(result.scores["flops"]) == [1.0, 4.0, 2.0, 3.0]  # the table's costs win
    assert result.scores["params"].notna().all()  # the missing ones come from the space
    assert result.summary.loc[0, "kendall"] == pytest.approx(1.0)
    with pytest.raises(zsbench.UsageError, match="--space"):
        evaluate_with("toy_params", path, host=host, batch=toy_batch(), cache=tmp_path / "c.sqlite")


def test_toy_costs_match_the_counters():
    from zsbench.costs import count_depth, count_flops, count_params

    space = ToySpace()
    for arch in ("w2-d1", "w5-d3", "w9-d4"):
        model = space.build(arch, 10)
        cost = space.cost(arch, 10, 8)
        assert cost == zsbench.Cost(count_flops(model, (3, 8, 8)), count_params(model), count_depth(model, (3, 8, 8)))


def test_default_cache_location_follows_xdg(monkeypatch, tmp_path):
    from zsbench.engine.cache import default_cache_path

    monkeypatch.delenv("ZSBENCH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "zsbench" / "scores.sqlite"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_path() == Path(os.path.expanduser("~")) / ".cache" / "zsbench" / "scores.sqlite"


def test_proxies_named_like_cost_columns_do_not_overwrite_the_costs(host, tmp_path):
    class Flops(zsbench.Proxy):
        name = "flops"
        input_kind = "none"

        def score(self, model, batch):
            return 1000.0 + len(model)  # deliberately not the cost

    class Plugin:
        @zsbench.hookimpl
        def register_proxies(self, register):
            register(Flops())

    host.register_plugin(Plugin(), name="naive")
    result = run(host, tmp_path / "c.sqlite", proxies="flops,toy_params", metrics="kendall,mbr_flops")
    scores = result.scores
    assert list(scores.columns) == ["arch", "accuracy", "flops", "params", "depth", "proxy:flops", "toy_params"]
    assert (scores["proxy:flops"] >= 1000).all() and (scores["flops"] > 1000).all()
    assert not scores["flops"].equals(scores["proxy:flops"])
    summary = result.summary.set_index("proxy")
    expected = stats.kendalltau(scores["proxy:flops"], scores["accuracy"]).statistic
    assert summary.loc["flops", "kendall"] == pytest.approx(expected)
