"""Channel-Bench-Macro ground truth: ``channel-bench-macro-resnet`` and ``channel-bench-macro-mobilenet``.

Su et al. (BCNet, CVPR 2021; TPAMI 2022) trained every network of two width spaces of
16,384 networks each (spaces ``cbm-resnet`` and ``cbm-mobilenet``) three times on CIFAR-10
(60 epochs, SGD, cosine schedule) and published ``Results_ResNet.json`` and
``Results_MobileNet.json``: per network the three test accuracies (%), their mean and SD, the
params and the FLOPs (multiply-accumulates, the zsbench convention).

The source repository has no licence file, so the tables do not ship with zsbench:
``zsbench data download channel-bench-macro`` fetches both from the public repository at
the pinned commit, checks their sha256 and puts them in ``<data-root>/channel_bench_macro/``,
where :meth:`load` reads them. The accuracy is the mean of the three runs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import zsbench
from zsbench.data import resolve_data_root
from zsbench.downloads import DataFile, file_sha256
from zsbench.errors import DataMissingError
from zsbench.tables import BenchmarkTableError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

GROUP = "channel-bench-macro"
FOLDER = "channel_bench_macro"
COMMIT = "4ff596e814cc88cc9add77ff83fc1a2f05ee1fef"
BASE_URL = f"https://raw.githubusercontent.com/xiusu/Channel-Bench-Macro/{COMMIT}"
RESNET_FILE = DataFile(
    GROUP, f"{FOLDER}/Results_ResNet.json", f"{BASE_URL}/Results_ResNet.json",
    "bf13bcaea3f2076f2c1bfbf5c2fee044aafe0385fae6a0d64c433b1d7f5a7520",
)  # fmt: skip
MOBILENET_FILE = DataFile(
    GROUP, f"{FOLDER}/Results_MobileNet.json", f"{BASE_URL}/Results_MobileNet.json",
    "f640474d8ff3ff2231d0c45986bb0f10af291545316342fb009952e7641908e0",
)  # fmt: skip
DATA_FILES = (RESNET_FILE, MOBILENET_FILE)
LICENCE = (
    "none stated (the source repository has no licence file): not shipped; "
    f"`zsbench data download {GROUP}` fetches it from github.com/xiusu/Channel-Bench-Macro at commit {COMMIT[:7]}"
)
CITATION = (
    "Su et al., BCNet: Searching for Network Width with Bilaterally Coupled Network, CVPR 2021; "
    "Su et al., Searching for Network Width With Bilaterally Coupled Network, IEEE TPAMI 2022"
)
RUNS = 3


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int, sha256: str) -> dict[str, dict[str, Any]]:
    """The parsed table (cached per file version: the engine asks for it more than once)."""
    if file_sha256(Path(path)) != sha256:
        raise BenchmarkTableError(
            f"{path}: not the pinned Channel-Bench-Macro file (sha256 differs); fetch it again with `zsbench data download {GROUP}`"
        )
    with open(path) as handle:
        return json.load(handle)


class ChannelBenchMacroBenchmark(zsbench.Benchmark):
    """Base of the two Channel-Bench-Macro benchmarks (mean test accuracy of 3 runs, CIFAR-10)."""

    file: ClassVar[DataFile]
    dataset = "cifar10"
    num_classes = 10
    input_size = 32
    licence = LICENCE
    citation = CITATION

    def _table(self, data_root: Path | str | None) -> dict[str, dict[str, Any]]:
        root = resolve_data_root(data_root)
        fetch = f"fetch it with `zsbench data download {GROUP}` (not shipped: its source has no licence)"
        if root is None:
            raise DataMissingError(f"{self.name} needs {self.file.path} under a data root: set ZSBENCH_DATA or --data-root, then {fetch}")
        path = self.file.target(root)
        if not path.is_file():
            raise DataMissingError(f"{self.name} needs {path}: {fetch}")
        stat = path.stat()
        return _read(str(path), stat.st_mtime_ns, stat.st_size, self.file.sha256)

    def load(self, data_root: Path | None = None) -> pd.DataFrame:
        """``arch`` (the 7-digit key), ``accuracy`` (the table's ``mean``, % : the mean of the
        three runs), ``params`` and ``flops`` (MACs), in the table's order.

        Raises:
            DataMissingError: the file is not under the data root (the message says how to fetch it).
            BenchmarkTableError: the file is not the pinned one.
        """
        import pandas as pd

        table = self._table(data_root)
        return pd.DataFrame(
            {
                "arch": list(table),
                "accuracy": [float(row["mean"]) for row in table.values()],
                "params": [int(row["params"]) for row in table.values()],
                "flops": [float(row["flops"]) for row in table.values()],
            }
        )

    def runs(self, data_root: Path | None = None) -> pd.DataFrame:
        """The three single-run accuracies of every network (columns ``arch``, ``run1`` .. ``run3``)."""
        import pandas as pd

        table = self._table(data_root)
        frame = pd.DataFrame([row["acc"] for row in table.values()], columns=[f"run{i + 1}" for i in range(RUNS)])
        frame.insert(0, "arch", list(table))
        return frame

    def noise_ceiling(self, data_root: Path | None = None) -> dict[str, Any]:
        """Spearman and Kendall between two single training runs (the first and second) over
        all 16,384 networks, with a bootstrap interval; the bound on a proxy's correlation
        accounts for the accuracy being the mean of three runs."""
        from zsbench.builds import retrain_agreement

        runs = self.runs(data_root)
        agreement = retrain_agreement(runs["run1"].tolist(), runs["run2"].tolist(), runs_averaged=RUNS)
        return {**agreement, "note": f"two single trainings of {agreement['pairs']:,} networks; the accuracy is the mean of three"}


class ChannelBenchMacroResNet(ChannelBenchMacroBenchmark):
    """Channel-Bench-Macro, ResNet space."""

    name = "channel-bench-macro-resnet"
    space = "cbm-resnet"
    file = RESNET_FILE
    data_files = (RESNET_FILE,)
    description = "Channel-Bench-Macro ResNet widths, CIFAR-10 test accuracy, mean of 3 runs (16,384 networks; download)"


class ChannelBenchMacroMobileNet(ChannelBenchMacroBenchmark):
    """Channel-Bench-Macro, MobileNet space."""

    name = "channel-bench-macro-mobilenet"
    space = "cbm-mobilenet"
    file = MOBILENET_FILE
    data_files = (MOBILENET_FILE,)
    description = "Channel-Bench-Macro MobileNet widths, CIFAR-10 test accuracy, mean of 3 runs (16,384 networks; download)"


@zsbench.hookimpl
def register_benchmarks(register: Callable[[Any], None]) -> None:
    """Provide ``channel-bench-macro-resnet`` and ``channel-bench-macro-mobilenet``."""
    register(ChannelBenchMacroResNet())
    register(ChannelBenchMacroMobileNet())
