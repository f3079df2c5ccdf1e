"""Time and peak memory of every proxy on a few architectures of R1, R2, MB and nb201.

Usage::

    python benchmarks/perf/proxy_perf.py [--archs 2] [--repeats 3] [--proxies all]
        [--spaces R1,R2,MB,nb201] [--threads 1] [--data-root DIR] [--batch-size 64]

For every space, the first ``--archs`` architectures of ``space.sample(20 * archs, seed=0)``
with at most ``--max-macs`` multiply-accumulates per image (default 600 M, so that a run fits
on a shared 2-core machine) are built with seed 0; every proxy is scored with :func:`zsbench.engine.harness.score_model` on the
default proxy batch (:func:`zsbench.data.proxy_batch`, real CIFAR-10 images when the data
root has them, else Gaussian). Time is the proxy's ``score`` call (model construction
excluded), the median over architectures and repeats (ntk runs once per architecture:
it dominates). Memory is the peak resident set size during the call above the resident
size at its start, read from ``VmHWM`` after resetting it through ``/proc/self/clear_refs``
(Linux). The script re-runs itself with a fixed glibc mmap threshold and trims the heap
before each call, so freed tensors leave the resident set; memory the allocator still
keeps is reused without showing up, so the figure is a lower bound of the proxy's
working set (the model itself, built before the call, is not included). The maximum
over architectures is shown.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from pathlib import Path

DEFAULT_PROXIES = (
    "grad_norm,plain,snip,grasp,fisher,jacob_cov,synflow,ntk,zen,naswot,zico,l2_norm,flops,params,depth"
)
# A fixed mmap threshold makes glibc return every large buffer (tensors) to the OS when it
# is freed, so the resident set follows the live tensors instead of the allocator's cache.
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def _read_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _trim_heap() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure(build, proxy, batch, seed: int) -> tuple[float, float | None, str | None]:
    """Seconds of the score call, peak RSS growth in MiB (None if unavailable), error."""
    import gc

    from zsbench.engine.harness import score_model

    gc.collect()
    _trim_heap()
    start_rss = _read_status_kib("VmRSS")
    can_peak = _reset_peak() and start_rss is not None
    (result,) = score_model(build, [proxy], batch, seed=seed)
    peak = _read_status_kib("VmHWM") if can_peak else None
    mib = (peak - start_rss) / 1024 if peak is not None and start_rss is not None else None
    return result.seconds, mib, result.error


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=2, help="architectures per space")
    parser.add_argument(
        "--max-macs", type=float, default=600e6, help="skip sampled architectures above this many MACs per image"
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats per architecture (ntk: 1)")
    parser.add_argument("--proxies", default=DEFAULT_PROXIES, help="proxy selection, e.g. 'all', 'snip,zen', '-ntk'")
    parser.add_argument("--spaces", default="R1,R2,MB,nb201")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    import torch
    from rich.console import Console
    from rich.table import Table

    import zsbench
    from zsbench.data import proxy_batch

    torch.set_num_threads(args.threads)
    console = Console(emoji=False, highlight=False, width=max(160, Console().width))
    host = zsbench.get_host()
    proxies = host.proxies.select(args.proxies)
    spaces = [s.strip() for s in args.spaces.split(",") if s.strip()]
    batch = proxy_batch("cifar10", batch_size=args.batch_size, seed=0, data_root=args.data_root)
    console.print(f"batch: {batch.size} x {batch.input_shape}, source {batch.source}; threads {args.threads}")

    seconds: dict[tuple[str, str], list[float]] = {}
    memory: dict[tuple[str, str], list[float]] = {}
    failures: dict[tuple[str, str], str] = {}
    wall = time.perf_counter()
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

            for proxy in proxies:
                repeats = 1 if proxy.name == "ntk" else args.repeats
                for _ in range(repeats):
                    secs, mib, error = measure(build, proxy, batch, seed=0)
                    key = (proxy.name, space_name)
                    if error is not None:
                        failures[key] = error
                        console.print(f"  {proxy.name}: failed: {error}")
                        break
                    seconds.setdefault(key, []).append(secs)
                    if mib is not None:
                        memory.setdefault(key, []).append(mib)

    table = Table(title=f"proxy cost per architecture (median s / peak RSS growth MiB), threads={args.threads}")
    table.add_column("proxy")
    for space_name in spaces:
        table.add_column(f"{space_name} s", justify="right")
        table.add_column(f"{space_name} MiB", justify="right")
    for proxy in proxies:
        row = [proxy.name]
        for space_name in spaces:
            key = (proxy.name, space_name)
            if key in seconds:
                row.append(f"{statistics.median(seconds[key]):.3f}")
                row.append(f"{max(memory[key]):.0f}" if key in memory else "n/a")
            else:
                row += ["failed" if key in failures else "-", ""]
        table.add_row(*row)
    console.print(table)
    console.print(f"total wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    if sys.platform.startswith("linux") and any(os.environ.get(k) != v for k, v in _MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **_MALLOC_ENV})
    main()
