"""NAS-Bench-Macro ground truth: ``nasbench-macro-cifar10``.

Source: ``data/nas_bench_macro_cifar10.parquet`` in this package, no data root needed (Su et
al., CVPR 2021, Apache-2.0; see ``data/NOTICE``): a MobileNetV2-style macro space, every network trained
three times on CIFAR-10. Only the 3,969 canonical encodings are used (the other rows are
copies of their canonical network); accuracy is the mean of the three runs, ``params`` and
``flops`` come from the table, ``depth`` is computed with the ``nasbench-macro`` space.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zsbench
from zsbench.tables import read_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLE_PATH = Path(__file__).parent / "data" / "nas_bench_macro_cifar10.parquet"
COLUMNS = ("arch", "is_canonical", "mean_acc", "params", "flops")


class NasBenchMacroCifar10(zsbench.Benchmark):
    """NAS-Bench-Macro on CIFAR-10 (canonical networks, mean accuracy of 3 runs)."""

    name = "nasbench-macro-cifar10"
    space = "nasbench-macro"
    dataset = "cifar10"
    num_classes = 10
    input_size = 32
    description = "NAS-Bench-Macro, CIFAR-10 test accuracy, mean of 3 runs (3,969 networks)"
    licence = "Apache-2.0 (Copyright 2021 Xiu Su)"
    citation = "Su et al., Prioritized Architecture Sampling with Monto-Carlo Tree Search, CVPR 2021"

    def load(self, data_root: Path | None = None) -> pd.DataFrame:
        """``arch`` (8-digit encoding), ``accuracy`` (%), ``params`` and ``flops``, from the
        shipped table (``data_root`` is not used: only images live there)."""
        table = read_table(TABLE_PATH, COLUMNS, f"{self.name} table")
        table = table[table["is_canonical"].astype(bool)]
        table = table.rename(columns={"mean_acc": "accuracy"})[["arch", "accuracy", "params", "flops"]]
        return table.reset_index(drop=True)

    def noise_ceiling(self, data_root: Path | None = None) -> dict[str, Any]:
        """Spearman and Kendall between two single training runs (``test_acc_run0`` and
        ``test_acc_run1``) over the canonical networks, with a bootstrap interval; the bound
        on a proxy's correlation accounts for the accuracy being the mean of three runs."""
        from zsbench.builds import retrain_agreement

        table = read_table(TABLE_PATH, ("is_canonical", "test_acc_run0", "test_acc_run1"), f"{self.name} table")
        table = table[table["is_canonical"].astype(bool)]
        # The benchmark's accuracy is the mean of three runs: its reliability, and so the bound, is higher.
        agreement = retrain_agreement(table["test_acc_run0"].tolist(), table["test_acc_run1"].tolist(), runs_averaged=3)
        return {**agreement, "note": f"two single trainings of {agreement['pairs']:,} networks; the accuracy is the mean of three"}


@zsbench.hookimpl
def register_benchmarks(register: Callable[[Any], None]) -> None:
    """Provide ``nasbench-macro-cifar10``."""
    register(NasBenchMacroCifar10())
