"""naswot (Mellor et al. v2, "NASWOT"): log-determinant of the ReLU code kernel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Naswot(zsbench.Proxy):
    """log|det K|, K_ij = Σ over ReLU calls of (#units − Hamming distance of the codes of i and j).

    Codes are the binarised inputs (> 0) of every module whose type name contains "ReLU"
    (ReLU6 counts; functional ``F.relu`` does not), on every call. One train-mode forward
    on the batch (the v2 reference uses 128 images; zsbench uses the host batch). The sign
    of the determinant is ignored; a singular K gives −inf, recorded as a failure.
    """

    name = "naswot"
    higher_is_better = True
    version = "1"
    description = "log-determinant of the binary ReLU-code kernel (Mellor et al. v2)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float64"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """slogdet of the NASWOT kernel."""
        from zsbench_proxies._passes import relu_code_kernel

        return self._reduce(relu_code_kernel(model, batch.inputs))

    def requires(self) -> zsbench.PassRequest:
        """The kernel recorded by hooks on the shared forward."""
        from zsbench_proxies._passes import request

        return request("relu_kernel")

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """The same value from the shared pass's products."""
        return self._reduce(products["relu_kernel"])

    @staticmethod
    def _reduce(kernel: Any) -> float:
        import numpy as np

        _, logabsdet = np.linalg.slogdet(kernel.cpu().numpy())
        return float(logabsdet)


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Naswot`."""
    register(Naswot())
