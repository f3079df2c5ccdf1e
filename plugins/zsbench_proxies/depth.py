"""depth (naive proxy): weight layers on the longest input-to-output path, via zsbench.costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Depth(zsbench.Proxy):
    """Conv/linear layers on the longest path of the autograd graph of one forward
    (``zsbench.costs.count_depth``): ResNet-18 has depth 18; a residual block counts its
    main branch."""

    name = "depth"
    higher_is_better = True
    version = "1"
    description = "weight layers on the longest input-to-output path (naive baseline)"
    input_kind = "batch-shape"
    bn_mode = "eval"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Depth in weight layers."""
        from zsbench.costs import count_depth

        return float(count_depth(model, batch.input_shape))

    def requires(self) -> zsbench.PassRequest:
        """No product: it reads the shared model, whose weights and structure no pass changes."""
        from zsbench_proxies._passes import request

        return request()

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """:meth:`score` on the shared model."""
        return self.score(model, batch)


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Depth`."""
    register(Depth())
