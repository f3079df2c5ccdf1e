"""plain (zero-cost-nas): signed sum of dL/dW ⊙ W over conv/linear weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Plain(zsbench.Proxy):
    """Σ_l Σ (∂L/∂W_l ⊙ W_l) for mean CE on the batch; signed, may be negative."""

    name = "plain"
    higher_is_better = True
    version = "1"
    description = "signed sum of gradient x weight over conv/linear weights (zero-cost-nas)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Signed sum of gradient times weight, layer by layer."""
        from zsbench_proxies._passes import ce_pass

        return self._reduce(ce_pass(model, batch.inputs, batch.targets))

    def requires(self) -> zsbench.PassRequest:
        """The CE gradients of the shared forward."""
        from zsbench_proxies._passes import request

        return request("ce")

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """The same value from the shared pass's CE gradients."""
        return self._reduce(products["ce"])

    @staticmethod
    def _reduce(result: Any) -> float:
        from zsbench_proxies._passes import layerwise_sum

        return layerwise_sum([g * w.detach() for g, w in zip(result.grads, result.weights, strict=True)])


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Plain`."""
    register(Plain())
