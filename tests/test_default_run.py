"""The default run: the shipped benchmark with the highest measured noise ceiling, a seeded
sample stated in every output, the ceiling stated with its interval and the bound it sets,
Gaussian inputs said in the table, and the run's settings in --json and --output."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from toy_plugins import ToyBench

import zsbench
from zsbench.builds import correlation_bound, retrain_agreement
from zsbench.engine.evaluation import read_settings
from zsbench.settings import DEFAULT_BENCHMARK_SETTING, default_sample


def test_the_default_benchmark_has_the_highest_measured_noise_ceiling_of_the_shipped_ones():
    host = zsbench.PluginHost()
    ceilings = {}
    for name in host.benchmarks.names():
        ceiling = host.benchmarks.get(name).noise_ceiling(None)
        # Judged by the interval's lower end, and only with the 30 pairs a ceiling needs: a table
        # still being built, with a handful of networks trained twice, can agree perfectly by chance
        # (4 pairs in the same order give the interval [1, 1]).
        if ceiling and ceiling.get("spearman_ci") and (ceiling.get("pairs") or 0) >= 30:
            ceilings[name] = ceiling["spearman_ci"][0]
    assert DEFAULT_BENCHMARK_SETTING in ceilings, ceilings
    assert max(ceilings, key=ceilings.get) == DEFAULT_BENCHMARK_SETTING, ceilings
    macro = host.benchmarks.get(DEFAULT_BENCHMARK_SETTING).noise_ceiling(None)
    low, high = macro["spearman_ci"]
    assert low < macro["spearman"] < high and high - low < 0.01  # 3,969 pairs: a narrow interval
    # The accuracy is the mean of three runs: the bound uses its Spearman-Brown reliability.
    assert macro["runs_averaged"] == 3
    assert macro["bound"] == pytest.approx(math.sqrt(3 * macro["spearman"] / (1 + 2 * macro["spearman"])), abs=1e-4)


def test_the_bound_is_the_square_root_of_the_reliability():
    assert correlation_bound(0.23) == pytest.approx(0.4796, abs=1e-4)  # not 0.23: a proxy may exceed the ceiling
    assert correlation_bound(0.72) == pytest.approx(math.sqrt(0.72))
    assert correlation_bound(0.5, runs_averaged=3) == pytest.approx(math.sqrt(0.75))
    assert correlation_bound(-0.1) is None
    # 30 pairs of a noisy ranking: a wide interval that holds the estimate
    import numpy as np

    rng = np.random.default_rng(0)
    quality = rng.normal(size=30)
    agreement = retrain_agreement(quality + rng.normal(size=30), quality + rng.normal(size=30))
    low, high = agreement["spearman_ci"]
    assert low < agreement["spearman"] < high and high - low > 0.3
    assert agreement["bound_ci"][0] < agreement["bound"] < agreement["bound_ci"][1]


def test_too_few_pairs_get_no_interval():
    # 4 networks that agree: every bootstrap resample agrees too, so a percentile interval
    # would read [1, 1], a certainty that 4 networks cannot give
    few = retrain_agreement([1, 2, 3, 4], [1, 2, 3, 4])
    assert few["spearman"] == 1.0 and few["spearman_ci"] is None and few["bound_ci"] is None
    assert retrain_agreement(list(range(8)), list(range(8)))["spearman_ci"] == [1.0, 1.0]  # 8: shown, as measured
    from types import SimpleNamespace

    from zsbench.reporting.html import ceiling_note

    line = ceiling_note(SimpleNamespace(noise_ceiling=few, benchmark="partial-build"))
    assert "agree with Spearman 1.000 (too few networks for an interval), Kendall 1.000" in line


class MeasuredTwice(ToyBench):
    name = "toy-measured"

    def noise_ceiling(self, data_root=None):
        return retrain_agreement([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 3, 4, 6, 5, 8, 7])


def test_the_default_run_is_a_stated_seeded_sample(cli, monkeypatch):
    cli.host.benchmarks.add("toy-measured", MeasuredTwice(), "tests", "local", "0")
    monkeypatch.setenv("ZSBENCH_BENCHMARK", "toy-measured")
    monkeypatch.setenv("ZSBENCH_DEFAULT_SAMPLE", "5")
    payload = json.loads(cli("-p", "toy_params", "--json").stdout)
    settings = payload["settings"]
    assert payload["archs"] == 5 and settings["limit"] == 5 and settings["default_sample"] is True
    assert settings["table_archs"] == 32 and settings["seed"] == 0 and settings["benchmark"] == "toy-measured"
    text = " ".join(cli("-p", "toy_params").stdout.split())
    assert "5 architectures, a seeded sample of 32 (seed 0) (the default sample; --limit N or --all to change it)" in text
    # The ceiling is stated as what it is, with its interval and the bound it sets.
    # 8 pairs, two swaps: Spearman 0.929, bound sqrt(0.929) = 0.96
    assert "two trainings of the same networks agree with Spearman 0.929 [0.615, 1.000], Kendall 0.786" in text
    assert "|Spearman| can reach about 0.964 [0.784, 1.000] (the square root of the accuracy's reliability)" in text
    # --all scores the whole default benchmark; naming it does too; --all with --limit is a usage error.
    assert json.loads(cli("-p", "toy_params", "--all", "--json").stdout)["archs"] == 32
    assert json.loads(cli("-p", "toy_params", "-b", "toy-measured", "--json").stdout)["settings"]["default_sample"] is False
    result = cli("-p", "toy_params", "--all", "--limit", "3")
    assert result.exit_code == 2 and "--all and --limit" in result.stderr


def test_gaussian_inputs_are_said_in_the_table(cli, monkeypatch):
    from toy_plugins import toy_batch

    from zsbench.engine import evaluation

    batch = toy_batch()
    gaussian = zsbench.Batch(batch.inputs, batch.targets, batch.num_classes, source="gaussian:seed=0")
    monkeypatch.setattr(evaluation, "make_batch", lambda bench, **_: gaussian)
    text = " ".join(cli("-p", "toy_params", "-b", "toy-bench").stdout.split())
    assert "inputs: Gaussian N(0,1) noise, not images (no toy images under the data root)" in text
    assert "put an ImageFolder tree in <data-root>/toy/train" in text
    monkeypatch.setattr(evaluation, "make_batch", lambda bench, **_: batch)
    assert "Gaussian" not in cli("-p", "toy_params", "-b", "toy-bench").stdout


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_output_files_carry_the_run_settings(cli, tmp_path, suffix):
    target = tmp_path / f"scores{suffix}"
    result = cli("-p", "toy_params", "-b", "toy-bench", "--limit", "7", "--output", str(target))
    assert result.exit_code == 0, result.output
    settings = read_settings(target)
    assert settings["benchmark"] == "toy-bench" and settings["limit"] == 7 and settings["archs"] == 7
    assert settings["input"] == "toy" or settings["input"]  # the batch's source
    assert settings["proxy_versions"] == {"toy_params": "1"} or "toy_params" in settings["proxy_versions"]
    assert settings["versions"]["zsbench"] == zsbench.__version__
    assert len(pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)) == 7


def test_default_sample_setting_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("ZSBENCH_DEFAULT_SAMPLE", "many")
    with pytest.raises(zsbench.UsageError, match="ZSBENCH_DEFAULT_SAMPLE must be a positive integer"):
        default_sample()
