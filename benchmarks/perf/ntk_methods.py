"""Exact ways to compute TE-NAS's NTK Gram matrix, side by side: seconds and condition number.

Usage::

    python benchmarks/perf/ntk_methods.py [--spaces nb201,R1,MB] [--archs 1] [--chunks 8,16,64]
        [--threads 1] [--batch-size 64] [--max-macs 100e6] [--data-root DIR] [--device cpu]

Every method computes Θ = G Gᵀ with G's row i = ∂(Σ_c logit_{i,c})/∂θ, θ the parameters
whose name contains "weight", from ONE batched train-mode forward, so BatchNorm's
cross-sample terms are part of every row (TE-NAS's definition):

* ``per-row``: one backward per sample (the reference; ``zsbench_proxies._passes.ntk_gram``);
* ``batched(c)``: ``torch.autograd.grad(..., is_grads_batched=True)`` on ``c`` one-hot seeds
  at a time;
* ``vmap-vjp(c)``: ``torch.func.vjp`` of the batched forward (``functional_call``), its
  pullback under ``torch.func.vmap`` on ``c`` seeds at a time;
* ``per-layer(c)``: as ``batched(c)``, but Θ accumulated layer by layer (Σ_l G_l G_lᵀ)
  from the per-parameter gradients, never concatenating G into one N × P matrix.

Chunking bounds the batched backward's working memory to ``c`` copies of the activations'
gradients. The rows themselves (N × P floats) are kept by every method but ``per-layer``,
which keeps N × P as per-layer blocks. Each method is timed after a warm-up, in units of
one CE forward+backward of the same model and batch (after a warm-up call on 8 samples),
and its condition number is compared
with the per-row one (relative difference). Peak memory is measured on CUDA only. The model is rebuilt with seed 0 for every
method, so all see the same weights and batch.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _device import checked_device, synchronize


def _weight_params(model):
    return [(name, p) for name, p in model.named_parameters() if "weight" in name and p.requires_grad]


def gram_per_row(model, inputs, chunk):
    """The reference: one backward per sample."""
    from zsbench_proxies._passes import ntk_gram

    return ntk_gram(model, inputs)


def _one_hot_seeds(logits, start, stop):
    import torch

    n = logits.shape[0]
    seeds = torch.zeros((stop - start, *logits.shape), dtype=logits.dtype, device=logits.device)
    seeds[torch.arange(stop - start), torch.arange(start, stop)] = 1.0
    assert seeds.shape[1] == n
    return seeds


def gram_batched(model, inputs, chunk, per_layer=False):
    """``is_grads_batched`` on ``chunk`` seeds at a time."""
    import torch
    from zsbench_proxies._passes import logits_of

    params = [p for _, p in _weight_params(model)]
    logits = logits_of(model(inputs))
    n = logits.shape[0]
    blocks: list[list[torch.Tensor]] = [[] for _ in params]
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        grads = torch.autograd.grad(
            logits, params, grad_outputs=_one_hot_seeds(logits, start, stop), retain_graph=stop < n,
            is_grads_batched=True, allow_unused=True,
        )
        for store, g in zip(blocks, grads, strict=True):
            if g is not None:
                store.append(g.reshape(stop - start, -1))
    if per_layer:
        gram = torch.zeros((n, n), dtype=logits.dtype, device=logits.device)
        for store in blocks:
            if store:
                layer = torch.cat(store)
                gram += layer @ layer.T
        return gram
    rows = torch.cat([torch.cat(store) for store in blocks if store], dim=1)
    return torch.einsum("nc,mc->nm", rows, rows)


def gram_per_layer(model, inputs, chunk):
    """``batched`` with Θ = Σ_l G_l G_lᵀ."""
    return gram_batched(model, inputs, chunk, per_layer=True)


def gram_vmap_vjp(model, inputs, chunk):
    """``torch.func.vjp`` of the batched forward, pulled back under ``vmap``."""
    import torch
    from torch.func import functional_call, replace_all_batch_norm_modules_, vjp, vmap
    from zsbench_proxies._passes import logits_of

    # Running statistics cannot be updated in place inside a transform; train-mode outputs
    # do not read them, so dropping them leaves every row unchanged.
    replace_all_batch_norm_modules_(model)
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    names = [name for name, _ in _weight_params(model)]

    def forward(weights):
        return logits_of(functional_call(model, ({**params, **weights}, buffers), (inputs,)))

    # Detached primals: torch.func differentiates them itself; outer autograd records nothing.
    logits, pullback = vjp(forward, {name: params[name].detach() for name in names})
    n = logits.shape[0]
    pieces = []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        grads = vmap(pullback)(_one_hot_seeds(logits.detach(), start, stop))[0]
        pieces.append(torch.cat([grads[name].reshape(stop - start, -1) for name in names], dim=1))
    rows = torch.cat(pieces)
    return torch.einsum("nc,mc->nm", rows, rows)


METHODS = {"per-row": gram_per_row, "batched": gram_batched, "vmap-vjp": gram_vmap_vjp, "per-layer": gram_per_layer}


def condition_number(gram) -> float:
    import torch

    eigenvalues = torch.linalg.eigvalsh(gram.detach())
    return float(eigenvalues[-1] / eigenvalues[0])


def main(argv: list[str] | None = None) -> None:
    """Time every method and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", default="nb201,R1,MB")
    parser.add_argument("--archs", type=int, default=1)
    parser.add_argument("--chunks", default="8,64", help="seeds per batched backward")
    parser.add_argument("--methods", default="per-row,batched,vmap-vjp,per-layer")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-macs", type=float, default=100e6)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    import os

    import torch
    import torch.nn.functional as F
    from rich.console import Console
    from rich.table import Table
    from zsbench_proxies._passes import logits_of

    import zsbench
    from zsbench.data import proxy_batch
    from zsbench.engine.harness import seed_everything

    torch.set_num_threads(args.threads)
    device = checked_device(parser, args.device)
    console = Console(emoji=False, highlight=False, width=max(160, Console().width))
    host = zsbench.get_host()
    batch = proxy_batch("cifar10", batch_size=args.batch_size, seed=0, data_root=args.data_root)
    inputs, targets = batch.inputs.to(device), batch.targets.to(device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"batch {batch.size} x {batch.input_shape}, {batch.source}; threads {args.threads}; device {device}; load {load:.1f}")
    chunks = [int(c) for c in args.chunks.split(",")]
    variants = []
    for method in args.methods.split(","):
        if method == "per-row":
            variants.append(("per-row", method, 1))
        else:
            variants.extend((f"{method}({c})", method, c) for c in chunks)

    table = Table(title=f"NTK Gram methods: seconds, x one CE fwd+bwd, condition number vs per-row (threads={args.threads}, {device})")
    for column in ("space", "arch", "P", "fwd+bwd s", "method", "seconds", "x fwd+bwd", "cond", "rel. diff", "peak MiB"):
        table.add_column(column, justify="left" if column in ("space", "arch", "method") else "right")
    for space_name in [s for s in args.spaces.split(",") if s]:
        space = host.spaces.get(space_name)
        chosen = [a for a in space.sample(20 * args.archs, seed=0) if space.cost(a, batch.num_classes).flops <= args.max_macs]
        for arch in chosen[: args.archs]:

            def fresh(space=space, arch=arch):
                seed_everything(0)
                return space.build(arch, num_classes=batch.num_classes, seed=0).to(device).train()

            units = []
            for _ in range(4):
                model = fresh()
                synchronize(device)
                start = time.perf_counter()
                F.cross_entropy(logits_of(model(inputs)), targets).backward()
                synchronize(device)
                units.append(time.perf_counter() - start)
            unit = statistics.median(units[1:])
            width = sum(p.numel() for _, p in _weight_params(fresh()))
            reference = None
            for label, method, chunk in variants:
                try:
                    METHODS[method](fresh(), inputs[:8], min(chunk, 8))  # warm-up on 8 samples: one-off set-up costs
                    if device.type == "cuda":
                        torch.cuda.reset_peak_memory_stats(device)
                    model = fresh()
                    synchronize(device)
                    start = time.perf_counter()
                    gram = METHODS[method](model, inputs, chunk)
                    synchronize(device)
                    seconds = time.perf_counter() - start
                    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
                    cond = condition_number(gram)
                except Exception as exc:  # a method that cannot run here is reported, not fatal
                    table.add_row(space_name, arch, f"{width:,}", f"{unit:.3f}", label, "failed", "", "", str(exc)[:60], "")
                    continue
                if reference is None:
                    reference = cond
                diff = abs(cond - reference) / abs(reference)
                row = (
                    space_name, arch, f"{width:,}", f"{unit:.3f}", label, f"{seconds:.2f}", f"{seconds / unit:.1f}",
                    f"{cond:.6g}", f"{diff:.1e}", "n/a" if peak is None else f"{peak:.0f}",
                )
                table.add_row(*row)
                print(" | ".join(row), flush=True)  # progress: the table comes at the end
    console.print(table)


if __name__ == "__main__":
    main()
