"""Every table of the command line fits 100 columns by default; ``--wide`` shows the columns left
out, ``--json`` holds everything. Run as a new user would, with ``COLUMNS=100``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rich.table import Table

from zsbench.cli._render import TABLE_WIDTH, fit_columns, natural_width

#: Score columns with the long names real proxies and hybrids have, more of them than fit.
EXTRA = [f"a_rather_long_proxy_name_{i:02d}" for i in range(12)]


def widest(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines())


@pytest.fixture()
def cli(toy_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    return toy_cli


@pytest.fixture()
def score_file(tmp_path) -> tuple[str, str]:
    """A score file of the toy space's 32 networks with twelve long-named score columns, and the
    ``--direction`` that declares them."""
    rng = np.random.default_rng(0)
    archs = [f"w{w}-d{d}" for w in range(2, 10) for d in range(1, 5)]
    accuracy = np.array([w * 10 + d for w in range(2, 10) for d in range(1, 5)], dtype=float)
    frame = pd.DataFrame({"arch": archs, "accuracy": accuracy, "flops": accuracy * 3.0, "params": accuracy[::-1].copy()})
    frame["depth"] = [float(d) for w in range(2, 10) for d in range(1, 5)]
    for i, name in enumerate(EXTRA):
        frame[name] = accuracy + rng.normal(0, 5 + i, len(archs))
    path = tmp_path / "scores.csv"
    frame.to_csv(path, index=False)
    return str(path), ",".join(f"{name}=higher" for name in EXTRA)


def test_fit_columns_leaves_out_the_last_columns_and_names_them() -> None:
    def table() -> Table:
        view = Table(title="t")
        for i in range(20):
            view.add_column(f"column_{i:02d}")
        view.add_row(*[f"{i:.3f}" for i in range(20)])
        return view

    full = table()
    assert natural_width(full) > TABLE_WIDTH
    assert fit_columns(full, keep=2, wide=True) is full and len(full.columns) == 20
    fitted = fit_columns(table(), keep=2)
    assert natural_width(fitted) <= TABLE_WIDTH
    shown = [c.header for c in fitted.columns]
    assert shown == [f"column_{i:02d}" for i in range(len(shown))] and 2 < len(shown) < 20
    left_out = [f"column_{i:02d}" for i in range(len(shown), 20)]
    assert fitted.caption == f"--wide shows {len(left_out)} more columns: {', '.join(left_out)}"
    # the first `keep` columns stay even where they alone are too wide
    assert len(fit_columns(table(), keep=20).columns) == 20


def test_hybrid_fits_100_columns_and_wide_shows_every_index(cli, score_file) -> None:
    path, direction = score_file
    args = ["hybrid", "--scores", path, "--direction", direction, "--max-size", "1", "--bootstrap", "0", "--index", "spearman"]
    narrow = cli(*args)
    assert narrow.exit_code == 0, narrow.output
    assert widest(narrow.stdout) <= 100 and "--wide shows" in narrow.stdout and "spearman" in narrow.stdout
    wide = cli(*args, "--wide")
    assert wide.exit_code == 0, wide.output
    assert widest(wide.stdout) > 100 and "--wide shows" not in wide.stdout
    assert all(name in wide.stdout for name in ("kendall", "pearson", "mbr_params", "mbr_depth"))
    payload = json.loads(cli(*args, "--json").stdout)
    assert {"kendall", "pearson", "mbr_depth"} <= set(payload["results"][0])


def test_analyze_importance_fits_100_columns_and_wide_shows_every_target(cli, score_file) -> None:
    path, direction = score_file
    args = ["analyze", "importance", "--scores", path, "--space", "toy", "--direction", direction, "--folds", "2"]
    narrow = cli(*args)
    assert narrow.exit_code == 0, narrow.output
    assert widest(narrow.stdout) <= 100 and "--wide shows" in narrow.stdout and "accuracy" in narrow.stdout
    left_out = narrow.stdout.split("--wide shows", 1)[1]
    assert EXTRA[-1] in left_out and EXTRA[0] not in left_out
    wide = cli(*args, "--wide")
    assert wide.exit_code == 0, wide.output
    assert all(name in wide.stdout for name in EXTRA) and widest(wide.stdout) > 100
    payload = json.loads(cli(*args, "--json").stdout)
    assert set(payload["importance"]) == {"accuracy", *EXTRA}


def test_the_transfer_table_beside_published_figures_fits_100_columns(cli) -> None:
    args = ["evaluate", "--benchmark", "toy-bench", "--proxies", "toy_params", "--quiet", "--published", "nbzero"]
    narrow = cli(*args)
    assert narrow.exit_code == 0, narrow.output
    assert widest(narrow.stdout) <= 100 and "--wide shows" in narrow.stdout
    # the columns' agreement, one row per pair: every pair is there, none cut
    assert "+0.40 (11)" in narrow.stdout
    wide = cli(*args, "--wide")
    assert wide.exit_code == 0, wide.output
    assert widest(wide.stdout) > 100 and "nbzero:MB" in wide.stdout and "--wide shows" not in wide.stdout
