"""zico (Li et al., ICLR 2023): inverse coefficient of variation of gradients across batches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch

def zico_from_gradients(per_batch_grads) -> float:
    """ZiCo from recorded gradients: Σ_l log Σ_{θ: std>0} mean_b|g_θ| / std_b(g_θ).

    Args:
        per_batch_grads: for every conv/linear layer, a ``B x numel`` array of the
            gradient recorded after each batch (population std over the B rows). A layer
            whose ratios sum to 0 (all std 0) is skipped, as in the reference.
    """
    import numpy as np

    total = 0.0
    for grads in per_batch_grads:
        g = np.asarray(grads, dtype=np.float64)
        std = g.std(axis=0)
        mean_abs = np.abs(g).mean(axis=0)
        nonzero = std != 0
        ratio_sum = float(np.sum(mean_abs[nonzero] / std[nonzero]))
        if ratio_sum != 0.0:
            total += float(np.log(ratio_sum))
    return total


class ZiCo(zsbench.Proxy):
    """Σ over conv/linear layers of log Σ_θ mean|g_θ|/std(g_θ) across batches (ZiCo code semantics).

    The host batch is split into two halves that play the role of ZiCo's two batches
    (``--maxbatch 2``); train-mode BN therefore normalises each half on its own. Like
    ``compute_zico.py``, gradients are not zeroed between batches, so the recorded
    gradients are cumulative (g₁, g₁+g₂). Statistics in float64 (the reference uses
    NumPy float32). Layers without a gradient are skipped.
    """

    name = "zico"
    higher_is_better = True
    version = "1"
    description = "ZiCo: log inverse coefficient of variation of cumulative gradients over two half-batches"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def contract(self) -> dict[str, Any]:
        """The base contract plus the number of parts the batch is split into."""
        from zsbench_proxies._passes import ZICO_SPLITS

        return {**super().contract(), "batch_splits": ZICO_SPLITS, "gradients": "cumulative"}

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """ZiCo on the two halves of ``batch``."""
        from zsbench_proxies._passes import ZICO_SPLITS, zico_gradients

        return self._reduce(zico_gradients(model, batch.inputs, batch.targets, ZICO_SPLITS))

    def requires(self) -> zsbench.PassRequest:
        """Its half-batch passes run on the shared model (weights unchanged by the shared forward)."""
        from zsbench_proxies._passes import request

        return request("zico_grads")

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """The same value from the gradients recorded on the shared model."""
        return self._reduce(products["zico_grads"])

    @staticmethod
    def _reduce(recorded: Any) -> float:
        return zico_from_gradients([rows.numpy() for rows in recorded])


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`ZiCo`."""
    register(ZiCo())
