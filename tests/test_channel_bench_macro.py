"""Channel-Bench-Macro benchmarks and ``zsbench data download channel-bench-macro``.

The download is tested against a local copy served as the source (a local http.server and a
file:// URL; no network): the files land verified, a second run fetches nothing, and a file
whose bytes do not match the pinned sha256 is refused in one line with nothing left behind.
Tests that need the real tables read the shared copy (ZSBENCH_DATA)."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner
from zsbench_benchmarks import channel_bench_macro as cbm

import zsbench
from zsbench.cli import build_app
from zsbench.downloads import DataFile, DownloadError, fetch_data_files, file_sha256
from zsbench.errors import DataMissingError

NAMES = ("Results_ResNet.json", "Results_MobileNet.json")


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A folder holding two small files and the DataFile entries pinning them."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "a.json").write_text('{"x": 1}')
    (folder / "b.json").write_text('{"y": 2}')
    return folder


def entries(folder: Path) -> list[DataFile]:
    return [DataFile("toy", f"toy/{n}", f"http://unused.invalid/{n}", file_sha256(folder / n)) for n in ("a.json", "b.json")]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server of a folder (quiet), as (base URL, folder)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_over_http_verifies_and_does_not_fetch_twice(tmp_path: Path, mirror: Path, server) -> None:
    base, served = server
    for name in ("a.json", "b.json"):
        shutil.copy(mirror / name, served / name)
    root = tmp_path / "root"
    lines: list[str] = []
    paths = fetch_data_files(entries(mirror), root, source=base, report=lines.append)
    assert paths == [root / "toy" / "a.json", root / "toy" / "b.json"]
    assert [p.read_bytes() for p in paths] == [(mirror / n).read_bytes() for n in ("a.json", "b.json")]
    assert all("fetched from http://127.0.0.1" in line and "sha256 verified" in line for line in lines)
    (served / "a.json").unlink()  # a second run must not need the source
    lines.clear()
    fetch_data_files(entries(mirror), root, source=base, report=lines.append)
    assert all("already there" in line for line in lines)
    assert sorted(p.name for p in (root / "toy").iterdir()) == ["a.json", "b.json"]  # no temporary file left


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path: Path, mirror: Path, server) -> None:
    base, served = server
    (served / "a.json").write_text('{"x": 2}')  # not the pinned bytes
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DownloadError) as info:
        fetch_data_files(entries(mirror), root, source=base)
    message = str(info.value)
    assert "\n" not in message and "sha256" in message and file_sha256(mirror / "a.json") in message
    assert list(root.iterdir()) == []  # neither the file, a temporary one, nor the folder made for it


def test_a_corrupted_copy_under_the_root_is_replaced(tmp_path: Path, mirror: Path) -> None:
    root = tmp_path / "root"
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "a.json").write_text("truncated")
    lines: list[str] = []
    fetch_data_files(entries(mirror), root, source=mirror.as_uri(), report=lines.append)
    assert (root / "toy" / "a.json").read_bytes() == (mirror / "a.json").read_bytes()
    assert lines[0].startswith("toy/a.json: replaced from file://")


def test_an_unreachable_source_is_one_line(tmp_path: Path, mirror: Path) -> None:
    root = tmp_path / "root"
    with pytest.raises(DownloadError, match=r"could not fetch file://.*a\.json") as info:
        fetch_data_files(entries(mirror), root, source=str(tmp_path / "nowhere"))
    assert "\n" not in str(info.value) and not root.exists()


# -- the real files, from a local copy ---------------------------------------------------------


@pytest.fixture(scope="module")
def shared(data_root: Path) -> Path:
    return data_root / "channel_bench_macro"


@pytest.mark.data
def test_download_command_fetches_both_pinned_files(tmp_path: Path, shared: Path, server) -> None:
    base, served = server
    for name in NAMES:
        shutil.copy(shared / name, served / name)
    root = tmp_path / "root"
    runner = CliRunner()
    result = runner.invoke(build_app(), ["data", "download", "channel-bench-macro", "--data-root", str(root), "--source", base])
    assert result.exit_code == 0, result.output
    assert "channel-bench-macro: 2 files" in result.output
    for name in NAMES:
        assert (root / "channel_bench_macro" / name).read_bytes() == (shared / name).read_bytes()
    host = zsbench.PluginHost(load=["channel_bench_macro", "channel_bench_macro_benchmarks"], strict=True)
    assert len(host.benchmarks.get("channel-bench-macro-resnet").load(root)) == 16_384


@pytest.mark.data
def test_download_command_refuses_a_mismatching_copy(tmp_path: Path, shared: Path, server) -> None:
    base, served = server
    shutil.copy(shared / NAMES[1], served / NAMES[1])
    (served / NAMES[0]).write_bytes((shared / NAMES[0]).read_bytes()[:-10])  # a truncated copy
    root = tmp_path / "root"
    root.mkdir()
    result = CliRunner().invoke(build_app(), ["data", "download", "channel-bench-macro", "--data-root", str(root), "--source", base])
    assert result.exit_code == 1
    error = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "sha256" in error[0] and "Results_ResNet.json" in error[0]
    assert all(".partial" not in p.name and p.name != NAMES[0] for p in root.rglob("*"))


def test_the_pinned_urls_are_the_public_repository_at_one_commit() -> None:
    for item, name in zip(cbm.DATA_FILES, NAMES, strict=True):
        assert item.url == f"https://raw.githubusercontent.com/xiusu/Channel-Bench-Macro/{cbm.COMMIT}/{name}"
        assert item.path == f"channel_bench_macro/{name}" and len(item.sha256) == 64


@pytest.mark.data
def test_the_shared_copy_is_the_pinned_one(shared: Path) -> None:
    assert [file_sha256(shared / n) for n in NAMES] == [f.sha256 for f in cbm.DATA_FILES]


# -- the benchmarks ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host() -> zsbench.PluginHost:
    return zsbench.PluginHost(load=["channel_bench_macro", "channel_bench_macro_benchmarks"], strict=True)


def test_without_the_files_the_benchmarks_say_how_to_get_them(tmp_path: Path, host, monkeypatch) -> None:
    monkeypatch.delenv("ZSBENCH_DATA", raising=False)
    for name in ("channel-bench-macro-resnet", "channel-bench-macro-mobilenet"):
        bench = host.benchmarks.get(name)
        for root in (tmp_path, None):
            with pytest.raises(DataMissingError) as info:
                bench.load(root)
            assert "\n" not in str(info.value) and "zsbench data download channel-bench-macro" in str(info.value)


def test_listing_shows_licence_status_and_citation(host) -> None:
    for name in ("channel-bench-macro-resnet", "channel-bench-macro-mobilenet"):
        bench = host.benchmarks.get(name)
        assert "no licence file" in bench.licence and "not shipped" in bench.licence
        assert "BCNet" in bench.citation and "TPAMI 2022" in bench.citation
    result = CliRunner().invoke(build_app(), ["benchmarks", "channel-bench-macro-*", "--json"])
    assert result.exit_code == 0 and "channel-bench-macro-resnet" in result.output and "cbm-mobilenet" in result.output


@pytest.mark.data
@pytest.mark.parametrize(("name", "space", "file"), [("channel-bench-macro-resnet", "cbm-resnet", NAMES[0]),
                                                     ("channel-bench-macro-mobilenet", "cbm-mobilenet", NAMES[1])])  # fmt: skip
def test_benchmark_table_and_noise_ceiling(host, data_root: Path, name: str, space: str, file: str) -> None:
    import json

    bench = host.benchmarks.get(name)
    assert bench.space == space
    table = bench.load(data_root)
    raw = json.loads((data_root / "channel_bench_macro" / file).read_text())
    assert list(table.columns) == ["arch", "accuracy", "params", "flops"] and len(table) == 16_384
    assert set(table["arch"]) == set(host.spaces.get(space).enumerate())
    means = np.array([np.mean(raw[a]["acc"]) for a in table["arch"]])
    np.testing.assert_allclose(table["accuracy"].to_numpy(), means, atol=1e-4)  # accuracy = the mean of the 3 runs
    ceiling = bench.noise_ceiling(data_root)
    runs = bench.runs(data_root)
    assert ceiling["pairs"] == 16_384 and ceiling["runs_averaged"] == 3
    assert ceiling["spearman"] == pytest.approx(stats.spearmanr(runs["run1"], runs["run2"]).statistic, abs=1e-4)
    low, high = ceiling["spearman_ci"]
    assert low < ceiling["spearman"] < high and 0.7 < ceiling["spearman"] < 0.85
    rho = ceiling["spearman"]
    assert ceiling["bound"] == pytest.approx((3 * rho / (1 + 2 * rho)) ** 0.5, abs=1e-3)
