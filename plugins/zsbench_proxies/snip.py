"""snip (zero-cost-nas): sum of |dL/dW ⊙ W| over conv/linear weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Snip(zsbench.Proxy):
    """Σ_l Σ |∂L/∂W_l ⊙ W_l| for mean CE on the batch (connection sensitivity).

    zero-cost-nas gets it as the gradient of an all-ones weight mask, which equals
    g ⊙ W exactly; a forward-free formulation keeps custom conv forwards intact.
    """

    name = "snip"
    higher_is_better = True
    version = "1"
    description = "sum of |gradient x weight| over conv/linear weights (zero-cost-nas)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Sum of absolute gradient-times-weight saliencies."""
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

        return layerwise_sum([(g * w.detach()).abs() for g, w in zip(result.grads, result.weights, strict=True)])


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Snip`."""
    register(Snip())
