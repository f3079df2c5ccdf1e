"""The result table: narrow by default (fits 100 columns with 16 proxies), --wide for every
index, --sort by any index in its own direction."""

from __future__ import annotations

import io

import pytest
from report_helpers import SIXTEEN, synthetic_result
from rich.console import Console

import zsbench
from zsbench.cli.evaluate import render_table
from zsbench.reporting.html import headline_indices, sort_rows


@pytest.fixture(scope="module")
def result(host):
    return synthetic_result(host, SIXTEEN, archs=60)


def rendered(table, width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()


def test_default_table_fits_100_columns_with_every_number_whole(result, host):
    lines = rendered(render_table(result, host=host), 100)
    assert max(len(line) for line in lines) <= 100
    text = "\n".join(lines)
    assert "…" not in text
    header = " ".join(lines[:6])
    for shown in ("kendall", "spearman", "mbr_flops", "picked acc", "failures", "s/arch"):
        assert shown in header
    for hidden in ("pearson", "br_at_k", "p_at_k", "mbr_params"):
        assert hidden not in header
    # the perfect proxy's row carries its numbers in full: Kendall 1.000, picks at every budget
    perfect = next(line for line in lines if line.strip().startswith("perfect"))
    row = result.summary.set_index("proxy").loc["perfect"]
    assert "1.000" in perfect
    assert " ".join(f"{row[f'mbr_flops/acc@{p}%']:.1f}" for p in (20, 40, 60, 80, 100)) in perfect
    assert "--wide shows every index" in text


def test_headline_indices_are_declared_by_the_metrics(result, host):
    assert headline_indices(result, host) == ["kendall", "spearman", "mbr_flops"]


def test_wide_table_has_every_index(result, host):
    text = "\n".join(rendered(render_table(result, wide=True, host=host), 400))
    for name in ("pearson", "kendall", "spearman", "br_at_k", "p_at_k", "mbr_flops", "mbr_params", "mbr_depth"):
        assert name in text


def test_sort_orders_rows_best_first_in_the_index_direction(result, host):
    by_kendall = sort_rows(result, "kendall", host)
    assert list(by_kendall["kendall"]) == sorted(result.summary["kendall"], reverse=True)
    by_mbr = sort_rows(result, "mbr_flops", host)  # lower is better
    assert list(by_mbr["mbr_flops"]) == sorted(result.summary["mbr_flops"])
    assert by_mbr["mbr_flops"].iloc[0] == 0.0 and "perfect" in set(by_mbr["proxy"][by_mbr["mbr_flops"] == 0.0])
    lines = rendered(render_table(result, sort="kendall", host=host), 100)
    assert next(line for line in lines if line.strip() and line.strip().split()[0] in SIXTEEN).strip().startswith("perfect")


def test_unknown_sort_key_lists_the_choices(result, host):
    with pytest.raises(zsbench.UsageError, match=r"--sort 'nope' is not a column of this result; choose one of: .*kendall"):
        sort_rows(result, "nope", host)
