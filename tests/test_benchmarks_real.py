"""The shipped benchmarks: row counts, known optima, keys the spaces accept, costs that agree
with the spaces, no data root needed, and clear errors for unusable table files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from zsbench_benchmarks.nasbench_macro import TABLE_PATH as MACRO_PATH
from zsbench_benchmarks.nb201 import TABLE_PATH as NB201_PATH

import zsbench
from zsbench.tables import BenchmarkTableError, TableBenchmark, read_table


@pytest.fixture(scope="module")
def host() -> zsbench.PluginHost:
    return zsbench.PluginHost(load=["nb201", "nasbench_macro", "nb201_benchmarks", "nasbench_macro_benchmark"])


@pytest.mark.parametrize(
    ("name", "column", "best", "classes", "size"),
    [
        ("nb201-cifar10", "cifar10_test_200ep", 94.3733, 10, 32),
        ("nb201-cifar100", "cifar100_test_200ep", 73.5133, 100, 32),
        ("nb201-imagenet16", "imagenet16_120_test_200ep", 47.3111, 120, 16),
    ],
)
def test_nb201_benchmarks(host, name, column, best, classes, size):
    bench = host.benchmarks.get(name)
    assert (bench.space, bench.num_classes, bench.input_size) == ("nb201", classes, size)
    table = bench.load(None)
    raw = pd.read_parquet(NB201_PATH, columns=["arch_str", column])
    assert list(table.columns) == ["arch", "accuracy"] and len(table) == 15625 and table["arch"].is_unique
    assert (table["arch"].to_numpy() == raw["arch_str"].to_numpy()).all()
    assert (table["accuracy"].to_numpy() == raw[column].to_numpy()).all()
    assert table["accuracy"].max() == pytest.approx(best, abs=1e-4)
    space = host.spaces.get("nb201")
    assert all(space.canonical(key) == key for key in table["arch"].iloc[::50])


def test_nasbench_macro_benchmark(host):
    bench = host.benchmarks.get("nasbench-macro-cifar10")
    table = bench.load(None)
    assert list(table.columns) == ["arch", "accuracy", "params", "flops"]
    assert len(table) == 3969 and table["arch"].is_unique
    top = table.loc[table["accuracy"].idxmax()]
    assert top["arch"] == "22212220" and top["accuracy"] == pytest.approx(93.13, abs=0.01)
    raw = pd.read_parquet(MACRO_PATH)
    row = raw.set_index("arch").loc["00000000"]
    assert table.set_index("arch").loc["00000000", "accuracy"] == pytest.approx(row[[f"test_acc_run{i}" for i in range(3)]].mean())
    # the table's params and FLOPs are the space's (MACs), architecture by architecture
    space = host.spaces.get("nasbench-macro")
    for arch, params, flops in table[["arch", "params", "flops"]].sample(8, random_state=1).itertuples(index=False):
        assert space.canonical(arch) == arch
        cost = space.cost(arch, 10, 32)
        assert (cost.params, cost.flops) == (params, flops)


def test_nasbench_macro_noise_ceiling_is_between_two_single_runs(host):
    from scipy import stats

    ceiling = host.benchmarks.get("nasbench-macro-cifar10").noise_ceiling(None)
    raw = pd.read_parquet(MACRO_PATH)
    raw = raw[raw["is_canonical"]]
    assert ceiling["pairs"] == 3969
    assert ceiling["spearman"] == pytest.approx(stats.spearmanr(raw["test_acc_run0"], raw["test_acc_run1"]).statistic, abs=1e-4)
    assert ceiling["kendall"] == pytest.approx(stats.kendalltau(raw["test_acc_run0"], raw["test_acc_run1"]).statistic, abs=1e-4)
    # 50 epochs on all of CIFAR-10: two runs rank 3,969 networks almost identically
    assert 0.97 < ceiling["spearman"] < 0.99
    # NAS-Bench-201 publishes no per-seed accuracies: its ceiling is unknown, not invented
    assert host.benchmarks.get("nb201-cifar10").noise_ceiling(None) is None


@pytest.mark.parametrize("name", ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16", "nasbench-macro-cifar10"])
def test_shipped_tables_need_no_data_root_and_state_licence_and_citation(host, tmp_path, monkeypatch, name):
    monkeypatch.delenv("ZSBENCH_DATA", raising=False)
    bench = host.benchmarks.get(name)
    assert len(bench.load(None)) in (15625, 3969)
    assert len(bench.load(tmp_path)) in (15625, 3969)  # an empty data root changes nothing
    assert bench.licence.startswith("MIT" if name.startswith("nb201") else "Apache-2.0")
    assert ("ICLR 2020" if name.startswith("nb201") else "CVPR 2021") in bench.citation


def test_notice_names_every_shipped_table_with_its_licence():
    notice = (NB201_PATH.parent / "NOTICE").read_text()
    for file, licence in ((NB201_PATH.name, "MIT License"), (MACRO_PATH.name, "Apache License")):
        assert file in notice and licence in notice


def test_a_present_file_without_the_columns_names_what_is_missing(tmp_path):
    target = tmp_path / "nb201_accuracy.parquet"
    pd.DataFrame({"arch_str": ["x"], "cifar100_test_200ep": [1.0]}).to_parquet(target)
    with pytest.raises(BenchmarkTableError, match="lacks column\\(s\\) cifar10_test_200ep"):
        read_table(target, ("arch_str", "cifar10_test_200ep"), "nb201-cifar10 table")


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_table_benchmark_reads_every_format_and_keeps_costs(tmp_path, suffix):
    frame = pd.DataFrame(
        {"arch": ["a", "b"], "accuracy": [1.5, 2.5], "params": [10, 20], "note": ["x", "y"], "depth": [3, 4]}
    )
    path = tmp_path / f"t{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    bench = TableBenchmark(path, space="R1")
    table = bench.load()
    assert list(table.columns) == ["arch", "accuracy", "params", "depth"]
    assert table["accuracy"].tolist() == [1.5, 2.5] and np.array_equal(table["params"], [10, 20])
    assert (bench.name, bench.space, bench.num_classes) == (str(path), "R1", 10)


def test_table_file_keeps_architecture_keys_as_strings(tmp_path):
    """A CSV written by `evaluate --output` on nasbench-macro-cifar10 reads back with its keys:
    "00000112" must not become 112, "NA" must not become a missing value."""
    path = tmp_path / "macro.csv"
    pd.DataFrame({"arch": ["00000112", "22212220", "NA"], "accuracy": [90.5, 93.13, 50.0]}).to_csv(path, index=False)
    table = TableBenchmark(path, space="nasbench-macro").load()
    assert table["arch"].tolist() == ["00000112", "22212220", "NA"]
    assert table["accuracy"].tolist() == [90.5, 93.13, 50.0]


def test_non_numeric_accuracy_is_an_error_that_says_so(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("arch,accuracy\na,91.2\nb,\nc,88%\nd,n/a\n")
    with pytest.raises(BenchmarkTableError) as info:
        TableBenchmark(path, space="R1").load()
    message = str(info.value)
    assert "column accuracy must hold numbers" in message and "2 cell(s)" in message
    assert "'88%' in data row 3" in message and "\n" not in message
    # Empty cells are only missing values: they load as NaN (dropped with a warning by evaluate).
    path.write_text("arch,accuracy\na,91.2\nb,\n")
    assert TableBenchmark(path, space="R1").load()["accuracy"].isna().tolist() == [False, True]
