"""The ``input_grad`` proxy: log of the mean norm of the loss gradient with respect to the input images.

An untrained network whose loss already reacts strongly to its inputs passes more signal
from the images to the classifier; the score is ``log(mean_n ||d CE / d x_n||_2)`` for the
summed cross-entropy of the batch (so one image's gradient does not shrink with the batch
size), one backward pass, BatchNorm in train mode. Higher is better.
"""

from __future__ import annotations

import math

import zsbench


class InputGrad(zsbench.Proxy):
    """Log of the mean per-image L2 norm of the cross-entropy's gradient with respect to the inputs."""

    name = "input_grad"
    higher_is_better = True
    version = "1"
    description = "log mean norm of the loss gradient w.r.t. the input images (second example plugin)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float32"

    def score(self, model, batch: zsbench.Batch) -> float:
        import torch

        # in the model's own floating-point type (the host converts the model, not the batch)
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), batch.inputs.dtype)
        inputs = batch.inputs.detach().clone().to(dtype).requires_grad_(True)
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.double(), batch.targets, reduction="sum")
        (gradient,) = torch.autograd.grad(loss, inputs)
        norm = gradient.flatten(1).norm(dim=1).mean().item()
        return math.log(norm) if norm > 0 and math.isfinite(norm) else float("nan")


@zsbench.hookimpl
def register_proxies(register) -> None:
    """Register the ``input_grad`` proxy with zsbench."""
    register(InputGrad())
