"""grad_norm (zero-cost-nas): sum over conv/linear layers of the Frobenius norm of dL/dW."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class GradNorm(zsbench.Proxy):
    """Σ_l ‖∂L/∂W_l‖₂ for mean CE on the batch: per-layer norms summed, not the global norm."""

    name = "grad_norm"
    higher_is_better = True
    version = "1"
    description = "sum of per-layer gradient norms of CE w.r.t. conv/linear weights (zero-cost-nas)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Per-layer Frobenius norm of the CE gradient, summed over conv/linear layers."""
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

        return layerwise_sum([g.norm() for g in result.grads])


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`GradNorm`."""
    register(GradNorm())
