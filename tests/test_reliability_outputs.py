"""Output paths are checked before any scoring starts, and a download without a network is one line."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from cli_helpers import one_line_error
from typer.testing import CliRunner

from zsbench.cli import build_app
from zsbench.engine.outputs import OutputPathError, check_output

TOY = ["-p", "toy_params,toy_output", "-b", "toy-bench", "-m", "kendall"]


def test_a_missing_output_folder_is_created(cli, tmp_path):
    target = tmp_path / "new" / "deeper" / "scores.csv"
    result = cli(*TOY, "--limit", "4", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert target.is_file() and len(target.read_text().splitlines()) == 5


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("proc", "cannot create the folder /proc/zsbench-no-such"),
        ("file in the way", "is a file, not a folder; move it away or choose another --output"),
        ("a folder", "is a folder; give a file name inside it"),
        ("no permission", "cannot write there"),
    ],
)
def test_an_unwritable_output_is_one_line_before_any_scoring(cli, tmp_path, monkeypatch, where, expected):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("TOY_CALL_LOG", str(log))
    blocker = tmp_path / "blocker"
    blocker.write_text("keep me", encoding="utf-8")
    (tmp_path / "out.csv").mkdir()
    target = {
        "proc": "/proc/zsbench-no-such/scores.csv",
        "file in the way": str(blocker / "scores.csv"),
        "a folder": str(tmp_path / "out.csv"),
        "no permission": "/proc/scores.csv",  # /proc refuses new files, even to root
    }[where]
    result = cli(*TOY, "--output", target)
    assert result.exit_code == 2
    line = one_line_error(result)
    assert expected in line and target in line
    assert not log.exists(), "nothing may be scored before the output is known to be writable"
    assert blocker.read_text(encoding="utf-8") == "keep me"


def test_check_output_leaves_an_existing_file_and_the_folder_as_they_were(tmp_path):
    existing = tmp_path / "scores.csv"
    existing.write_text("a,b\n", encoding="utf-8")
    before = existing.stat()
    assert check_output(existing) == existing
    after = existing.stat()
    assert existing.read_text(encoding="utf-8") == "a,b\n" and after.st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]
    with pytest.raises(OutputPathError, match=r"the export file /proc/x\.jsonl: cannot write there"):
        check_output("/proc/x.jsonl", "the export file")


def test_a_cache_export_to_an_unwritable_place_is_one_line(tmp_path):
    result = CliRunner().invoke(build_app(), ["cache", "export", "/proc/no-such/x.jsonl.gz", "--cache",
                                              str(tmp_path / "c.sqlite")])
    assert result.exit_code == 2
    line = one_line_error(result)
    assert "the export file /proc/no-such/x.jsonl.gz: cannot create the folder" in line


def test_a_download_without_a_network_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    result = CliRunner().invoke(build_app(), ["data", "download", "cifar10", "--data-root", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0] == "downloading cifar10 (torchvision) ..." and len(lines) == 2  # the progress line, then the error
    line = lines[1]
    assert line.startswith("error: ")
    assert "cannot reach https://www.cs.toronto.edu/" in line and "to download cifar10" in line
    assert "Temporary failure in name resolution" in line
    assert "check the network connection" in line and f"put it in {tmp_path / 'cifar10'}" in line
