"""NAS-Bench-201 ground truth: ``nb201-cifar10``, ``nb201-cifar100``, ``nb201-imagenet16``, and the
same three tables on zero-cost-nas's build of the network (``nb201-zc-cifar10``, ...).

Source: ``data/nb201_accuracy.parquet`` in this package (no data root needed), the official
NAS-Bench-201 / NATS-Bench-TSS 200-epoch test accuracies (%, mean over seeds) of all 15,625
cells, plus the CIFAR-10 200-epoch validation accuracies and the 12-epoch accuracies of the
three datasets (see ``data/NOTICE`` for provenance, licence and citation). The architecture
key is the cell string ``arch_str``; costs are computed with the ``nb201`` search space.

The ``nb201-zc-*`` benchmarks have the same accuracies; their networks are built by the
``nb201-zc`` space, the build zero-cost-nas scored its published proxies on (see
``zsbench_spaces.nb201_zc``), so proxies are computed, and cached, on that build instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import zsbench
from zsbench.tables import read_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLE_PATH = Path(__file__).parent / "data" / "nb201_accuracy.parquet"
LICENCE = "MIT (NAS-Bench-201 / NATS-Bench data, Xuanyi Dong; extracts by BayesWatch, MIT)"
CITATION = (
    "Dong & Yang, NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture Search, ICLR 2020; "
    "Dong et al., NATS-Bench, TPAMI 2021"
)


def nb201_table(columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The shipped NAS-Bench-201 table: ``arch_index``, ``arch_str`` and the requested columns
    (all columns when none are named; see ``data/NOTICE`` for what each means)."""
    import pandas as pd

    if not columns:
        return pd.read_parquet(TABLE_PATH)
    return read_table(TABLE_PATH, ("arch_index", "arch_str", *columns), "NAS-Bench-201 table")


class NasBench201(zsbench.Benchmark):
    """One NAS-Bench-201 dataset: 200-epoch test accuracy of every cell."""

    space = "nb201"
    licence = LICENCE
    citation = CITATION
    accuracy_column: ClassVar[str]

    def load(self, data_root: Path | None = None) -> pd.DataFrame:
        """``arch`` (the cell string) and ``accuracy`` (%) of all 15,625 cells, from the
        shipped table (``data_root`` is not used: only images live there)."""
        table = read_table(TABLE_PATH, ("arch_str", self.accuracy_column), f"{self.name} table")
        return table.rename(columns={"arch_str": "arch", self.accuracy_column: "accuracy"})[["arch", "accuracy"]]


class NasBench201Cifar10(NasBench201):
    """NAS-Bench-201 on CIFAR-10."""

    name = "nb201-cifar10"
    dataset = "cifar10"
    num_classes = 10
    input_size = 32
    accuracy_column = "cifar10_test_200ep"
    description = "NAS-Bench-201, CIFAR-10 test accuracy after 200 epochs (15,625 cells; no per-seed data: noise ceiling unknown)"


class NasBench201Cifar100(NasBench201):
    """NAS-Bench-201 on CIFAR-100."""

    name = "nb201-cifar100"
    dataset = "cifar100"
    num_classes = 100
    input_size = 32
    accuracy_column = "cifar100_test_200ep"
    description = "NAS-Bench-201, CIFAR-100 test accuracy after 200 epochs (15,625 cells; images: zsbench data download cifar100)"


class NasBench201ImageNet16(NasBench201):
    """NAS-Bench-201 on ImageNet16-120."""

    name = "nb201-imagenet16"
    dataset = "ImageNet16-120"
    num_classes = 120
    input_size = 16
    accuracy_column = "imagenet16_120_test_200ep"
    description = "NAS-Bench-201, ImageNet16-120 test accuracy after 200 epochs (15,625 cells)"


def zero_cost_nas_build(benchmark: type[NasBench201]) -> type[NasBench201]:
    """The same benchmark with its networks built by the ``nb201-zc`` space (zero-cost-nas's build)."""
    return type(
        f"{benchmark.__name__}ZeroCostNas",
        (benchmark,),
        {
            "__doc__": f"{benchmark.__doc__.rstrip('.')}, networks in zero-cost-nas's build.",
            "name": benchmark.name.replace("nb201-", "nb201-zc-", 1),
            "space": "nb201-zc",
            "description": benchmark.description.replace("NAS-Bench-201,", "NAS-Bench-201 in zero-cost-nas's network build,", 1),
        },
    )


NasBench201ZcCifar10 = zero_cost_nas_build(NasBench201Cifar10)
NasBench201ZcCifar100 = zero_cost_nas_build(NasBench201Cifar100)
NasBench201ZcImageNet16 = zero_cost_nas_build(NasBench201ImageNet16)


@zsbench.hookimpl
def register_benchmarks(register: Callable[[Any], None]) -> None:
    """Provide the three NAS-Bench-201 benchmarks, and each on zero-cost-nas's build."""
    register(NasBench201Cifar10())
    register(NasBench201Cifar100())
    register(NasBench201ImageNet16())
    register(NasBench201ZcCifar10())
    register(NasBench201ZcCifar100())
    register(NasBench201ZcImageNet16())
