"""synflow's pass: the model made all-positive, BN-free and float64, differentiated on an all-ones input.

It changes the model in place, so it shares no model with other proxies (no :class:`zsbench.SharedPass`).
"""

from __future__ import annotations

import torch
from torch import nn

from zsbench_proxies._passes import _zeros_for_missing, logits_of, weight_layers


def _identity_forward(x: torch.Tensor) -> torch.Tensor:
    return x


def synflow_pass(model: nn.Module, input_shape: tuple[int, int, int]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """zero-cost-nas synflow's pass (pass B): modifies ``model`` in place.

    BatchNorm1d/2d forwards become the identity (not eval mode), the model is cast to
    float64, every ``state_dict`` tensor (weights, biases, BN buffers) is replaced by its
    absolute value, and R = sum of the outputs for an all-ones input of shape
    ``[1, C, H, W]`` is differentiated. The model's train/eval mode is kept.

    Returns:
        ``(weights, grads)`` of the conv/linear layers, float64 (zeros where unused).
    """
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.forward = _identity_forward  # instance attribute: this model only
    model.double()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.abs_()
    weights = [m.weight for m in weight_layers(model)]
    device = weights[0].device if weights else torch.device("cpu")
    x = torch.ones((1, *input_shape), dtype=torch.float64, device=device)
    out = logits_of(model(x))
    grads = torch.autograd.grad(torch.sum(out), weights, allow_unused=True)
    return weights, [g.detach() for g in _zeros_for_missing(grads, weights)]
