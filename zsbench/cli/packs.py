"""``zsbench packs list|build|verify``: the precomputed scores plugins ship."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from zsbench.cli._common import err_console, handle_errors, interrupted_exit, out_console, print_json, stdout_to_stderr
from zsbench.cli._options import DataRoot, Executor, Json, Proxies, Quiet, RayAddress, ThreadsPerWorker, Timeout, Workers

packs_app = typer.Typer(
    help="Score packs: every built-in proxy's scores precomputed on the shipped benchmarks, read where the "
    "cache lacks a score (same key and run contract); a new proxy is compared by computing only it.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``packs`` command group to ``app``."""
    app.add_typer(packs_app, name="packs")


# the options of the packs commands
PackBenchmark = Annotated[str, typer.Argument(help="The benchmark whose networks are scored.")]
PackLimit = Annotated[
    int | None,
    typer.Option("--limit", "-n", help="The first N of the seeded permutation 'evaluate --limit' samples from [default: all]."),
]
PackOutput = Annotated[
    str | None, typer.Option("--output", "-o", help="Pack file to build or extend [default: the installed pack of BENCHMARK].")
]
BuildCache = Annotated[str | None, typer.Option("--cache", help="Score cache the build computes into (resumable).")]
WriteCachedOnly = Annotated[
    bool, typer.Option("--cached-only", help="Compute nothing: write what the cache and the pack already hold.")
]
PackName = Annotated[str | None, typer.Argument(help="Pack name [default: every installed pack].")]
Sample = Annotated[int, typer.Option("--sample", "-n", help="Networks recomputed per pack (seeded).")]
SampleSeed = Annotated[int, typer.Option("--seed", help="Seed of the sample.")]
OnlyProxies = Annotated[str | None, typer.Option("--proxies", "-p", help="Only these proxies, comma-separated.")]
JustWorkers = Annotated[int, typer.Option("--workers", "-j", help="Worker processes.")]

@packs_app.command("list")
def list_cmd(as_json: Json = False) -> None:
    """Each installed pack: its coverage (networks x proxies), stale entries, size and provenance."""
    from zsbench.engine.pack_builder import registered_packs, summarise_pack
    from zsbench.plugins import get_host

    with handle_errors():
        host = get_host()
        summaries = [summarise_pack(pack, host) for pack in registered_packs(host)]
        if as_json:
            print_json([_summary_json(s) for s in summaries])
            return
        table = Table(title="score packs", title_justify="left", caption=_list_caption(summaries), caption_justify="left")
        for column in ("pack", "benchmark", "networks", "proxies", "scores", "failures", "stale", "size", "computed on"):
            table.add_column(column, justify="right" if column in ("networks", "scores", "failures", "stale", "size") else "left")
        for s in summaries:
            current = [p for p in s.proxies if p.current]
            # the CPU and torch build: what decides whether another machine's recomputation agrees bit for bit
            machines = sorted({f"{str(p.get('machine', '?')).split(', ', 1)[-1]}, torch {p.get('torch', '?')}" for p in s.provenance})
            table.add_row(
                s.name, s.benchmark, f"{s.networks:,}", _proxy_cell(current), f"{s.scores:,}",
                f"{sum(p.failures for p in current):,}", f"{s.stale:,}", f"{s.size / 1e6:.2f} MB", Text("; ".join(machines)),
            )  # fmt: skip
        out_console.print(table)

@packs_app.command("build")
def build_cmd(
    benchmark: PackBenchmark,
    proxies: Proxies = "all",
    limit: PackLimit = None,
    output: PackOutput = None,
    cache: BuildCache = None,
    cached_only: WriteCachedOnly = False,
    data_root: DataRoot = None,
    executor: Executor = "local",
    workers: Workers = 1,
    ray_address: RayAddress = None,
    threads: ThreadsPerWorker = None,
    timeout: Timeout = None,
    quiet: Quiet = False,
) -> None:
    """Build or extend a score pack through the same cached executors as evaluate.

    Long builds resume: every finished network is in the cache, and the pack is rewritten from
    it. Run them at low priority with one thread (nice -n 19 ... --threads 1).
    """
    from zsbench.engine.evaluation import PoolOptions, RunOptions
    from zsbench.engine.pack_builder import build_pack
    from zsbench.plugins import get_host

    with handle_errors():
        host = get_host()
        target = Path(output) if output else None
        if target is None:
            if benchmark not in host.packs:
                from zsbench.errors import UsageError

                raise UsageError(
                    f"no installed pack for {benchmark!r}; name the file to write with --output FILE.jsonl.gz"
                )
            target = Path(host.packs.get(benchmark).path)
        run = RunOptions(
            cache=cache, executor=executor, workers=workers, ray_address=ray_address, threads=threads, timeout=timeout
        )
        try:
            with stdout_to_stderr():
                report = build_pack(
                    benchmark, target, proxies=proxies, pool=PoolOptions(limit=limit, data_root=data_root),
                    run=run, compute=not cached_only, host=host, progress=not quiet,
                )  # fmt: skip
        except KeyboardInterrupt as exc:
            raise interrupted_exit(exc, "every finished network is in the cache; rerun to resume the build") from None
        err_console.print(
            f"{report.path}: {report.written:,} scores ({report.computed:,} computed now) and {report.costs:,} costs; "
            f"{report.archs:,} networks of {report.benchmark} x {len(report.proxies)} proxies asked",
            highlight=False,
        )

@packs_app.command("verify")
def verify_cmd(
    pack: PackName = None,
    sample: Sample = 20,
    seed: SampleSeed = 0,
    proxies: OnlyProxies = None,
    data_root: DataRoot = None,
    workers: JustWorkers = 1,
    threads: ThreadsPerWorker = None,
    as_json: Json = False,
) -> None:
    """Recompute a seeded sample of a pack's scores here and compare: per proxy, the largest relative
    difference and the rank agreement. Exits 1 when a proxy differs beyond its tolerance."""
    from zsbench.engine.evaluation import RunOptions
    from zsbench.engine.pack_builder import registered_packs, verify_pack
    from zsbench.plugins import get_host

    with handle_errors():
        host = get_host()
        chosen = [p.strip() for p in proxies.split(",") if p.strip()] if proxies else None
        results = {}
        with stdout_to_stderr():
            for loaded in registered_packs(host, [pack] if pack else None):
                results[loaded.name] = verify_pack(
                    loaded, sample=sample, seed=seed, proxies=chosen, data_root=data_root,
                    run=RunOptions(workers=workers, threads=threads), host=host,
                )  # fmt: skip
        failed = sorted({(name, c.proxy) for name, checks in results.items() for c in checks if not c.ok})
        if as_json:
            print_json({name: [_check_json(c) for c in checks] for name, checks in results.items()})
        else:
            for name, checks in results.items():
                table = Table(title=f"pack {name}: {sample} networks recomputed (seed {seed})", title_justify="left")
                for column in ("proxy", "n", "max rel. diff", "tolerance", "spearman", "failures differ", "ok"):
                    table.add_column(column, justify="left" if column == "proxy" else "right")
                for c in checks:
                    table.add_row(
                        c.proxy, str(c.n), f"{c.max_relative_difference:.1e}", f"{c.tolerance:.0e}",
                        "-" if c.spearman != c.spearman else f"{c.spearman:.4f}", str(c.failures_differ),
                        "yes" if c.ok else "NO",
                    )  # fmt: skip
                out_console.print(table)
        if failed:
            err_console.print(
                "differs beyond tolerance: " + ", ".join(f"{p} in {n}" for n, p in failed)
                + " (a proxy changed without a version bump, or another torch build)",
                highlight=False,
            )
            raise typer.Exit(1)



def _proxy_cell(current: list) -> str:
    if not current:
        return "0"
    counts = sorted({p.current for p in current})
    spread = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}-{counts[-1]:,} networks"
    return f"{len(current)} ({spread} each)" if len(counts) == 1 else f"{len(current)} ({spread})"


def _list_caption(summaries: list) -> str:
    total = sum(s.size for s in summaries)
    stale = sum(s.stale for s in summaries)
    line = f"{len(summaries)} packs, {total / 1e6:.1f} MB in all"
    if stale:
        line += f"; {stale:,} stale entries (a proxy version other than the installed one): rebuild with zsbench packs build"
    return line


def _summary_json(s) -> dict:
    return {
        "name": s.name, "benchmark": s.benchmark, "path": str(s.path), "size": s.size, "networks": s.networks,
        "scores": s.scores, "stale": s.stale, "provenance": s.provenance,
        "proxies": [{"proxy": p.proxy, "version": p.version, "scores": p.current, "failures": p.failures, "stale": p.stale}
                    for p in s.proxies],
    }  # fmt: skip


def _check_json(c) -> dict:
    from zsbench.engine.jsonable import json_value

    return {
        "proxy": c.proxy, "n": c.n, "max_relative_difference": c.max_relative_difference, "tolerance": c.tolerance,
        "spearman": json_value(c.spearman), "failures_differ": c.failures_differ, "ok": c.ok,
    }  # fmt: skip
