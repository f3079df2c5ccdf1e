"""The ``myidea`` proxy: log of the mean per-class variance of an untrained network's logits.

A network whose logits already vary strongly across different inputs at initialisation
distinguishes its inputs better; the score is ``log(mean_c var_n(logits[n, c]))`` over the
batch, computed in float64 in train mode. Higher is better.
"""

from __future__ import annotations

import math

import zsbench


class MyIdea(zsbench.Proxy):
    """Log of the mean per-class variance of the logits over one batch."""

    name = "myidea"
    higher_is_better = True
    version = "1"
    description = "log mean per-class variance of the initial logits over the batch (example plugin)"
    input_kind = "batch"
    bn_mode = "train"
    dtype = "float64"

    def score(self, model, batch: zsbench.Batch) -> float:
        import torch

        with torch.no_grad():
            logits = model(batch.inputs).double()
        spread = logits.var(dim=0, unbiased=False).mean().item()
        return math.log(spread) if spread > 0 else float("nan")


@zsbench.hookimpl
def register_proxies(register) -> None:
    """Register the ``myidea`` proxy with zsbench."""
    register(MyIdea())
