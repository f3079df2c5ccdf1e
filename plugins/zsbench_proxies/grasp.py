"""grasp (zero-cost-nas, T=1, one iteration): sum of -W ⊙ (H g) over conv/linear weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Grasp(zsbench.Proxy):
    """Σ_l Σ (−W_l ⊙ (H g)_l), H restricted to conv/linear weights, g the CE gradient.

    The minus sign is zero-cost-nas's (the authors found accuracy anti-correlates without
    it); the value is often negative. Two forwards as in the reference, see
    :func:`zsbench_proxies._passes.grasp_pass`.
    """

    name = "grasp"
    higher_is_better = True
    version = "1"
    description = "-W x (Hessian x gradient) summed over conv/linear weights (zero-cost-nas, T=1)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Sum of -W * Hg over conv/linear weights."""
        from zsbench_proxies._passes import grasp_pass

        return self._reduce(*grasp_pass(model, batch.inputs, batch.targets))

    def requires(self) -> zsbench.PassRequest:
        """H g on the shared forward (one forward instead of the reference's two: same value without Dropout)."""
        from zsbench_proxies._passes import request

        return request("grasp_hg")

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """The same value from the shared pass's products."""
        return self._reduce(*products["grasp_hg"])

    @staticmethod
    def _reduce(weights: Any, hg: Any) -> float:
        from zsbench_proxies._passes import layerwise_sum

        return layerwise_sum([-w.detach() * h for w, h in zip(weights, hg, strict=True)])


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Grasp`."""
    register(Grasp())
