"""jacob_cov (zero-cost-nas; Mellor et al. v1): score of the correlation of input Jacobians."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch

# zero-cost-nas's regulariser of the eigenvalues.
JACOB_COV_K = 1e-5


def jacobian_correlation_score(jacobian_rows, k: float = JACOB_COV_K) -> float:
    """−Σ_i [log(λ_i + k) + 1/(λ_i + k)] over the eigenvalues λ of the rows' Pearson correlation.

    Args:
        jacobian_rows: ``N x D`` array-like, one flattened input Jacobian per sample.
        k: eigenvalue regulariser (1e-5 in the reference).
    """
    import numpy as np

    corr = np.corrcoef(np.asarray(jacobian_rows, dtype=np.float64))
    # eigvalsh on the symmetric matrix; the reference's general eig agrees to ~1e-16.
    eigenvalues = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(eigenvalues + k) + 1.0 / (eigenvalues + k)))


class JacobCov(zsbench.Proxy):
    """Mellor et al. v1 score as zero-cost-nas computes it.

    J = ∂(Σ logits)/∂x from one batched train-mode backward, Σ_J = Pearson correlation of
    the N rows (float64), score = −Σ [log(λ + 1e-5) + 1/(λ + 1e-5)]. Identical inputs or
    N > C·H·W give near-zero eigenvalues and a large penalty, as in the reference.
    """

    name = "jacob_cov"
    higher_is_better = True
    version = "1"
    description = "Jacobian covariance score of Mellor et al. v1 (zero-cost-nas)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Score of the correlation matrix of the per-sample input gradients."""
        from zsbench_proxies._passes import input_jacobian

        rows = input_jacobian(model, batch.inputs)
        return jacobian_correlation_score(rows.cpu().numpy())

    def requires(self) -> zsbench.PassRequest:
        """The input Jacobian rows from one more backward of the shared forward."""
        from zsbench_proxies._passes import request

        return request("input_jacobian")

    def score_shared(self, products: Mapping[str, Any], model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """The same value from the shared pass's products."""
        return jacobian_correlation_score(products["input_jacobian"].cpu().numpy())


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`JacobCov`."""
    register(JacobCov())
