"""``zsbench report`` and ``zsbench plot``: the page is self-contained (no script, nothing
outside its folder), carries the settings, the summary and every figure, and compares
benchmarks in transfer tables; the commands take their scores from the cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_helpers import png_size, synthetic_result
from toy_plugins import toy_batch, toy_host
from typer.testing import CliRunner

import zsbench
from zsbench.cli import build_app
from zsbench.engine import evaluation
from zsbench.reporting.html import proxy_ranking_tau, transfer_rows, write_report

FEW = ("snip", "synflow", "flops", "perfect")


@pytest.fixture(scope="module")
def two_results(host):
    first = synthetic_result(host, FEW, archs=50, seed=0)
    second = synthetic_result(host, FEW, archs=50, seed=1)
    second.benchmark = "toy-bench-2"
    return first, second


def sources(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def test_page_is_self_contained_with_settings_summary_and_every_figure(two_results, host, tmp_path):
    first, _ = two_results
    first.settings.update({"input": "cifar10:train:augmented:seed=0", "seed": 0, "score_seed": 0, "bootstrap": 5})
    page_path = write_report([first], tmp_path / "report", host=host, kinds=["indices", "costs", "picks"], dpi=60)
    page = page_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    images = re.findall(r'<img src="([^"]+)"[^>]*width="(\d+)" height="(\d+)"', page)
    assert [Path(src).name for src, _, _ in images] == ["indices.png", "costs.png", "picks.png"]
    for src, width, height in images:
        assert not src.startswith("/") and ".." not in src
        assert png_size(page_path.parent / src) == (int(width), int(height))
    for link in sources(page):
        assert link.startswith("#") or (page_path.parent / link).is_file(), link
    assert "cifar10:train:augmented:seed=0" in page and "5 bootstrap resamples" in page
    # the summary carries the numbers: the perfect proxy's Kendall is 1
    row = re.search(r'<td class="name">perfect</td><td>([0-9.]+)', page)
    assert row and row.group(1) == "1.000"
    assert "noise ceiling of toy-bench: two trainings of the same networks agree with Spearman 0.800, Kendall 0.600" in page
    assert "transfer" not in page.lower()


def test_a_figure_that_does_not_apply_says_why(two_results, host, tmp_path):
    first, _ = two_results
    moved = type(first)(**{**first.__dict__, "space": "nowhere"})
    page = write_report([moved], tmp_path / "r", host=host, kinds=["picks"], dpi=60).read_text()
    assert "picks: not drawn: space &#x27;nowhere&#x27; is not installed" in page
    assert "<img" not in page


def test_a_benchmark_caveat_is_on_the_page(two_results, host, tmp_path):
    first, _ = two_results
    settings = {**first.settings, "benchmark_caveat": "toy is a partial build: 3 of 150 networks trained so far"}
    flagged = type(first)(**{**first.__dict__, "settings": settings})
    page = write_report([flagged], tmp_path / "r", host=host, kinds=["picks"], dpi=60).read_text()
    assert '<p class="note">caveat: toy is a partial build: 3 of 150 networks trained so far.</p>' in page
    plain = write_report([first], tmp_path / "s", host=host, kinds=["picks"], dpi=60).read_text()
    assert "caveat:" not in plain


def test_several_benchmarks_get_transfer_tables(two_results, host, tmp_path, monkeypatch):
    from zsbench.reporting import figures

    given = {}

    def hybrid(result, *, host=None, transfer_to=()):
        given[result.benchmark] = [other.benchmark for other in transfer_to]
        return figures.costs(result)

    monkeypatch.setitem(figures.FIGURES, "hybrid", hybrid)
    page = write_report(list(two_results), tmp_path / "r", host=host, kinds=["costs", "hybrid"], dpi=60).read_text()
    # each benchmark's hybrid winners are applied to the other benchmarks of the report
    assert given == {"toy-bench": ["toy-bench-2"], "toy-bench-2": ["toy-bench"]}
    assert page.count('<section id="toy-bench') == 2 and '<section id="transfer">' in page
    for index in ("kendall", "spearman", "mbr_flops"):
        assert f"<h3>{index}</h3>" in page
    rows = dict(transfer_rows(list(two_results), "kendall"))
    assert list(rows) == list(FEW) and rows["perfect"] == [1.0, 1.0]
    tau = proxy_ranking_tau([v[0] for v in rows.values()], [v[1] for v in rows.values()])
    assert f"toy-bench → toy-bench-2: τ = {tau:.2f}" in page
    assert proxy_ranking_tau([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0 and proxy_ranking_tau([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0


def test_same_benchmark_twice_is_a_usage_error(two_results, host, tmp_path):
    first, _ = two_results
    with pytest.raises(zsbench.UsageError, match="benchmark named twice"):
        write_report([first, first], tmp_path / "r", host=host)


@pytest.fixture()
def cli(monkeypatch, tmp_path):
    """``zsbench`` in-process with the toy plugins and a fresh cache."""
    host = toy_host()
    old = zsbench.set_host(host)
    monkeypatch.setattr(evaluation, "make_batch", lambda bench, **_: toy_batch())
    monkeypatch.setenv("ZSBENCH_CACHE", str(tmp_path / "cache.sqlite"))
    runner = CliRunner()
    app = build_app()
    yield lambda *args: runner.invoke(app, list(args))
    zsbench.set_host(old)


@pytest.mark.slow
def test_plot_and_report_commands_read_the_cache(cli, tmp_path):
    common = ("--proxies", "toy_params,toy_lower", "--benchmark", "toy-bench", "--bootstrap", "0", "--quiet")
    first = cli("plot", "costs", "--out", str(tmp_path / "costs.png"), "--dpi", "60", *common)
    assert first.exit_code == 0, first.output
    assert "64 scores computed, 0 from the cache" in first.stderr
    assert png_size(tmp_path / "costs.png")[0] == 7 * 60
    again = cli("plot", "indices", "--out", str(tmp_path / "indices.svg"), *common)
    assert again.exit_code == 0, again.output
    assert "0 scores computed, 64 from the cache" in again.stderr
    assert (tmp_path / "indices.svg").read_text().lstrip().startswith("<?xml")
    report = cli("report", "--out", str(tmp_path / "rep"), *common)
    assert report.exit_code == 0, report.output
    assert "0 scores computed, 64 from the cache" in report.stderr
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "toy_params" in page and (tmp_path / "rep" / "toy-bench" / "indices.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plot", "pie", "--out", "x.png"), "unknown figure 'pie': choose one of scatter, budgets"),
        (("plot", "costs", "--out", "x.jpg"), "--out must end in .png, .svg or .pdf, got 'x.jpg'"),
        (("report", "--out", "r", "-b", "toy-bench", "-b", "toy-bench"), "--benchmark names a benchmark twice"),
    ],
)
def test_bad_input_is_one_line(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_plot_kinds_match_the_figures():
    from zsbench.cli.report import PLOT_KINDS
    from zsbench.reporting import figures

    assert set(PLOT_KINDS) == set(figures.FIGURES)


def test_cached_only_uses_the_fully_cached_architectures_and_computes_nothing(cli, tmp_path):
    common = ("--proxies", "toy_params,toy_lower", "--benchmark", "toy-bench", "--bootstrap", "0", "--quiet")
    nothing = cli("plot", "costs", "--out", str(tmp_path / "c.png"), "--cached-only", *common)
    assert nothing.exit_code == 2 and "the cache holds no architecture of toy-bench with every selected score" in nothing.stderr
    assert cli("plot", "costs", "--out", str(tmp_path / "c.png"), "--limit", "10", *common).exit_code == 0
    # a third proxy is not cached anywhere: --cached-only must not score it, so nothing is left
    assert cli("plot", "costs", "--out", str(tmp_path / "c.png"), "--cached-only", *common[:1], "toy_params,toy_output",
               *common[2:]).exit_code == 2  # fmt: skip
    report = cli("report", "--out", str(tmp_path / "rep"), "--cached-only", *common)
    assert report.exit_code == 0, report.output
    assert "10 archs of toy-bench (toy): 0 scores computed, 20 from the cache" in report.stderr
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "only those with every score in the cache (--cached-only)" in page


def test_the_ceiling_line_says_when_both_sides_are_means_of_trainings() -> None:
    from types import SimpleNamespace

    from zsbench.reporting.html import ceiling_note

    ceiling = {"spearman": 0.85, "kendall": 0.7, "pairs": 30, "spearman_ci": [0.7, 0.93], "bound": 0.92}
    single = ceiling_note(SimpleNamespace(benchmark="b", noise_ceiling=ceiling))
    assert single.startswith("noise ceiling of b: two trainings of the same networks agree with Spearman 0.850")
    averaged = ceiling_note(SimpleNamespace(benchmark="b", noise_ceiling={**ceiling, "trainings_per_side": 2}))
    assert averaged.startswith("noise ceiling of b: two independent means of 2 trainings of the same networks agree")
