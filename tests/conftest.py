"""Shared fixtures.

The third-party data (NAS-Bench-201 table, NAS-Bench-Macro table, CIFAR-10 JPEGs) is read
from the data root named by ``ZSBENCH_DATA``; CI points it at the shared data folder.
Tests that need it are skipped with a message saying so when it is absent, and fail
instead when ``ZSBENCH_REQUIRE_DATA=1`` (CI sets it, so no data check is skipped there).
"""

from __future__ import annotations

import os
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
