"""l2_norm (NASLib): sum over conv/linear layers of the Frobenius norm of the weight."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class L2Norm(zsbench.Proxy):
    """Σ_l ‖W_l‖₂ over conv/linear weights at initialisation (NASLib ``l2_norm``, mode "param").

    Per-layer norms summed (not the global norm); biases and BN parameters excluded. It
    reads no input: a function of the architecture and the initialisation seed.
    """

    name = "l2_norm"
    higher_is_better = True
    version = "1"
    description = "sum of per-layer L2 norms of the initial conv/linear weights (NASLib)"
    input_kind = "none"
    bn_mode = "unused"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Sum of the Frobenius norms of the conv/linear weights."""
        import torch

        from zsbench_proxies._passes import layerwise_sum, weight_layers

        with torch.no_grad():
            return layerwise_sum([m.weight.norm() for m in weight_layers(model)])

    def requires(self) -> zsbench.PassRequest:
        """No product: it reads the shared model, whose weights and structure no pass changes."""
        from zsbench_proxies._passes import request

        return request()

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """:meth:`score` on the shared model."""
        return self.score(model, batch)


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`L2Norm`."""
    register(L2Norm())
