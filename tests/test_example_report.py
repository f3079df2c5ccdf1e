"""The example report in benchmarks/example-report is complete, self-contained and small: every
figure it shows is there at the size the page says, nothing points outside the folder, and
the PNGs stay a few hundred kilobytes; in Chromium (when installed) it loads cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_helpers import CHROMIUM, checker, png_size

EXAMPLE = Path(__file__).resolve().parents[1] / "benchmarks" / "example-report"
PAGE = EXAMPLE / "index.html"


def test_every_figure_is_there_at_the_size_the_page_says():
    page = PAGE.read_text(encoding="utf-8")
    images = re.findall(r'<img src="([^"]+)"[^>]*width="(\d+)" height="(\d+)"', page)
    assert {Path(src).stem for src, _, _ in images} >= {"indices", "scatter", "budgets", "costs", "agreement", "hybrid"}
    for src, width, height in images:
        assert png_size(EXAMPLE / src) == (int(width), int(height))
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert "/work/" not in page and "/tmp/" not in page
    total = sum(path.stat().st_size for path in EXAMPLE.rglob("*.png"))
    assert total < 450_000, f"the example's PNGs take {total} bytes; keep them small (--dpi)"


def test_the_readme_shows_the_report_it_describes():
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    page = PAGE.read_text(encoding="utf-8")
    for src in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme):
        assert (EXAMPLE / src).is_file(), src
    archs = re.search(r"<td>architectures</td><td>(\d+)", page).group(1)
    assert f"{archs} " in readme  # the README states how many architectures the page covers


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH; tests/check_report_in_browser.py runs this check by hand")
def test_the_example_loads_cleanly_in_chromium():
    check = checker.check_page(PAGE, CHROMIUM)
    assert check.problems() == []
