"""Zen-NAS's pass: Gaussian re-initialisation and two no-grad forwards compared before global pooling.

It re-draws the weights, so it shares no model with other proxies (no :class:`zsbench.SharedPass`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

ZEN_MIXUP_GAMMA = 1e-2


def zen_gaussian_init(model: nn.Module) -> None:
    """Zen-NAS's re-initialisation: conv/linear weights N(0, 1), their biases 0, BatchNorm2d
    and GroupNorm affine weight 1 and bias 0 (in module order, drawing from the global RNG)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                if m.weight is not None:
                    nn.init.ones_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


class GlobalPoolRecorder(TorchFunctionMode):
    """Records the input of the last global average pooling run while the mode is active.

    Global average pooling is recognised whatever form it takes: ``nn.AdaptiveAvgPool2d``
    or ``F.adaptive_avg_pool2d`` to a 1x1 map, ``avg_pool2d`` whose output is 1x1, or a
    ``mean`` over both spatial dimensions of a 4-D tensor. Pools inside the network (e.g.
    squeeze-and-excitation) are recorded too, but the last one of a forward is the one
    feeding the classifier.
    """

    _POOLS = (F.adaptive_avg_pool2d, F.avg_pool2d, torch._C._nn.adaptive_avg_pool2d, torch._C._nn.avg_pool2d)
    _MEANS = (torch.mean, torch.Tensor.mean)

    def __init__(self) -> None:
        super().__init__()
        self.last: torch.Tensor | None = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
            if func in self._POOLS and isinstance(out, torch.Tensor) and tuple(out.shape[-2:]) == (1, 1):
                self.last = args[0]
            elif func in self._MEANS and self._spatial_mean(args, kwargs):
                self.last = args[0]
        return out

    @staticmethod
    def _spatial_mean(args: tuple, kwargs: dict) -> bool:
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if dim is None:
            return False
        dims = {int(d) % 4 for d in (dim if isinstance(dim, (tuple, list)) else [dim])}
        return dims == {2, 3}


def features_before_pooling(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on ``inputs`` and return the input of its last global average pooling.

    Raises:
        ValueError: no global average pooling ran (see :class:`GlobalPoolRecorder`).
    """
    recorder = GlobalPoolRecorder()
    with recorder:
        model(inputs)
    if recorder.last is None:
        raise ValueError(
            "no global average pooling in the forward pass (adaptive_avg_pool2d to 1x1, avg_pool2d "
            "over the whole map, or mean over H and W): cannot find the feature map before pooling"
        )
    return recorder.last


def zen_pass(
    model: nn.Module, batch_shape: Sequence[int], mixup_gamma: float = ZEN_MIXUP_GAMMA
) -> tuple[torch.Tensor, list[nn.BatchNorm2d]]:
    """Zen-NAS's pass (pass C): modifies ``model`` in place.

    BN running statistics are reset (a fresh model's state, so the score never depends on
    forwards run before), weights are re-initialised (:func:`zen_gaussian_init`), then
    x, eps ~ N(0, 1) of ``batch_shape`` are drawn (in that order, after the init) and the
    pre-pooling feature maps of x and ``x + mixup_gamma * eps`` are compared in two
    train-mode no-grad forwards, which also update BN running_var twice (Zen-NAS's code).

    Returns:
        ``(delta, bn_layers)``: delta = mean over the batch of sum |f(x) - f(x')| (a 0-d
        float tensor), and the BatchNorm2d modules whose running_var the score reads.
    """
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            m.reset_running_stats()
    zen_gaussian_init(model)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with torch.no_grad():
        x = torch.randn(size=list(batch_shape), device=device)
        eps = torch.randn(size=list(batch_shape), device=device)
        mixed = x + mixup_gamma * eps
        f_x = features_before_pooling(model, x)
        f_mixed = features_before_pooling(model, mixed)
        delta = torch.mean(torch.sum(torch.abs(f_x - f_mixed), dim=[1, 2, 3]))
    return delta, [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
