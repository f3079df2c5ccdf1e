"""params (naive proxy): number of parameters, via zsbench.costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Params(zsbench.Proxy):
    """Every element of ``model.parameters()`` (weights, biases, BN affine).

    ``zsbench.costs.count_params``, the same count as the ``params`` cost column.
    zero-cost-nas counts only parameters with ``requires_grad``; on the freshly built
    models the host hands out every parameter requires grad, so the two agree
    (torchvision resnet18 with 10 classes: 11,181,642).
    """

    name = "params"
    higher_is_better = True
    version = "1"
    description = "number of parameters (naive baseline)"
    input_kind = "none"
    bn_mode = "unused"
    dtype = "int64"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Parameter count."""
        from zsbench.costs import count_params

        return float(count_params(model))

    def requires(self) -> zsbench.PassRequest:
        """No product: it reads the shared model, whose weights and structure no pass changes."""
        from zsbench_proxies._passes import request

        return request()

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """:meth:`score` on the shared model."""
        return self.score(model, batch)


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Params`."""
    register(Params())
