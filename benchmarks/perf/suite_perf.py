"""The proxy suite's cost in units of one cross-entropy forward+backward, shared and separate.

Usage::

    python benchmarks/perf/suite_perf.py [--spaces nb201,R1,MB] [--archs 2] [--repeats 3]
        [--threads 1] [--batch-size 64] [--max-macs 50e6] [--data-root DIR] [--device cuda]

For every space, the first ``--archs`` architectures of ``space.sample(20 * archs, seed=0)``
with at most ``--max-macs`` MACs per image are built with seed 0 and scored on the default
proxy batch (:func:`zsbench.data.proxy_batch`). In one run, interleaved within every repeat
so that load on the machine hits all of them alike, it times:

* ``fwd+bwd``: one CE forward and ``loss.backward()`` of a freshly built model (build excluded),
  the unit of every ratio;
* ``suite14`` / ``suite13``: :func:`zsbench.engine.harness.score_model` on the 14 first-party
  proxies other than ntk, and on the 13 other than ntk and grasp, with shared passes
  (``shared``) and one proxy at a time (``separate``, ``share_passes=False``). ``wall`` is the
  whole call, model builds included; ``calls`` is the sum of the proxies' own ``seconds``
  (builds excluded, the figure the per-proxy cost table reports);
* every proxy's marginal cost in the shared suite14 (:func:`marginal_costs`): its reduction
  plus the pass stages only it causes (timed inside the pass,
  ``ModelPasses.last_stage_seconds``), with the shared forward, the shared CE backward and
  the model builds as rows of their own, so that the rows add up to the suite's wall time.
  (Leaving one proxy out and differencing two noisy walls cannot resolve costs of a few
  per cent of a pass on a loaded machine.)

Figures are medians over architectures and repeats of per-architecture ratios. With
``--device cuda`` every timing waits for the GPU (``torch.cuda.synchronize``) before it
stops; the marginal-cost table is left out there, because the pass's stage timers do not
synchronise and would time kernel launches, not kernels.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _device import checked_device, synchronize

SUITE14 = (
    "grad_norm", "plain", "snip", "grasp", "fisher", "jacob_cov", "synflow", "zen",
    "naswot", "zico", "l2_norm", "flops", "params", "depth",
)  # fmt: skip
SUITE13 = tuple(name for name in SUITE14 if name != "grasp")


def ce_forward_backward_seconds(build, batch, device: str = "cpu") -> float:
    """Seconds of one CE forward + backward of a freshly built train-mode model (build excluded)."""
    import torch.nn.functional as F

    from zsbench.engine.harness import seed_everything

    seed_everything(0)
    model = build().to(device).train()
    inputs, targets = batch.inputs.to(device), batch.targets.to(device)
    synchronize(device)
    start = time.perf_counter()
    output = model(inputs)
    logits = output[-1] if isinstance(output, (tuple, list)) else output
    F.cross_entropy(logits, targets).backward()
    synchronize(device)
    seconds = time.perf_counter() - start
    del model
    return seconds


def suite_seconds(build, proxies, batch, share: bool, device: str = "cpu") -> tuple[float, float, list[str], list]:
    """``(wall seconds with builds, sum of the proxies' own seconds, failures, results)``."""
    from zsbench.engine.harness import score_model

    synchronize(device)
    start = time.perf_counter()
    results = score_model(build, proxies, batch, seed=0, share_passes=share, device=device)
    synchronize(device)
    wall = time.perf_counter() - start
    return wall, sum(r.seconds for r in results), [f"{r.proxy}: {r.error}" for r in results if not r.ok], results


# Stages of the shared pass that only one proxy causes (ModelPasses.last_stage_seconds).
EXCLUSIVE_STAGES = {"naswot": ("relu_kernel",), "jacob_cov": ("input_jacobian",), "zico": ("zico_grads",)}


def marginal_costs(results14, proxies14, stages14: dict[str, float], stages13: dict[str, float], wall14: float) -> dict[str, float]:
    """Seconds each proxy adds to the shared suite14, plus the shared rows; they add up to ``wall14``.

    A proxy's ``seconds`` in the shared path is its reduction plus the charge the engine gave
    it for the pass (:func:`zsbench.engine.harness._pass_charges`: its products' own stages, split
    among their readers, and an equal share of the rest); the charge is recomputed here the
    same way and taken off, leaving the reduction. A proxy's own part is that reduction plus
    the stages only it causes; grasp's adds its H g stage and what ``create_graph`` adds to
    the CE backward (that stage in suite14 minus in suite13). The shared forward and CE
    backward, and the model builds with the engine's overhead, are rows of their own.
    """
    from types import SimpleNamespace

    from zsbench_proxies._passes import MODEL_PASSES, PRODUCTS

    from zsbench.engine.harness import _pass_charges, _request_of

    members = []
    for index, proxy in enumerate(proxies14):
        request = _request_of(proxy)
        if request is not None and request.shared_pass is MODEL_PASSES:
            members.append((index, proxy, request))
    # the suite14 run's stages (MODEL_PASSES itself now holds the last run's, suite13's)
    run14 = SimpleNamespace(product_seconds=lambda: {k: v for k, v in stages14.items() if k in PRODUCTS})
    charges = _pass_charges(run14, members, sum(stages14.values()))
    costs: dict[str, float] = {}
    for index, r in enumerate(results14):
        own = r.seconds - charges.get(index, 0.0)
        for stage in EXCLUSIVE_STAGES.get(r.proxy, ()):
            own += stages14.get(stage, 0.0)
        costs[r.proxy] = own
    create_graph_extra = stages14.get("ce", 0.0) - stages13.get("ce", 0.0)
    costs["grasp"] += stages14.get("grasp_hg", 0.0) + create_graph_extra
    costs["(shared forward)"] = stages14.get("forward", 0.0)
    costs["(shared CE backward)"] = stages14.get("ce", 0.0) - create_graph_extra
    costs["(model builds, engine)"] = wall14 - sum(r.seconds for r in results14)
    return costs


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", default="nb201,R1,MB")
    parser.add_argument("--archs", type=int, default=2, help="architectures per space")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-macs", type=float, default=50e6, help="skip sampled architectures above this")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the marginal-cost table is CPU only)")
    args = parser.parse_args(argv)

    import os

    import torch
    from rich.console import Console
    from rich.table import Table
    from zsbench_proxies._passes import MODEL_PASSES

    import zsbench
    from zsbench.data import proxy_batch
    on_gpu = checked_device(parser, args.device).type == "cuda"
    torch.set_num_threads(args.threads)
    console = Console(emoji=False, highlight=False, width=max(160, Console().width))
    host = zsbench.get_host()
    suite14 = [host.proxies.get(name) for name in SUITE14]
    suite13 = [host.proxies.get(name) for name in SUITE13]
    batch = proxy_batch("cifar10", batch_size=args.batch_size, seed=0, data_root=args.data_root)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    where = torch.cuda.get_device_name(args.device) if on_gpu else "cpu"
    console.print(
        f"batch {batch.size} x {batch.input_shape}, source {batch.source}; device {where}; "
        f"torch {torch.__version__}, threads {args.threads}; load average at start {load:.1f}"
    )
    spaces = [s.strip() for s in args.spaces.split(",") if s.strip()]
    ratios: dict[tuple[str, str], list[float]] = {}
    units: dict[str, list[float]] = {}
    marginal: dict[tuple[str, str], list[float]] = {}  # (space, proxy or shared part) -> x fwd+bwd
    failures: set[str] = set()
    wall_start = time.perf_counter()
    for space_name in spaces:
        space = host.spaces.get(space_name)
        chosen = []
        for arch in space.sample(20 * args.archs, seed=0):
            cost = space.cost(arch, num_classes=batch.num_classes)
            if cost.flops <= args.max_macs:
                chosen.append((arch, cost))
            if len(chosen) == args.archs:
                break
        for arch, cost in chosen:
            console.print(f"[bold]{space_name}[/] {arch}  ({cost.params / 1e6:.2f} M params, {cost.flops / 1e6:.1f} M MACs)")

            def build(arch=arch, space=space):
                return space.build(arch, num_classes=batch.num_classes, seed=0)

            ce_forward_backward_seconds(build, batch, args.device)  # warm-up: first calls pay one-off set-up
            suite_seconds(build, suite14, batch, True, args.device)
            for _ in range(args.repeats):
                unit = statistics.median(ce_forward_backward_seconds(build, batch, args.device) for _ in range(3))
                units.setdefault(space_name, []).append(unit)
                measured = {}
                for label, proxies in (("suite14", suite14), ("suite13", suite13)):
                    for share in (True, False):
                        wall, calls, failed, results = suite_seconds(build, proxies, batch, share, args.device)
                        failures.update(failed)
                        mode = "shared" if share else "separate"
                        ratios.setdefault((space_name, f"{label} {mode} wall"), []).append(wall / unit)
                        ratios.setdefault((space_name, f"{label} {mode} calls"), []).append(calls / unit)
                        if share:
                            measured[label] = (wall, results, dict(MODEL_PASSES.last_stage_seconds))
                if on_gpu:
                    continue
                wall14, results14, stages14 = measured["suite14"]
                for name, seconds in marginal_costs(results14, suite14, stages14, measured["suite13"][2], wall14).items():
                    marginal.setdefault((space_name, name), []).append(seconds / unit)

    table = Table(title=f"proxy suite in units of one CE forward+backward (median), {where}, threads={args.threads}")
    table.add_column("figure")
    for space_name in spaces:
        table.add_column(space_name, justify="right")
    table.add_row("fwd+bwd seconds", *[f"{statistics.median(units[s]):.3f}" for s in spaces])
    for label in ("suite14", "suite13"):
        for mode in ("shared", "separate"):
            for what in ("wall", "calls"):
                key = f"{label} {mode} {what}"
                table.add_row(key, *[f"{statistics.median(ratios[(s, key)]):.2f}x" for s in spaces])
    console.print(table)
    if on_gpu:
        console.print(f"total wall time {time.perf_counter() - wall_start:.0f} s (marginal costs: CPU only)")
        return
    mtable = Table(title="marginal cost in the shared suite14 (x fwd+bwd; the rows add up to suite14 shared wall)")
    mtable.add_column("proxy or shared part")
    for space_name in spaces:
        mtable.add_column(space_name, justify="right")
    names = list(dict.fromkeys(name for (_, name) in marginal))
    for name in names:
        mtable.add_row(name, *[f"{statistics.median(marginal[(s, name)]):.2f}" for s in spaces])
    console.print(mtable)
    for failure in sorted(failures):
        console.print(f"failure: {failure}")
    console.print(f"total wall time {time.perf_counter() - wall_start:.0f} s")


if __name__ == "__main__":
    main()
