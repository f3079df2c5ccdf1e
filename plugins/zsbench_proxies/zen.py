"""zen (Zen-NAS, Lin et al. 2021): expressivity of the Gaussian-initialised network."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import zsbench

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Zen(zsbench.Proxy):
    """log Δ + Σ_{BatchNorm2d} log sqrt(mean(running_var)), Zen-NAS code semantics.

    Conv/linear weights are re-drawn from N(0, 1) (biases 0, BN affine 1/0); x and ε are
    drawn from N(0, 1) with the batch's shape; Δ = mean over the batch of
    Σ |f(x) − f(x + 0.01 ε)| with f the feature map before global average pooling.
    The BN term reads ``running_var`` after the two train-mode forwards with the BN's own
    momentum (0.81 + 0.09 v₁ + 0.1 v₂ for momentum 0.1), not the batch variance of the
    paper: that is what the reference code computes. Residual links are kept (the model
    is scored as built; Zen-NAS removes them from its own MasterNet). One repeat.
    """

    name = "zen"
    higher_is_better = True
    version = "1"
    description = "Zen-score: log expressivity of the N(0,1)-initialised net before pooling + BN scaling (Zen-NAS)"
    input_kind = "gaussian"
    bn_mode = "train"
    dtype = "float32"

    def contract(self) -> dict[str, Any]:
        """The base contract plus the mixup gamma and the repeat count."""
        from zsbench_proxies._zen_pass import ZEN_MIXUP_GAMMA

        return {**super().contract(), "mixup_gamma": ZEN_MIXUP_GAMMA, "repeat": 1, "residuals": "kept"}

    def score(self, model: torch.nn.Module, batch: zsbench.Batch) -> float:
        """Zen-score of ``model`` on Gaussian inputs shaped like ``batch``."""
        import torch

        from zsbench_proxies._zen_pass import zen_pass

        delta, bn_layers = zen_pass(model, tuple(batch.inputs.shape))
        log_bn_scaling: float | torch.Tensor = 0.0
        for bn in bn_layers:
            if bn.running_var is None:
                raise ValueError("zen reads BatchNorm2d running_var, but a BatchNorm2d has track_running_stats=False")
            log_bn_scaling = log_bn_scaling + torch.log(torch.sqrt(torch.mean(bn.running_var)))
        return float(torch.log(delta) + log_bn_scaling)


@zsbench.hookimpl
def register_proxies(register):
    """Register :class:`Zen`."""
    register(Zen())
