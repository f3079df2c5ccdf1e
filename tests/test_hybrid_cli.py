"""``zsbench hybrid`` and ``zsbench analyze`` on the command line, with the toy plugins."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import zsbench


@pytest.fixture()
def cli(toy_cli):
    return toy_cli


def test_hybrid_from_the_engine_and_from_a_score_file_agree(cli, tmp_path):
    common = [
        "--proxies",
        "toy_params,toy_lower",
        "--max-size",
        "2",
        "--index",
        "spearman",
        "--metrics",
        "spearman,mbr_flops",
        "--bootstrap",
        "0",
        "--json",
    ]
    first = cli("hybrid", "--benchmark", "toy-bench", "--quiet", *common, "--output", str(tmp_path / "candidates.csv"))
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload["benchmark"] == "toy-bench" and payload["archs"] == 32 and payload["index"] == "spearman"
    assert payload["oracle"]["spearman"] == pytest.approx(1.0)
    values = [r["spearman"] for r in payload["results"]]
    assert values == sorted(values, reverse=True)
    candidates = pd.read_csv(tmp_path / "candidates.csv")
    # toy_params computes the params column and toy_lower its negative with lower-is-better: both rank
    # the networks exactly as params does, so both join as the member params; the members are flops
    # and params: 2 singles + 1 pair under 3 rules
    assert len(candidates) == 2 + 1 * 3
    assert set(candidates["members"]) == {"flops", "params", "flops+params"}
    scores = tmp_path / "scores.csv"
    written = cli(
        "evaluate", "--benchmark", "toy-bench", "--proxies", "toy_params,toy_lower", "--quiet", "--bootstrap", "0", "--output", str(scores)
    )
    assert written.exit_code == 0, written.output
    second = cli("hybrid", "--scores", str(scores), "--space", "toy", *common)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert [r["members"] for r in again["results"]] == [r["members"] for r in payload["results"]]
    np.testing.assert_allclose([r["spearman"] for r in again["results"]], values)


def test_a_score_file_column_of_no_installed_proxy_needs_its_direction(cli, tmp_path):
    frame = pd.DataFrame(
        {
            "arch": ["w2-d1", "w3-d1", "w4-d2", "w5-d3"],
            "accuracy": [1.0, 2.0, 3.0, 4.0],
            "flops": [1.0, 2.0, 3.0, 4.0],
            "params": [4.0, 3.0, 2.0, 1.0],
            "depth": [1, 1, 2, 3],
            "mine": [4.0, 3.0, 2.0, 1.0],
        }
    )
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    refused = cli("hybrid", "--scores", str(path), "--bootstrap", "0", "--index", "spearman")
    assert refused.exit_code == 2 and "--direction mine=higher" in refused.stderr
    accepted = cli(
        "hybrid",
        "--scores",
        str(path),
        "--direction",
        "mine=lower",
        "--costs",
        "",
        "--bootstrap",
        "0",
        "--index",
        "spearman",
        "--metrics",
        "spearman",
        "--json",
    )
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["results"][0]["spearman"] == pytest.approx(1.0)


def test_analyze_importance_and_transfer_beside_published_figures(cli):
    result = cli("analyze", "importance", "--benchmark", "toy-bench", "--proxies", "toy_params", "--quiet", "--folds", "3", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload["importance"]) == {"accuracy", "toy_params"}
    assert sum(payload["importance"]["accuracy"].values()) == pytest.approx(1.0)
    transfer = cli(
        "analyze", "transfer", "--benchmark", "toy-bench", "--proxies", "toy_params", "--quiet", "--published", "nbzero", "--json"
    )
    assert transfer.exit_code == 0, transfer.output
    rows = json.loads(transfer.stdout)["rows"]
    zen = next(r for r in rows if r["proxy"] == "zen" and r["entry"] == "mbr_flops")
    assert zen["nbzero:R2"] == 0.045 and zen["toy-bench"] is None
    oracle = next(r for r in rows if r["proxy"] == "oracle" and r["entry"] == "mbr_flops")
    assert oracle["toy-bench"] == 0.0
    # how alike the columns order the proxies: the paper's R2 and MB share 11 proxies; toy-bench shares none
    agreement = {(r["first"], r["second"]): r for r in json.loads(transfer.stdout)["column_agreement"]}
    assert agreement[("nbzero:R2", "nbzero:MB")]["proxies"] == 11
    assert agreement[("nbzero:R2", "nbzero:MB")]["spearman"] == pytest.approx(0.40, abs=0.005)
    assert agreement[("toy-bench", "nbzero:R2")]["proxies"] == 0 and agreement[("toy-bench", "nbzero:R2")]["spearman"] is None
    table = cli("analyze", "transfer", "--benchmark", "toy-bench", "--proxies", "toy_params", "--quiet", "--published", "nbzero")
    assert table.exit_code == 0 and "repeats Table 2" in table.stdout
    assert "how alike the columns order the proxies" in table.stdout and "+0.40 (11)" in table.stdout


def test_analyze_picks_and_agreement(cli):
    picks = cli("analyze", "picks", "--benchmark", "toy-bench", "--proxies", "toy_params", "--quiet", "--features", "all", "--json")
    assert picks.exit_code == 0, picks.output
    rows = json.loads(picks.stdout)["picks"]
    overall = next(r for r in rows if r["proxy"] == "oracle" and r["budget"] == "100%")
    assert overall["rank"] == 1 and overall["arch"].strip() == "w9-d4"
    agreement = cli("analyze", "agreement", "--benchmark", "toy-bench", "--proxies", "toy_params,toy_lower", "--quiet", "--json")
    assert agreement.exit_code == 0, agreement.output
    matrix = json.loads(agreement.stdout)["matrix"]
    assert matrix["oracle"]["oracle"] == 0.0 and matrix["toy_params"]["toy_params"] == 0.0


class _SecondBench:
    """A second toy benchmark: the same networks, accuracy reversed in width."""

    @zsbench.hookimpl
    def register_benchmarks(self, register):
        from toy_plugins import ToyBench

        class ToyBenchReversed(ToyBench):
            name = "toy-reversed"

            def load(self, data_root=None):
                frame = super().load(data_root)
                return frame.assign(accuracy=200.0 - frame["accuracy"])

        register(ToyBenchReversed())


def test_evaluate_adds_a_saved_hybrid_as_a_row(cli):
    saved = cli(
        "hybrid",
        "--benchmark",
        "toy-bench",
        "--proxies",
        "toy_lower,toy_output",
        "--costs",
        "",
        "--max-size",
        "2",
        "--index",
        "spearman",
        "--bootstrap",
        "0",
        "--quiet",
        "--save",
        "mine",
        "--json",
    )
    assert saved.exit_code == 0, saved.output
    best = json.loads(saved.stdout)["results"][0]
    # evaluate asks only for toy_params: the hybrid's members are scored (or read) as well
    result = cli(
        "evaluate", "--benchmark", "toy-bench", "--proxies", "toy_params", "--hybrid", "mine", "--bootstrap", "0", "--quiet", "--json"
    )
    assert result.exit_code == 0, result.output
    rows = {r["proxy"]: r for r in json.loads(result.stdout)["rows"]}
    assert "hybrid:mine" in rows and "toy_params" in rows
    assert rows["hybrid:mine"]["spearman"] == pytest.approx(best["spearman"])
    table = cli("evaluate", "--benchmark", "toy-bench", "--proxies", "toy_params", "--hybrid", "mine", "--bootstrap", "0", "--quiet")
    assert table.exit_code == 0 and "hybrid:mine" in table.stdout
    shown = cli("hybrid", "--benchmark", "toy-bench", "--proxies", "toy_lower", "--bootstrap", "20", "--quiet", "--transfer", "toy-bench")
    assert shown.exit_code == 0, shown.output
    assert "oracle" in shown.stdout and "transfer of the winners" in shown.stdout
    missing = cli("evaluate", "--benchmark", "toy-bench", "--hybrid", "nope", "--quiet")
    assert missing.exit_code == 2 and "no saved hybrid 'nope'" in missing.stderr


def test_evaluate_on_several_benchmarks_prints_proxies_by_benchmarks(cli):
    zsbench.get_host().register_plugin(_SecondBench(), name="toy-reversed")
    result = cli("evaluate", "--benchmark", "toy-bench,toy-reversed", "--proxies", "toy_params", "--index", "spearman", "--quiet", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["benchmarks"] == ["toy-bench", "toy-reversed"]
    row = next(r for r in payload["rows"] if r["proxy"] == "toy_params")
    # the reversed benchmark ranks every network the other way round
    assert row["toy-bench"] == pytest.approx(-row["toy-reversed"])
