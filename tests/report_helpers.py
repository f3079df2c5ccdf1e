"""Synthetic evaluation results for the figure and report tests, a PNG's size, and the headless
Chromium check of a report (a module, not a test file: the tests import it)."""

from __future__ import annotations

import importlib
import importlib.util
import struct
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zsbench
from zsbench.engine.evaluation import EvaluationResult, score_column
from zsbench.engine.indices import compute_with_interval, entry_labels, entry_roles

METRICS = ("pearson", "kendall", "spearman", "br_at_k", "p_at_k", "mbr_flops", "mbr_params", "mbr_depth")
SIXTEEN = (
    "grad_norm", "plain", "snip", "grasp", "fisher", "synflow", "jacob_cov", "ntk",
    "zen", "flops", "params", "depth", "naswot", "l2_norm", "zico", "perfect",
)  # fmt: skip


class _MacroSpace(zsbench.SearchSpace):
    """Architectures ``w1-d1_w2-d2_w3-d3``: three stages of output width w and depth d."""

    name = "toy-macro"

    def size(self) -> int:
        return 10**6

    def parse(self, arch: str) -> list[tuple[int, int]]:
        return [tuple(int(v) for v in stage.split("-")) for stage in arch.split("_")]

    def encode(self, spec: list[tuple[int, int]]) -> str:
        return "_".join(f"{w}-{d}" for w, d in spec)

    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        raise NotImplementedError

    def build(self, arch, num_classes=10, *, seed=None, input_size=None):  # pragma: no cover - never built
        raise NotImplementedError

    def cost(self, arch, num_classes=10, input_size=None):  # pragma: no cover - costs come with the table
        raise NotImplementedError

    def features(self, arch: str) -> dict[str, float]:
        feats = {}
        for i, (width, depth) in enumerate(self.parse(arch), start=1):
            feats[f"S{i}_out"], feats[f"S{i}_depth"] = float(width), float(depth)
        return feats


class _Plugin:
    @staticmethod
    @zsbench.hookimpl
    def register_search_spaces(register) -> None:
        register(_MacroSpace())


def results_host() -> zsbench.PluginHost:
    """A plugin host with the first-party indices and the toy macro space (the ``host`` fixture of conftest)."""
    host = zsbench.PluginHost(entry_points=False)
    host.register_plugin(_Plugin(), name="toy")
    for metric in METRICS:
        host.register_plugin(importlib.import_module(f"zsbench_metrics.{metric}"), name=metric)
    return host


def synthetic_result(host: zsbench.PluginHost, proxies: tuple[str, ...], archs: int = 120, seed: int = 0):
    """A result whose ``perfect`` proxy scores each architecture by its accuracy; the others
    are accuracy plus noise of growing size, one spread over many decades."""
    rng = np.random.default_rng(seed)
    widths = rng.choice([16, 32, 64, 128], size=(archs, 3))
    depths = rng.integers(1, 6, size=(archs, 3))
    arch = ["_".join(f"{w}-{d}" for w, d in zip(ws, ds, strict=True)) for ws, ds in zip(widths, depths, strict=True)]
    flops = (widths**2 * depths).sum(axis=1) * 1e3
    params = (widths * depths).sum(axis=1) * 1e3
    depth = depths.sum(axis=1).astype(float)
    accuracy = 60 + 30 * (np.log(flops) - np.log(flops).min()) / np.ptp(np.log(flops)) + rng.normal(0, 2, archs)
    scores = pd.DataFrame({"arch": arch, "accuracy": accuracy, "flops": flops, "params": params, "depth": depth})
    for position, name in enumerate(proxies):
        if name == "perfect":
            values = accuracy.copy()
        elif position == 5:
            values = np.exp(accuracy / 2 + rng.normal(0, 1, archs))  # spread over > 10 decades
        else:
            values = accuracy + rng.normal(0, 2 + 3 * position, archs)
        if position == 1:
            values[:3] = np.nan  # failures are left out of the panel
        scores[score_column(name)] = values
    costs = scores[["flops", "params", "depth"]]
    resamples = rng.integers(0, archs, size=(5, archs))
    options = {"br_at_k": {"k": (0.05, 0.1)}, "p_at_k": {"k": (0.05, 0.1)}}
    options.update({m: {"budgets": 5} for m in METRICS if m.startswith("mbr")})
    rows = []
    for name in proxies:
        row = {"proxy": name}
        for metric in METRICS:
            data = zsbench.MetricInput(
                scores=scores[score_column(name)].to_numpy(float),
                accuracy=accuracy,
                higher_is_better=True,
                costs=costs,
                options=options.get(metric, {}),
            )
            row.update(compute_with_interval(host.metrics.get(metric), data, resamples))
        row["failures"] = int(scores[score_column(name)].isna().sum())
        row["seconds_per_arch"] = 0.01
        rows.append(row)
    summary = pd.DataFrame(rows)
    return EvaluationResult(
        benchmark="toy-bench",
        space="toy-macro",
        archs=archs,
        summary=summary,
        entry_roles=entry_roles([host.metrics.get(m) for m in METRICS], list(summary.columns)),
        entry_labels=entry_labels([host.metrics.get(m) for m in METRICS], list(summary.columns)),
        settings={"metric_options": options},
        scores=scores,
        failures=pd.DataFrame(columns=["arch", "proxy", "error"]),
        index_names=list(METRICS),
        noise_ceiling={"spearman": 0.8, "kendall": 0.6, "pairs": 30},
    )


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


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
