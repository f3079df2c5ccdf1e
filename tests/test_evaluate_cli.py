"""``zsbench evaluate`` on the command line: output formats and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from cli_helpers import one_line_error
from toy_plugins import toy_batch
from typer.testing import CliRunner

from zsbench.cli import build_app
from zsbench.engine import evaluation


def test_json_is_the_only_output_on_stdout(cli):
    result = cli("--proxies", "toy_params,toy_flaky", "--benchmark", "toy-bench", "--metrics", "kendall,p_at_k", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"benchmark", "archs", "scores", "noise_ceiling", "settings", "rows"}
    assert [row["proxy"] for row in payload["rows"]] == ["toy_params", "toy_flaky"]
    assert payload["rows"][1]["failures"] == 8
    assert payload["rows"][0]["p_at_k/K@5%"] == 2  # 5 % of 32, rounded


def test_output_file_has_one_row_per_arch_with_the_documented_columns(cli, tmp_path):
    target = tmp_path / "out" / "scores.parquet"
    result = cli("-p", "toy_params,toy_flaky", "-b", "toy-bench", "--output", str(target))
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(target)
    assert list(table.columns) == ["arch", "accuracy", "flops", "params", "depth", "toy_params", "toy_flaky"]
    assert len(table) == 32 and table["toy_flaky"].isna().sum() == 8
    assert "toy_params" in result.stdout and "kendall" in result.stdout  # the rich table


def test_second_identical_run_computes_nothing(cli):
    first = cli("-p", "toy_params", "-b", "toy-bench", "--limit", "5")
    second = cli("-p", "toy_params", "-b", "toy-bench", "--limit", "5")
    assert first.exit_code == second.exit_code == 0
    assert "5 scores computed, 0 from the cache" in first.stderr
    assert "0 scores computed, 5 from the cache" in second.stderr


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["-p", "nope", "-b", "toy-bench"], 2, "Unknown proxy 'nope'"),
        (["-p", "toy_params", "-b", "no-such-bench"], 2, "Unknown benchmark 'no-such-bench'"),
        (["-p", "toy_params", "-b", "toy-bench", "-m", "kendal"], 2, "Unknown metric 'kendal'"),
        (["-p", "toy_params"], 2, "default benchmark 'nasbench-macro-cifar10' is not installed"),
        (["-p", "toy_params", "-b", "toy-bench", "--output", "x.xlsx"], 2, "--output must end in .parquet or .csv"),
        (["-p", "toy_params", "-b", "toy-bench", "--top-k", "5"], 2, "--top-k fractions"),
        (["-p", "toy_params", "-b", "toy-bench", "--budgets", "0"], 2, "--budgets must be at least 1"),
        (["-p", "toy_params", "-b", "toy-bench", "--executor", "dask"], 2, "unknown executor 'dask'"),
        (["-p", "toy_params", "-b", "toy-bench", "-O", "br_at_k.q=1"], 2, "index 'br_at_k' has no option 'q' (its options: k"),
        (["-p", "toy_params", "-b", "toy-bench", "-O", "br_at_k.k=2"], 2, "option br_at_k.k='2': fractions must be in (0, 1]"),
        (["-p", "toy_params", "-b", "toy-bench", "-m", "kendall", "-O", "br_at_k.k=0.1"], 2, "which is not selected"),
        (["-p", "toy_params", "-b", "toy-bench", "-O", "br_at_k"], 2, "--metric-option takes NAME.KEY=VALUE"),
        (["-p", "toy_params", "-b", "toy-bench", "--device", "gpu"], 2, "unknown device 'gpu': use cpu, cuda or cuda:N"),
        (["-p", "toy_params", "-b", "toy-bench", "--device", "meta"], 2, "device 'meta' cannot run networks"),
        (["-p", "toy_params", "-b", "toy-bench", "--threads", "0"], 2, "--threads must be at least 1, got 0"),
        (["-p", "toy_params", "-b", "toy-bench", "--data-root", "/no/such/root"], 2, "--data-root /no/such/root is not a directory"),
    ],
)
def test_usage_errors_are_one_line(cli, args, code, fragment):
    result = cli(*args)
    assert result.exit_code == code
    assert fragment in one_line_error(result)


def test_a_device_this_machine_lacks_is_a_one_line_error(cli, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = cli("-p", "toy_params", "-b", "toy-bench", "--device", "cuda")
    assert result.exit_code == 2
    assert one_line_error(result) == "error: --device cuda: this machine has no CUDA device " + (
        f"(torch {torch.__version__} sees none); use --device cpu"
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    result = cli("-p", "toy_params", "-b", "toy-bench", "--device", "cuda:2")
    assert result.exit_code == 2
    assert "--device cuda:2: this machine has 2 CUDA GPU(s), cuda:0 to cuda:1" in one_line_error(result)


def test_threads_reach_the_executor(cli, monkeypatch):
    from zsbench.engine import executors

    chosen: list[int] = []
    monkeypatch.setattr(executors, "set_torch_threads", chosen.append)  # records, sets nothing in the test process
    assert cli("-p", "toy_params", "-b", "toy-bench", "--limit", "2", "--threads", "1").exit_code == 0
    assert chosen == [1]
    chosen.clear()
    monkeypatch.setattr(executors, "available_cores", lambda: 6)
    monkeypatch.setattr(executors, "busy_cores", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert cli("-p", "toy_output", "-b", "toy-bench", "--limit", "2").exit_code == 0
    assert chosen == [4]  # the default for one worker: every core that other work leaves free


def test_missing_table_file_names_the_file_and_its_format(cli, tmp_path):
    result = cli("-p", "toy_params", "-b", str(tmp_path / "absent.parquet"), "--space", "toy")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "absent.parquet not found" in line and "columns arch (str), accuracy (float)" in line


def test_table_file_errors(cli, tmp_path):
    bad_arch = tmp_path / "bad.csv"
    pd.DataFrame({"arch": ["w2-d1", "w1-d9"], "accuracy": [50.0, 60.0]}).to_csv(bad_arch, index=False)
    result = cli("-p", "toy_params", "-b", str(bad_arch), "--space", "toy")
    assert result.exit_code == 2
    assert "row 1" in (line := one_line_error(result)) and "'w1-d9'" in line

    no_accuracy = tmp_path / "cols.csv"
    pd.DataFrame({"arch": ["w2-d1"], "acc": [50.0]}).to_csv(no_accuracy, index=False)
    result = cli("-p", "toy_params", "-b", str(no_accuracy), "--space", "toy")
    assert result.exit_code == 1
    assert "lacks column(s) accuracy" in one_line_error(result)

    # a missing file: test_missing_table_file_names_the_file_and_its_format
    result = cli("-p", "toy_params", "-b", str(bad_arch))
    assert result.exit_code == 2
    assert "--space" in one_line_error(result)


def test_table_file_dataset_and_class_count(cli, tmp_path, monkeypatch):
    table = tmp_path / "c100.csv"
    pd.DataFrame({"arch": ["w2-d1", "w4-d2", "w8-d3"], "accuracy": [50.0, 60.0, 70.0]}).to_csv(table, index=False)
    seen = []
    monkeypatch.setattr(evaluation, "make_batch", lambda bench, **_: seen.append(bench) or toy_batch())
    result = cli("-p", "toy_params", "-b", str(table), "--space", "toy", "--dataset", "cifar100")
    assert result.exit_code == 0, result.output
    assert (seen[-1].dataset, seen[-1].num_classes) == ("cifar100", 100)
    result = cli("-p", "toy_params", "-b", str(table), "--space", "toy", "--dataset", "ImageNet16-120", "--num-classes", "120")
    assert result.exit_code == 0, result.output
    assert (seen[-1].dataset, seen[-1].num_classes) == ("ImageNet16-120", 120)
    assert cli("-p", "toy_params", "-b", str(table), "--space", "toy").exit_code == 0
    assert (seen[-1].dataset, seen[-1].num_classes) == ("cifar10", 10)

    result = cli("-p", "toy_params", "-b", str(table), "--space", "toy", "--dataset", "svhn")
    assert result.exit_code == 2 and "add --num-classes N" in one_line_error(result)
    result = cli("-p", "toy_params", "-b", "toy-bench", "--dataset", "cifar100")
    assert result.exit_code == 2 and "registered benchmark that knows its own" in one_line_error(result)


def test_the_noise_ceiling_is_printed_with_the_indices(cli):
    from toy_plugins import ToyBench

    class MeasuredTwice(ToyBench):
        name = "toy-measured"

        def noise_ceiling(self, data_root=None):
            return {"spearman": 0.8123, "kendall": 0.6, "pairs": 30, "note": "30 networks trained with seeds 0 and 1"}

    class Broken(ToyBench):
        name = "toy-broken"

        def noise_ceiling(self, data_root=None):
            raise RuntimeError("no second run on disk")

        def caveat(self):
            raise OSError("build log unreadable")

    cli.host.benchmarks.add("toy-measured", MeasuredTwice(), "tests", "local", "0")
    cli.host.benchmarks.add("toy-broken", Broken(), "tests", "local", "0")
    result = cli("-p", "toy_params", "-b", "toy-measured")
    assert result.exit_code == 0, result.output
    assert "noise ceiling of toy-measured: two trainings of the same networks agree with Spearman 0.812, Kendall 0.600" in " ".join(
        result.stdout.split()
    )
    assert json.loads(cli("-p", "toy_params", "-b", "toy-measured", "--json").stdout)["noise_ceiling"]["pairs"] == 30
    # a plugin whose ceiling fails loses that line, not the evaluation
    with pytest.warns(UserWarning) as warned:
        result = cli("-p", "toy_params", "-b", "toy-broken")
    assert result.exit_code == 0 and "noise ceiling" not in result.stdout and "toy_params" in result.stdout
    messages = {str(w.message) for w in warned}
    assert "benchmark 'toy-broken': noise ceiling unavailable: RuntimeError: no second run on disk" in messages
    assert "benchmark 'toy-broken': caveat unavailable: OSError: build log unreadable" in messages
    assert "noise ceiling" not in cli("-p", "toy_params", "-b", "toy-bench").stdout


def test_metric_options_reach_only_their_index(cli):
    """``-O br_at_k.k=0.25`` sets K for BR@K alone; ``--top-k`` sets it for every index declaring ``k``."""
    args = ["-p", "toy_params", "-b", "toy-bench", "-m", "br_at_k,p_at_k,mbr_flops", "--json"]
    own = json.loads(cli(*args, "-O", "br_at_k.k=0.25", "-O", "mbr_flops.budgets=2").stdout)["rows"][0]
    assert own["br_at_k/K@25%"] == 8  # 25 % of 32
    assert "p_at_k/K@0.1%" in own and "p_at_k/K@25%" not in own  # p_at_k kept its default
    assert {k for k in own if k.startswith("mbr_flops/br@")} == {"mbr_flops/br@50%", "mbr_flops/br@100%"}
    shared = json.loads(cli(*args, "--top-k", "0.25", "-O", "p_at_k.k=0.5").stdout)["rows"][0]
    assert shared["br_at_k/K@25%"] == 8 and shared["p_at_k/K@50%"] == 16  # the index's own option wins
    assert len([k for k in shared if k.startswith("mbr_flops/br@")]) == 5  # the default M


def test_metrics_listing_shows_declared_options(cli):
    listing = CliRunner().invoke(build_app(), ["metrics", "br_at_k", "--json"])
    assert listing.exit_code == 0, listing.output
    [row] = json.loads(listing.stdout)
    assert row["group"] == "top-k"
    assert row["options"][0]["key"] == "k" and row["options"][0]["default"] == "0.001,0.05"


def test_a_larger_limit_keeps_the_smaller_sample_and_its_cached_scores(cli, tmp_path):
    small = cli("-p", "toy_params", "-b", "toy-bench", "--limit", "10", "--seed", "3", "--output", str(tmp_path / "a.csv"))
    large = cli("-p", "toy_params", "-b", "toy-bench", "--limit", "20", "--seed", "3", "--output", str(tmp_path / "b.csv"))
    assert small.exit_code == large.exit_code == 0, small.output + large.output
    first, second = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert set(first["arch"]) < set(second["arch"]) and len(set(second["arch"])) == 20
    assert "10 scores computed, 10 from the cache" in large.stderr
