"""The report opens in a real browser: headless Chromium loads every image and logs no error.

Skipped, with the reason, when no Chromium is installed (Debian/Ubuntu: ``apt-get install
chromium``; CI installs it when it can); ``tests/check_report_in_browser.py`` runs the same
check on any report.
"""

from __future__ import annotations

import pytest
from report_helpers import CHROMIUM, checker, needs_chromium, synthetic_result

from zsbench.reporting.html import write_report


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
