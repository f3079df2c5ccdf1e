"""The reproduction studies of benchmarks/repro on a few cells, so the scripts cannot rot:
their numbers are the Spearman correlations of zsbench's own scores, beside the published values."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from scipy import stats

import zsbench

REPRO = Path(__file__).resolve().parents[1] / "benchmarks" / "repro"


def _load(name: str):
    sys.path.insert(0, str(REPRO))
    spec = importlib.util.spec_from_file_location(f"repro_{name}", REPRO / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(report: str, first_cell: str) -> list[str]:
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{report}")


@pytest.mark.data
@pytest.mark.slow
def test_abdelfattah_table_is_zsbench_spearman_beside_the_published_value(tmp_path, data_root):
    from zsbench_benchmarks.nb201 import nb201_table

    study = _load("abdelfattah2021")
    cache = tmp_path / "scores.sqlite"
    argv = ["--limit", "6", "--datasets", "cifar10,imagenet16", "--proxies", "synflow", "--bootstrap", "50",
            "--cache", str(cache), "--data-root", str(data_root), "--out", str(tmp_path / "t1.md")]
    report = study.main(argv)
    assert (tmp_path / "t1.md").read_text().strip() == report.strip()
    assert "<path>" in report and str(tmp_path) not in report  # no machine paths in a committed table

    result = zsbench.evaluate(
        "synflow",
        "nb201-cifar10",
        pool=zsbench.PoolOptions(limit=6, data_root=data_root),
        run=zsbench.RunOptions(cache=cache),
        indices=zsbench.IndexOptions(bootstrap=0),
    )
    truth = nb201_table(("cifar10_validtest_200ep",)).set_index("arch_str").loc[result.scores["arch"], "cifar10_validtest_200ep"]
    expected = stats.spearmanr(result.scores["synflow"], truth).statistic
    row = _row(report, "synflow")  # the first section is CIFAR-10
    assert row[1] == "6" and float(row[2]) == pytest.approx(expected, abs=5e-4)
    assert row[4] == "0.737" and float(row[5]) == pytest.approx(float(row[2]) - 0.737, abs=1e-3)
    low, high = map(float, re.findall(r"-?\d\.\d+", row[3]))
    assert low <= float(row[2]) <= high
    # No ImageNet16-120 images in the shared data: the report says what was used instead.
    assert "SUBSTITUTE: no ImageNet16-120 images" in report

    # The same report from the cache alone (how a study still running is reported).
    again = study.main([*argv[:-2], "--cached-only"])
    assert again.split("Made by")[0] == report.split("Made by")[0]


@pytest.mark.data
@pytest.mark.slow
def test_nbsz_compares_with_naslib_scores_on_the_same_cells(tmp_path, data_root):
    study = _load("nbsz2022")
    report = study.main(["--limit", "5", "--nbsz-limit", "6", "--proxies", "synflow,params", "--bootstrap", "50",
                         "--cache", str(tmp_path / "s.sqlite"), "--data-root", str(data_root)])
    part_one = report.split("### Part 2")[0]
    assert _row(part_one, "synflow")[4] == "0.73" and _row(part_one, "params")[1] == "5"
    params = _row(report.split("### Part 2")[1], "params")
    # Both count the parameters of the same networks: identical ranking, so the cells were joined right.
    assert params[1] == "params" and params[2] == "6" and params[3] == "1.000"
    assert _row(report, "12-epoch training, reference")[2] == "6"
