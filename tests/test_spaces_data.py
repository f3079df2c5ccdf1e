"""Spaces against the shared benchmark tables: NAS-Bench-201 params and FLOPs, NAS-Bench-Macro
params and FLOPs. Needs ZSBENCH_DATA (skipped with the reason otherwise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from zsbench_spaces import nasbench_macro, nb201

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def nb201_table(data_root: Path) -> pd.DataFrame:
    return pd.read_parquet(data_root / "nasbench201" / "nb201_accuracy.parquet")


@pytest.fixture(scope="module")
def nb201_costs(nb201_table: pd.DataFrame) -> pd.DataFrame:
    space = nb201.NB201Space()
    costs = [space.cost(a) for a in nb201_table["arch_str"]]
    return pd.DataFrame({"flops": [c.flops for c in costs], "params": [c.params for c in costs]})


def test_nb201_arch_strings_are_canonical_and_cover_the_space(nb201_table: pd.DataFrame) -> None:
    space = nb201.NB201Space()
    keys = list(nb201_table["arch_str"])
    assert all(space.canonical(k) == k for k in keys)
    assert set(keys) == set(space.enumerate())


def test_nb201_params_equal_benchmark_for_every_consistent_cell(
    nb201_table: pd.DataFrame, nb201_costs: pd.DataFrame
) -> None:
    consistent = nb201_table["params_cifar10_consistent"].to_numpy()
    published = np.rint(nb201_table["params_cifar10_m"].to_numpy() * 1e6).astype(np.int64)
    ours = nb201_costs["params"].to_numpy()
    assert consistent.sum() == 15_421
    np.testing.assert_array_equal(ours[consistent], published[consistent])
    # the 204 cells flagged inconsistent in the data README really differ
    assert (ours[~consistent] != published[~consistent]).all()


def test_nb201_disconnected_cells_are_the_untrainable_ones(nb201_table: pd.DataFrame) -> None:
    connected = np.array([nb201.is_connected(nb201.NB201Space().parse(a)) for a in nb201_table["arch_str"]])
    assert (~connected).sum() == 341
    # the benchmark's 10 % (chance) cells and NASWOT's NaN cells are exactly the disconnected ones
    np.testing.assert_array_equal(~connected, nb201_table["naswot_v1_score"].isna().to_numpy())
    assert (nb201_table.loc[~connected, "cifar10_test_200ep"] == 10.0).all()


def test_nb201_flops_against_naslib(data_root: Path) -> None:
    """NASLib's NB201 "flops" (NAS-Bench-Suite-Zero) come from a counter that also charges
    activations, BatchNorm and pooling per output element; after removing exactly those
    terms they equal ours on every one of its 724 cells (and its params equal ours)."""
    table = pd.read_parquet(data_root / "nbsz_partial" / "nbsz_partial_scores.parquet")
    table = table[(table["search_space"] == "nasbench201") & (table["task"] == "cifar10")]
    assert len(table) == 724
    space = nb201.NB201Space()
    for arch, flops_m, params_m in zip(table["arch_str"], table["flops"], table["params"], strict=True):
        cost = space.cost(arch)
        ops = [op for node in space.parse(arch) for op in node]
        convs = sum(op.startswith("nor_conv") for op in ops)
        pools = ops.count("avg_pool_3x3")
        # per-element work of 15 cells at 16x32x32, 32x16x16, 64x8x8 (28,672 elements x 5 cells x 3 stages):
        # ReLU + BN (3 per element) for each conv edge, a 3x3 window (9 per element) for each pool edge
        elements = 5 * (16 * 32 * 32 + 32 * 16 * 16 + 64 * 8 * 8)
        extra = 160_822 + 3 * elements * convs + 9 * elements * pools
        assert round(flops_m * 1e6) == cost.flops + extra, arch
        assert round(params_m * 1e6) == cost.params, arch


@pytest.fixture(scope="module")
def macro_table(data_root: Path) -> pd.DataFrame:
    return pd.read_parquet(data_root / "nas_bench_macro" / "nas_bench_macro_cifar10.parquet")


def test_nasbench_macro_params_and_flops_equal_table_for_every_architecture(macro_table: pd.DataFrame) -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    assert len(macro_table) == 6_561
    costs = [space.cost(a) for a in macro_table["arch"]]
    np.testing.assert_array_equal([c.params for c in costs], macro_table["params"].to_numpy())
    # the table's FLOPs are multiply-accumulates without the classifier bias: no factor, no offset
    np.testing.assert_array_equal([c.flops for c in costs], macro_table["flops"].to_numpy().astype(float))


def test_nasbench_macro_canonical_rule_equals_table(macro_table: pd.DataFrame) -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    assert [space.canonical(a) for a in macro_table["arch"]] == list(macro_table["canonical_arch"])
    canonical_rows = macro_table[macro_table["is_canonical"]]
    assert set(space.enumerate()) == set(canonical_rows["arch"])
