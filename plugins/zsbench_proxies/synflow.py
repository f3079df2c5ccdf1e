"""synflow (zero-cost-nas, ``bn=False``): synaptic flow of the all-positive, BN-free network."""

from __future__ import annotations

from typing import TYPE_CHECKING

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Synflow(zsbench.Proxy):
    """Σ_l Σ |W_l ⊙ ∂R/∂W_l| with R = Σ outputs of the linearised network on an all-ones input.

    Linearised: BatchNorm1d/2d forwards replaced by the identity (not eval mode), every
    parameter and buffer replaced by its absolute value, float64. The input is all ones of
    shape ``[1, C, H, W]``: the batch supplies only its shape. Dropout stays active in
    train mode (the reference keeps the caller's mode), so the value can depend on the
    seed for models with Dropout. Values reach 1e24 for deep nets, hence float64.
    """

    name = "synflow"
    higher_is_better = True
    version = "1"
    description = "synaptic flow of the |weights|, BN-free, float64 network on an all-ones input (zero-cost-nas)"
    input_kind = "batch-shape"
    bn_mode = "identity"
    dtype = "float64"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Synaptic saliency summed over conv/linear weights."""
        from zsbench_proxies._passes import layerwise_sum
        from zsbench_proxies._synflow_pass import synflow_pass

        weights, grads = synflow_pass(model, batch.input_shape)
        return layerwise_sum([(w.detach() * g).abs() for w, g in zip(weights, grads, strict=True)])


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Synflow`."""
    register(Synflow())
