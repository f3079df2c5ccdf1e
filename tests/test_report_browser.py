"""The report opens in a real browser: headless Chromium loads every image and logs no error.

Skipped, with the reason, when no Chromium is installed (Debian/Ubuntu: ``apt-get install
chromium``; CI installs it when it can); ``tests/check_report_in_browser.py`` runs the same
check on any report.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from test_plotting import host as host  # the fixture: metrics and a macro space
from test_plotting import synthetic_result

from zsbench.reporting.html import write_report

SCRIPT = Path(__file__).resolve().parent / "check_report_in_browser.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_report_in_browser", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


checker = _checker()
CHROMIUM = checker.find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on PATH (apt-get install chromium, or set ZSBENCH_CHROMIUM); "
    "tests/check_report_in_browser.py runs the same check by hand",
)


@pytest.mark.slow
@needs_chromium
def test_report_renders_in_chromium_with_every_image_and_no_console_error(host, tmp_path):
    first = synthetic_result(host, ("snip", "synflow", "perfect"), archs=40)
    second = synthetic_result(host, ("snip", "synflow", "perfect"), archs=40, seed=1)
    second.benchmark = "toy-bench-2"
    page = write_report([first, second], tmp_path / "report", host=host, kinds=["indices", "costs"], dpi=50)
    check = checker.check_page(page, CHROMIUM)
    assert check.problems() == []
    assert len(check.images) == 4 and all(width > 0 for _, _, width in check.images)
    assert check.title == "zsbench report: toy-bench, toy-bench-2"


@needs_chromium
def test_the_check_sees_a_missing_image_and_a_console_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><title>t</title></head><body><img src="gone.png"><script>console.error("boom")</script></body></html>'
    )
    check = checker.check_page(page, CHROMIUM)
    assert check.broken_images == ["gone.png"]
    assert any("boom" in line for line in check.console)
    assert any("ERR_FILE_NOT_FOUND" in line for line in check.console)
    assert not check.ok
