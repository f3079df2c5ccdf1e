"""The shipped benchmarks against the shared data: row counts, known optima, keys the
spaces accept, costs that agree with the spaces, and clear errors when data is missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import zsbench
from zsbench.tables import BenchmarkTableError, TableBenchmark


@pytest.fixture(scope="module")
def host() -> zsbench.PluginHost:
    return zsbench.PluginHost(load=["nb201", "nasbench_macro", "nb201_benchmarks", "nasbench_macro_benchmark"])


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "column", "best", "classes", "size"),
    [
        ("nb201-cifar10", "cifar10_test_200ep", 94.3733, 10, 32),
        ("nb201-cifar100", "cifar100_test_200ep", 73.5133, 100, 32),
        ("nb201-imagenet16", "imagenet16_120_test_200ep", 47.3111, 120, 16),
    ],
)
def test_nb201_benchmarks(host, data_root, name, column, best, classes, size):
    bench = host.benchmarks.get(name)
    assert (bench.space, bench.num_classes, bench.input_size) == ("nb201", classes, size)
    table = bench.load(data_root)
    raw = pd.read_parquet(data_root / "nasbench201" / "nb201_accuracy.parquet", columns=["arch_str", column])
    assert list(table.columns) == ["arch", "accuracy"] and len(table) == 15625 and table["arch"].is_unique
    assert (table["arch"].to_numpy() == raw["arch_str"].to_numpy()).all()
    assert (table["accuracy"].to_numpy() == raw[column].to_numpy()).all()
    assert table["accuracy"].max() == pytest.approx(best, abs=1e-4)
    space = host.spaces.get("nb201")
    assert all(space.canonical(key) == key for key in table["arch"].iloc[::50])


@pytest.mark.data
def test_nasbench_macro_benchmark(host, data_root):
    bench = host.benchmarks.get("nasbench-macro-cifar10")
    table = bench.load(data_root)
    assert list(table.columns) == ["arch", "accuracy", "params", "flops"]
    assert len(table) == 3969 and table["arch"].is_unique
    top = table.loc[table["accuracy"].idxmax()]
    assert top["arch"] == "22212220" and top["accuracy"] == pytest.approx(93.13, abs=0.01)
    raw = pd.read_parquet(data_root / "nas_bench_macro" / "nas_bench_macro_cifar10.parquet")
    row = raw.set_index("arch").loc["00000000"]
    assert table.set_index("arch").loc["00000000", "accuracy"] == pytest.approx(row[[f"test_acc_run{i}" for i in range(3)]].mean())
    # the table's params and FLOPs are the space's (MACs), architecture by architecture
    space = host.spaces.get("nasbench-macro")
    for arch, params, flops in table[["arch", "params", "flops"]].sample(8, random_state=1).itertuples(index=False):
        assert space.canonical(arch) == arch
        cost = space.cost(arch, 10, 32)
        assert (cost.params, cost.flops) == (params, flops)


@pytest.mark.data
def test_nasbench_macro_noise_ceiling_is_between_two_single_runs(host, data_root):
    from scipy import stats

    ceiling = host.benchmarks.get("nasbench-macro-cifar10").noise_ceiling(data_root)
    raw = pd.read_parquet(data_root / "nas_bench_macro" / "nas_bench_macro_cifar10.parquet")
    raw = raw[raw["is_canonical"]]
    assert ceiling["pairs"] == 3969
    assert ceiling["spearman"] == pytest.approx(stats.spearmanr(raw["test_acc_run0"], raw["test_acc_run1"]).statistic, abs=1e-4)
    assert ceiling["kendall"] == pytest.approx(stats.kendalltau(raw["test_acc_run0"], raw["test_acc_run1"]).statistic, abs=1e-4)
    # 50 epochs on all of CIFAR-10: two runs rank 3,969 networks almost identically
    assert 0.97 < ceiling["spearman"] < 0.99
    # NAS-Bench-201 publishes no per-seed accuracies: its ceiling is unknown, not invented
    assert host.benchmarks.get("nb201-cifar10").noise_ceiling(data_root) is None


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("nb201-cifar10", "nasbench201/nb201_accuracy.parquet"),
        ("nasbench-macro-cifar10", "nas_bench_macro/nas_bench_macro_cifar10.parquet"),
    ],
)
def test_missing_data_is_one_line_naming_file_and_format(host, tmp_path, monkeypatch, name, file):
    bench = host.benchmarks.get(name)
    with pytest.raises(zsbench.DataMissingError) as info:
        bench.load(tmp_path)
    message = str(info.value)
    assert file in message and "Parquet with columns" in message and "\n" not in message
    monkeypatch.delenv("ZSBENCH_DATA", raising=False)
    with pytest.raises(zsbench.DataMissingError, match="no data root: pass --data-root DIR or set ZSBENCH_DATA"):
        bench.load(None)


def test_a_present_file_without_the_columns_names_what_is_missing(host, tmp_path):
    target = tmp_path / "nasbench201" / "nb201_accuracy.parquet"
    target.parent.mkdir()
    pd.DataFrame({"arch_str": ["x"], "cifar100_test_200ep": [1.0]}).to_parquet(target)
    with pytest.raises(BenchmarkTableError, match="lacks column\\(s\\) cifar10_test_200ep"):
        host.benchmarks.get("nb201-cifar10").load(tmp_path)


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
