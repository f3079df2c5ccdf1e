"""Cost figures of a network: FLOPs (multiply-accumulates), parameters and depth.

Conventions, shared by search spaces and the naive proxies:

- **FLOPs** are multiply-accumulate operations (MACs) of one forward pass on a single
  image, as NAS papers report them. They are counted with
  ``torch.utils.flop_counter.FlopCounterMode``, which counts 2 FLOPs per MAC for
  convolutions, linear layers and matrix products, and halved. BatchNorm, activations,
  pooling and additions are not counted.
- **params** is the number of elements of ``model.parameters()`` (weights, biases and
  BatchNorm affine parameters).
- **depth** is the number of weight layers (convolutions and linear layers) on the longest
  path from the input to the output, read off the autograd graph of one forward pass. A
  residual block counts its main branch, so ResNet-18 has depth 18 and ResNet-50 depth 50.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

# autograd node names of the ops that carry a weight layer
_WEIGHT_NODES = ("ConvolutionBackward", "AddmmBackward", "MmBackward", "LinearBackward", "MkldnnConvolutionBackward")


def count_params(model: torch.nn.Module) -> int:
    """Number of parameters of ``model`` (every element of ``model.parameters()``)."""
    return int(sum(p.numel() for p in model.parameters()))


def count_flops(model: torch.nn.Module, input_shape: tuple[int, int, int]) -> float:
    """Multiply-accumulates of one eval-mode forward pass on one ``(C, H, W)`` image."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    try:
        x = torch.zeros((1, *input_shape), dtype=_param_dtype(model))
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(x)
        return counter.get_total_flops() / 2.0
    finally:
        model.train(was_training)


def count_depth(model: torch.nn.Module, input_shape: tuple[int, int, int]) -> int:
    """Weight layers on the longest input-to-output path of ``model`` (see module docstring)."""
    import torch

    was_training = model.training
    model.eval()
    try:
        x = torch.zeros((1, *input_shape), dtype=_param_dtype(model), requires_grad=True)
        with torch.enable_grad():
            out = model(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return _longest_weight_path(out.grad_fn)
    finally:
        model.train(was_training)


def _longest_weight_path(root: object) -> int:
    """Longest count of weight-layer nodes on any path from ``root`` down the autograd graph."""
    if root is None:
        return 0
    # Iterative post-order DFS: deep nets would overflow Python's recursion limit.
    memo: dict[int, int] = {}
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if key in memo:
            continue
        children = [fn for fn, _ in getattr(node, "next_functions", ()) if fn is not None]
        if not expanded:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
            continue
        best_child = max((memo[id(c)] for c in children), default=0)
        is_weight = type(node).__name__.startswith(_WEIGHT_NODES)
        memo[key] = best_child + (1 if is_weight else 0)
    return memo[id(root)]


def _param_dtype(model: torch.nn.Module) -> torch.dtype:
    import torch

    for p in model.parameters():
        return p.dtype
    return torch.float32
