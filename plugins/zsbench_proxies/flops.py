"""flops (naive proxy): multiply-accumulates of one forward pass, via zsbench.costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Flops(zsbench.Proxy):
    """MACs of one eval-mode forward on one image of the batch's (C, H, W).

    ``zsbench.costs.count_flops``: FlopCounterMode's count halved (conv, linear, matmul
    only; BN, activations and pooling are not counted), so it equals the ``flops`` cost
    column the mBR indices use.
    """

    name = "flops"
    higher_is_better = True
    version = "1"
    description = "multiply-accumulates of one forward on one image (naive baseline)"
    input_kind = "batch-shape"
    bn_mode = "eval"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """MACs of one image."""
        from zsbench.costs import count_flops

        return float(count_flops(model, batch.input_shape))

    def requires(self) -> zsbench.PassRequest:
        """No product: it reads the shared model, whose weights and structure no pass changes."""
        from zsbench_proxies._passes import request

        return request()

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """:meth:`score` on the shared model."""
        return self.score(model, batch)


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Flops`."""
    register(Flops())
