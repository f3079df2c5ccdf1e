"""Building, listing and verifying score packs (``zsbench packs build|list|verify``).

:mod:`zsbench.engine.packs` defines the file format and the read-only layer the engine reads;
this module makes packs with the engine itself: a build is an evaluation (same executors, same
cache, resumable) whose scores are then written to the pack file with their provenance, merged
with what the pack already held. A verification recomputes a seeded sample of a pack's scores
here, with packs switched off, and compares them within each proxy's ``tolerance``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsbench.data import batch_fingerprint
from zsbench.engine.cache import CachedCost, CachedScore, ScoreCache
from zsbench.engine.evaluation import (
    DEFAULT_BATCH_SIZE,
    IndexOptions,
    PoolOptions,
    RunOptions,
    ScoringOptions,
    _open_cache,
    _plan,
    _resolve,
    _run,
    make_batch,
    score_architectures,
    score_contract_key,
)
from zsbench.engine.outputs import check_output
from zsbench.engine.packs import Pack, PackLayer, load_pack, this_machine, write_pack
from zsbench.errors import UsageError
from zsbench.interfaces import Batch
from zsbench.plugins import PluginHost, get_host


@dataclass
class BuildReport:
    """What :func:`build_pack` did: scores ``computed`` here, scores and ``costs`` ``written`` in
    all (what the pack held, what the cache held, what was computed), and the pack file."""

    path: Path
    benchmark: str
    archs: int
    proxies: list[str]
    computed: int = 0
    written: int = 0
    costs: int = 0


def build_pack(
    benchmark: str,
    path: str | Path,
    *,
    proxies: str | Sequence[str] = "all",
    pool: PoolOptions | None = None,
    scoring: ScoringOptions | None = None,
    run: RunOptions | None = None,
    compute: bool = True,
    host: PluginHost | None = None,
    progress: bool | Callable[[int, int], None] = False,
    source: str = "zsbench packs build",
) -> BuildReport:
    """Build or extend the pack at ``path`` with ``proxies``' scores on ``benchmark``.

    Scores the pack or the cache already holds (same key and run contract) are kept; the
    missing ones are computed through ``run``'s executor and stored in the cache as they
    arrive (an interrupted build resumes from the cache), then the pack file is rewritten
    with every score it held plus the new ones. ``compute=False`` writes only what the cache
    and the pack hold (the records of a build still running elsewhere).
    """
    host = host if host is not None else get_host()
    pool, scoring, run = pool or PoolOptions(), scoring or ScoringOptions(), run or RunOptions()
    target = check_output(path)  # an unwritable pack path fails now, not after the scoring
    existing = load_pack(target) if target.is_file() else None
    job = _resolve(host, proxies, benchmark, host.metrics.names()[:1] or "all", pool, scoring, IndexOptions(bootstrap=0))
    layer = PackLayer([(existing.name, target)]) if existing is not None else None
    with _open_cache(run.cache) as store:
        plan = _plan(job, store, scoring, run.retry_failed, layer)
        computed = 0
        if compute:
            computed = _run(job, plan, store, scoring, run, host, explicit_host=False, progress=progress)
    provenances: list[dict[str, Any]] = list(existing.header.get("provenance", [])) if existing else []
    rows: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    if existing is not None:
        for (space, proxy, version, contract), by_arch in existing.scores.items():
            for arch, record in by_arch.items():
                prov = existing.provenance.get((space, proxy, version, contract, arch), 0)
                rows[(space, arch, proxy, version, contract)] = _score_row(space, arch, proxy, version, contract, record, prov)
    new_prov = len(provenances)
    space_name = job.space.obj.name
    added = 0
    for entry in job.proxies:
        contract = plan.contracts[entry.qualified_name]
        for arch, record in plan.stored[entry.qualified_name].items():
            key = (space_name, arch, entry.obj.name, str(entry.obj.version), contract)
            if key not in rows:
                rows[key] = _score_row(space_name, arch, entry.obj.name, str(entry.obj.version), contract, record, new_prov)
                added += 1
    if added:
        provenances.append(
            {**this_machine(), "source": source, "date": datetime.date.today().isoformat(), "scores": added}
        )
    cost_rows = _cost_rows(existing)
    for arch, cost in plan.stored_costs.items():
        cost_rows[(space_name, arch, job.num_classes, job.input_size)] = _cost_row(
            space_name, arch, job.num_classes, job.input_size, cost
        )
    spaces = sorted({key[0] for key in rows} | {space_name})
    header = {
        "name": existing.name if existing is not None else target.name.split(".")[0],
        "benchmark": str(job.bench.name),
        "dataset": str(job.bench.dataset),
        "space": space_name,
        "spaces": spaces,
        # fingerprint -> description of each input batch the pack's scores were computed on
        "batches": {**(existing.header.get("batches", {}) if existing else {}), batch_fingerprint(job.batch): job.batch.source},
        "provenance": provenances,
    }
    written, costs = write_pack(target, header, rows.values(), cost_rows.values())
    return BuildReport(target, str(job.bench.name), len(plan.archs), [e.obj.name for e in job.proxies], computed, written, costs)


def _score_row(
    space: str, arch: str, proxy: str, version: str, contract: str, record: CachedScore, prov: int
) -> dict[str, Any]:
    return {
        "space": space, "arch": arch, "proxy": proxy, "proxy_version": version, "contract": contract,
        "value": record.value, "error": record.error, "seconds": record.seconds, "prov": prov,
    }  # fmt: skip


def _cost_rows(pack: Pack | None) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    rows: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    if pack is None:
        return rows
    for (space, num_classes, input_size), by_arch in pack.costs.items():
        for arch, cost in by_arch.items():
            rows[(space, arch, num_classes, input_size)] = _cost_row(space, arch, num_classes, input_size, cost)
    return rows


def _cost_row(space: str, arch: str, num_classes: int, input_size: int, cost: CachedCost) -> dict[str, Any]:
    return {
        "space": space, "arch": arch, "num_classes": num_classes, "input_size": input_size,
        "flops": cost.flops, "params": cost.params, "depth": cost.depth, "error": cost.error,
    }  # fmt: skip


# -- list ------------------------------------------------------------------------------------------


@dataclass
class ProxyCoverage:
    """One proxy's entries in a pack: under its installed ``version`` (``current``, of which
    ``failures`` are failures) and under other versions (``stale``: unused until rebuilt)."""

    proxy: str
    version: str | None
    current: int = 0
    failures: int = 0
    stale: int = 0


@dataclass
class PackSummary:
    """A registered pack as ``zsbench packs list`` shows it."""

    name: str
    path: Path
    benchmark: str
    size: int
    networks: int
    proxies: list[ProxyCoverage] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scores(self) -> int:
        """Entries usable with the installed proxies."""
        return sum(p.current for p in self.proxies)

    @property
    def stale(self) -> int:
        """Entries of proxy versions other than the installed ones (or of proxies not installed)."""
        return sum(p.stale for p in self.proxies)


def summarise_pack(pack: Pack, host: PluginHost) -> PackSummary:
    """Coverage of one pack against the installed proxies' versions."""
    installed = {e.obj.name: str(e.obj.version) for e in host.proxies}
    by_proxy: dict[str, ProxyCoverage] = {}
    networks: set[str] = set()
    for (_space, proxy, version, _contract), by_arch in pack.scores.items():
        coverage = by_proxy.setdefault(proxy, ProxyCoverage(proxy, installed.get(proxy)))
        if installed.get(proxy) == version:
            coverage.current += len(by_arch)
            coverage.failures += sum(1 for r in by_arch.values() if r.error is not None)
            networks.update(by_arch)
        else:
            coverage.stale += len(by_arch)
    return PackSummary(
        name=pack.name,
        path=pack.path,
        benchmark=str(pack.header.get("benchmark", "?")),
        size=pack.size,
        networks=len(networks),
        proxies=sorted(by_proxy.values(), key=lambda p: p.proxy),
        provenance=list(pack.header.get("provenance", [])),
    )


def registered_packs(host: PluginHost | None = None, names: Sequence[str] | None = None) -> list[Pack]:
    """The packs the installed plugins register (``names`` only, if given), loaded."""
    from zsbench.engine.packs import cached_load

    host = host if host is not None else get_host()
    entries = [host.packs.entry(name) for name in names] if names else list(host.packs)
    return [cached_load(Path(entry.obj.path), entry.name) for entry in entries]


# -- verify ----------------------------------------------------------------------------------------


@dataclass
class ProxyCheck:
    """One proxy's verification: ``n`` scores recomputed, the largest relative difference with
    the pack, the Spearman correlation of the two (``nan`` below 3 values or constant ones),
    failures that differ, and whether it passed within ``tolerance``."""

    proxy: str
    n: int
    max_relative_difference: float
    spearman: float
    failures_differ: int
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.failures_differ == 0 and self.max_relative_difference <= self.tolerance


def verify_pack(
    pack: Pack,
    *,
    sample: int | None = 20,
    seed: int = 0,
    archs: Sequence[str] | None = None,
    proxies: Sequence[str] | None = None,
    data_root: str | Path | None = None,
    batch: Batch | None = None,
    run: RunOptions | None = None,
    host: PluginHost | None = None,
) -> list[ProxyCheck]:
    """Recompute pack scores here and compare them with the pack.

    Args:
        pack: a loaded pack (:func:`registered_packs`).
        sample: architectures drawn (seeded) among those the pack holds current entries for;
            ``None``: all of them. Ignored when ``archs`` is given.
        archs: exactly these architectures.
        proxies: only these proxies (default: every installed proxy with current entries).
        batch: the input batch (default: the benchmark's default proxy batch, 64 images, seed 0).

    Returns:
        One :class:`ProxyCheck` per proxy, in name order.

    Raises:
        UsageError: the pack's benchmark is not installed, or no entry matches this machine's
            run contract (another batch or device).
    """
    import numpy as np
    import pandas as pd

    host = host if host is not None else get_host()
    name = str(pack.header.get("benchmark", ""))
    if name not in host.benchmarks:
        raise UsageError(f"pack {pack.name!r} scores benchmark {name!r}, which is not installed")
    bench = host.benchmarks.get(name)
    space = host.spaces.entry(bench.space)
    installed = {e.obj.name: e for e in host.proxies}
    wanted = sorted(proxies) if proxies else sorted(p for p in {key[1] for key in pack.scores} if p in installed)
    for proxy in wanted:
        if proxy not in installed:
            raise UsageError(f"proxy {proxy!r} is not installed; installed: {', '.join(sorted(installed))}")
    if batch is None:
        batch = make_batch(bench, batch_size=DEFAULT_BATCH_SIZE, seed=0, data_root=data_root)
    entries = [installed[p] for p in wanted]
    contracts = {entry.obj.name: score_contract_key(entry.obj, batch, 0, "cpu", bench) for entry in entries}
    held = {
        e.obj.name: pack.scores.get((space.obj.name, e.obj.name, str(e.obj.version), contracts[e.obj.name]), {})
        for e in entries
    }
    if not any(held.values()):
        raise UsageError(
            f"pack {pack.name!r} holds no score under this machine's run contract for {', '.join(wanted)} "
            "(another batch, device or proxy version); rebuild it with `zsbench packs build`"
        )
    if archs is None:
        pool = sorted(set().union(*held.values()))
        if sample is not None and sample < len(pool):
            pool = sorted(pool[i] for i in np.random.default_rng(seed).permutation(len(pool))[:sample])
        archs = pool
    archs = list(dict.fromkeys(archs))
    costs = pd.DataFrame({c: [float("nan")] * len(archs) for c in ("flops", "params", "depth")})
    run = run if run is not None else RunOptions()
    import dataclasses

    run = dataclasses.replace(run, use_packs=False, cache=None)  # recompute every score, keep nothing
    with ScoreCache(":memory:") as store:
        fresh, _ = score_architectures(
            [e for e in entries if held[e.obj.name]], bench, space, archs, costs, batch, store,
            run=run, host=host, explicit_host=False,
        )  # fmt: skip
    checks = [_compare(entry, held[entry.obj.name], fresh.get(entry.qualified_name, {}), archs) for entry in entries]
    return [c for c in checks if c is not None]


def _compare(entry: Any, stored: dict[str, Any], again: dict[str, Any], archs: list[str]) -> ProxyCheck | None:
    """One proxy's recomputed scores against the pack's (``None``: the pack holds none of ``archs``)."""
    mine = [a for a in archs if a in stored]
    if not mine:
        return None
    differ, relative, pairs = 0, 0.0, []
    for arch in mine:
        a, b = stored[arch], again[arch]
        if (a.error is None) != (b.error is None):
            differ += 1
            continue
        if a.error is None and a.value is not None and b.value is not None:
            scale = max(abs(a.value), abs(b.value), 1e-300)
            relative = max(relative, abs(a.value - b.value) / scale if a.value != b.value else 0.0)
            pairs.append((a.value, b.value))
    return ProxyCheck(entry.obj.name, len(mine), relative, _spearman(pairs), differ, float(entry.obj.tolerance))


def _spearman(pairs: list[tuple[float, float]]) -> float:
    import numpy as np
    from scipy.stats import spearmanr

    if len(pairs) < 3:
        return float("nan")
    values = np.asarray(pairs, dtype=float)
    if np.ptp(values[:, 0]) == 0 or np.ptp(values[:, 1]) == 0:
        return float("nan")
    return float(spearmanr(values[:, 0], values[:, 1]).statistic)


__all__ = [
    "BuildReport",
    "PackSummary",
    "ProxyCheck",
    "ProxyCoverage",
    "build_pack",
    "registered_packs",
    "summarise_pack",
    "verify_pack",
]
