"""Shared fixtures.

The third-party data (NAS-Bench-201 table, NAS-Bench-Macro table, CIFAR-10 JPEGs) is read
from the data root named by ``ZSBENCH_DATA``; CI points it at the shared data folder.
Tests that need it are skipped with a message saying so when it is absent, and fail
instead when ``ZSBENCH_REQUIRE_DATA=1`` (CI sets it, so no data check is skipped there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def _data_root() -> Path | None:
    env = os.environ.get("ZSBENCH_DATA")
    if env:
        return Path(env)
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The shared data root; skips the test (with the reason) when ZSBENCH_DATA is unset or missing."""
    root = _data_root()
    if root is None or not root.is_dir():
        if os.environ.get("ZSBENCH_REQUIRE_DATA") == "1":
            pytest.fail(f"ZSBENCH_REQUIRE_DATA=1 but the data root {root} is missing: set ZSBENCH_DATA")
        pytest.skip("needs the shared data root: set ZSBENCH_DATA to the folder holding nasbench201/, nas_bench_macro/, cifar10/")
    return root


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """One intra-op torch thread for a module (``pytestmark = pytest.mark.usefixtures("one_thread")``): the
    machine is shared, and small networks run several times slower with 2 threads on a loaded CPU."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def host():
    """A plugin host with the first-party indices and a toy macro space, for figures and reports of
    synthetic results (:mod:`report_helpers`)."""
    from report_helpers import results_host

    return results_host()


def _toy_runner(monkeypatch, tmp_path, prefix: tuple[str, ...]):
    """Invoke the command line in-process with the toy plugins (:mod:`toy_plugins`) as the installed ones."""
    from toy_plugins import toy_batch, toy_host
    from typer.testing import CliRunner

    import zsbench
    from zsbench.cli import build_app
    from zsbench.engine import evaluation

    host = toy_host()
    old = zsbench.set_host(host)
    monkeypatch.setattr(evaluation, "make_batch", lambda bench, **_: toy_batch())
    monkeypatch.setenv("ZSBENCH_CACHE", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("ZSBENCH_HYBRIDS", str(tmp_path / "hybrids"))
    runner = CliRunner()
    app = build_app()

    def invoke(*args: str):
        return runner.invoke(app, [*prefix, *args])

    invoke.host = host
    return invoke, old


@pytest.fixture()
def toy_cli(monkeypatch, tmp_path):
    """``toy_cli("hybrid", ...)``: any command, with the toy plugins installed."""
    import zsbench

    invoke, old = _toy_runner(monkeypatch, tmp_path, ())
    yield invoke
    zsbench.set_host(old)


@pytest.fixture()
def cli(monkeypatch, tmp_path):
    """``cli(...)``: ``zsbench evaluate --quiet --bootstrap 0 ...`` with the toy plugins installed."""
    import zsbench

    invoke, old = _toy_runner(monkeypatch, tmp_path, ("evaluate", "--quiet", "--bootstrap", "0"))
    yield invoke
    zsbench.set_host(old)
