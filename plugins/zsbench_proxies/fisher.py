"""fisher (zero-cost-nas): per-output-channel Fisher information of conv/linear activations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Fisher(zsbench.Proxy):
    """Σ_l Σ_k |F_k| · prod(W_l.shape[1:]), F_k = ½ mean_n (Σ_spatial a ⊙ ∂L/∂a)²_{n,k}.

    a is a conv/linear layer's output (pre-BN). The reference broadcasts F_k over the
    weight slice of channel k before summing, so each channel counts
    C_in/groups·kh·kw (conv) or in_features (linear) times; that factor is kept. A layer
    called more than once adds the F of every call.
    """

    name = "fisher"
    higher_is_better = True
    version = "1"
    tolerance = 1e-5  # see README.md, "Shared passes"
    description = "per-channel Fisher information of conv/linear outputs, broadcast per weight (zero-cost-nas)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Channel Fisher information summed with the reference's per-weight multiplicity."""
        from zsbench_proxies._passes import ce_pass

        return self._reduce(ce_pass(model, batch.inputs, batch.targets, with_layer_outputs=True))

    def requires(self) -> zsbench.PassRequest:
        """The CE gradients of the shared forward with the layer outputs and their gradients."""
        from zsbench_proxies._passes import request

        return request("ce", "layer_outputs")

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """The same value from the shared pass's products."""
        return self._reduce(products["ce"])

    @staticmethod
    def _reduce(result: Any) -> float:
        import torch

        from zsbench_proxies._passes import layerwise_sum

        assert result.outputs is not None and result.output_grads is not None
        per_weight = []
        for weight, outs, grads in zip(result.weights, result.outputs, result.output_grads, strict=True):
            channel_fisher = torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device)
            for act, grad in zip(outs, grads, strict=True):
                prod = act * grad
                s = prod.sum(dim=list(range(2, prod.dim()))) if prod.dim() > 2 else prod
                channel_fisher = channel_fisher + s.pow(2).mean(0).mul(0.5)
            # Same tensor shape as the reference's broadcast, so float32 sums agree.
            per_weight.append(channel_fisher.abs().view(-1, *([1] * (weight.dim() - 1))).expand_as(weight))
        return layerwise_sum(per_weight)


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Fisher`."""
    register(Fisher())
