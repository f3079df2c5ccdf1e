"""ntk (TE-NAS): condition number of the empirical neural tangent kernel; lower is better."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class NTKConditionNumber(zsbench.Proxy):
    """λ_max / λ_min of Θ = G Gᵀ, G's row i = ∂(Σ_c logit_{i,c})/∂θ, θ = parameters named "weight".

    TE-NAS semantics: train mode, one batched forward, one backward per sample (BN
    cross-sample terms included), float32 Gram, eigenvalues by ``eigvalsh``. The raw
    condition number is stored, **lower is better**; a NaN is a recorded failure (TE-NAS
    maps it to 100000, Zen-NAS returns −cond: neither is done here).
    Costs N backward passes and N × (#weight parameters) floats of memory.
    """

    name = "ntk"
    higher_is_better = False
    version = "1"
    tolerance = 1e-4  # see README.md, "Shared passes"
    description = "condition number of the empirical NTK (TE-NAS); lower is better"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Condition number λ_max/λ_min of the batch's NTK Gram matrix."""
        from zsbench_proxies._passes import ntk_gram

        return self._reduce(ntk_gram(model, batch.inputs))

    def requires(self) -> zsbench.PassRequest:
        """The Gram matrix from row backward passes of the shared forward."""
        from zsbench_proxies._passes import request

        return request("ntk_gram")

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """The same value from the shared pass's products."""
        return self._reduce(products["ntk_gram"])

    @staticmethod
    def _reduce(gram: Any) -> float:
        import torch

        eigenvalues = torch.linalg.eigvalsh(gram)
        return float(eigenvalues[-1] / eigenvalues[0])


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`NTKConditionNumber`."""
    register(NTKConditionNumber())
