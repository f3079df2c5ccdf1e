"""``zsbench spaces`` and ``zsbench spaces show`` through typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner
from zsbench_spaces import mb, nasbench_macro, nb201, r1, r2

from zsbench.cli import build_app
from zsbench.plugins import PluginHost, set_host


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    host = PluginHost(entry_points=False, strict=True)
    for module, name in [(r1, "R1"), (r2, "R2"), (mb, "MB"), (nb201, "nb201"), (nasbench_macro, "nasbench_macro")]:
        host.register_plugin(module, name=name)
    old = set_host(host)
    yield CliRunner()
    set_host(old)


def show_json(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(build_app(), ["spaces", "show", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_spaces_lists_sizes(runner: CliRunner) -> None:
    result = runner.invoke(build_app(), ["spaces", "--json"])
    assert result.exit_code == 0, result.output
    sizes = {row["name"]: row["size"] for row in json.loads(result.stdout)}
    assert sizes == {"R1": 228_559_320, "R2": 228_559_320, "MB": 3_650_049_216, "nb201": 15_625, "nasbench-macro": 3_969}


def test_show_sample_json(runner: CliRunner) -> None:
    info = show_json(runner, "R1", "--sample", "3", "--seed", "5")
    space = r1.R1Space()
    assert info["space"] == "R1" and info["size"] == space.size()
    archs = [row["arch"] for row in info["architectures"]]
    assert archs == space.sample(3, seed=5)
    for row in info["architectures"]:
        cost = space.cost(row["arch"])
        assert (row["flops"], row["params"], row["depth"]) == (cost.flops, cost.params, cost.depth)
    assert show_json(runner, "R1", "--sample", "3", "--seed", "5") == info
    assert [r["arch"] for r in show_json(runner, "R1", "--sample", "3", "--seed", "6")["architectures"]] != archs


def test_show_a_flops_bounded_sample_is_the_build_pool(runner: CliRunner) -> None:
    info = show_json(runner, "R1", "--sample", "4", "--max-flops", "1e8")
    space = r1.R1Space()
    assert info["max_flops"] == 1e8
    assert [row["arch"] for row in info["architectures"]] == space.sample(4, seed=0, max_flops=1e8)
    assert all(0 < row["flops"] <= 1e8 for row in info["architectures"])


def test_show_given_archs_with_imagenet_size(runner: CliRunner) -> None:
    info = show_json(runner, "nasbench-macro", "--arch", "00000001", "--arch", "22212220")
    rows = info["architectures"]
    assert [r["arch"] for r in rows] == ["00000010", "22212220"]
    assert rows[1]["params"] == 1_985_514  # the benchmark's best network (data README)
    info = show_json(runner, "nb201", "--sample", "2", "--num-classes", "100", "--input-size", "16")
    assert info["num_classes"] == 100 and info["input_size"] == 16
    space = nb201.NB201Space()
    for row in info["architectures"]:
        assert row["flops"] == space.cost(row["arch"], num_classes=100, input_size=16).flops


def test_show_table(runner: CliRunner) -> None:
    result = runner.invoke(build_app(), ["spaces", "show", "MB", "--sample", "2"])
    assert result.exit_code == 0, result.output
    for arch in mb.MBSpace().sample(2, seed=0):
        assert arch in result.stdout
    assert "MFLOPs" in result.stdout and "multiply-accumulates" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["R1", "--arch", "stem64,s2-64x9,s2-64x2,s2-64x2"], "stage 1 depth '9' not allowed"),
        (["R7"], "Unknown space 'R7'"),
        (["R1", "--sample", "-1"], "--sample must be >= 0"),
        (["R1", "--max-flops", "1000"], "below the smallest network"),
        (["nasbench-macro", "--max-flops", "1", "--sample", "2"], "found only 0 of 2 architectures"),
    ],
)
def test_show_errors_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(build_app(), ["spaces", "show", *args])
    assert result.exit_code == 2
    assert message in result.output
