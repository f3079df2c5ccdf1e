"""Score packs: a build writes the engine's scores byte-stably; evaluate reads them where the cache
lacks them (exact key and contract), says how many, keeps a pack's failure a failure, ignores a
bumped version's old entries (``packs list`` counts them stale) and computes everything with
``use_packs=False``; ``verify`` recomputes and compares within each proxy's tolerance."""

from __future__ import annotations

import gzip
import json
import types
from pathlib import Path

import pytest
from toy_plugins import ToyFlaky, ToyOutput, evaluate_with, toy_batch, toy_host

import zsbench
from zsbench.engine.evaluation import PoolOptions, RunOptions, ScoringOptions
from zsbench.engine.pack_builder import build_pack, summarise_pack, verify_pack
from zsbench.engine.packs import PackError, load_pack

PROXIES = "toy_params,toy_output,toy_flaky"


def _build(tmp_path: Path, host: zsbench.PluginHost, name: str = "toy-bench", **options) -> Path:
    target = tmp_path / f"{name}.jsonl.gz"
    build_pack(
        "toy-bench", target, proxies=PROXIES, scoring=ScoringOptions(batch=toy_batch()),
        run=RunOptions(cache=tmp_path / "build.sqlite"), host=host, **options,
    )  # fmt: skip
    return target


def _host_with_pack(path: Path, host: zsbench.PluginHost | None = None) -> zsbench.PluginHost:
    host = host if host is not None else toy_host()
    plugin = types.SimpleNamespace(
        register_packs=zsbench.hookimpl(lambda register: register(zsbench.ScorePack("toy-bench", path)))
    )
    host.register_plugin(plugin, name="toy-pack")
    return host


def test_build_is_byte_stable_and_records_provenance(tmp_path):
    first = _build(tmp_path, toy_host())
    data = first.read_bytes()
    again = _build(tmp_path, toy_host())  # everything is in the cache and the pack now: nothing new
    assert again.read_bytes() == data
    lines = gzip.decompress(data).decode().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "zsbench-score-pack" and header["benchmark"] == "toy-bench"
    assert len(header["provenance"]) == 1 and {"zsbench", "torch", "python", "machine"} <= set(header["provenance"][0])
    scores = [json.loads(line) for line in lines[1:] if '"score"' in line]
    archs = len(list(toy_host().spaces.get("toy").enumerate()))
    assert len(scores) == 3 * archs
    assert [s["arch"] for s in scores] == sorted(s["arch"] for s in scores)  # key order


def test_evaluate_reads_the_pack_and_says_so(tmp_path):
    pack = _build(tmp_path, toy_host())
    computed = evaluate_with(PROXIES, "toy-bench", host=toy_host(), cache=tmp_path / "ref.sqlite", batch=toy_batch(), bootstrap=0)
    read = evaluate_with(PROXIES, "toy-bench", host=_host_with_pack(pack), cache=tmp_path / "user.sqlite", batch=toy_batch(), bootstrap=0)
    assert read.computed == 0 and read.cached == 0
    assert read.from_packs == {"toy-bench": 3 * read.archs}
    assert read.to_json()["scores"]["from_packs"] == {"toy-bench": 3 * read.archs}
    for proxy in ("toy_params", "toy_output", "toy_flaky"):
        assert read.scores[proxy].equals(computed.scores[proxy])
    # a failure in the pack stays a failure, with its reason
    assert sorted(read.failures["arch"]) == sorted(computed.failures["arch"]) and len(read.failures) > 0
    assert set(read.failures["error"]) == set(computed.failures["error"])
    # nothing from the pack was copied into the user's cache: the layer is read-only
    off = evaluate_with(
        PROXIES, "toy-bench", host=_host_with_pack(pack), cache=tmp_path / "user.sqlite", batch=toy_batch(), bootstrap=0,
        use_packs=False,
    )  # fmt: skip
    assert off.from_packs == {} and off.computed == 3 * off.archs


def test_no_packs_environment_switch(tmp_path, monkeypatch):
    pack = _build(tmp_path, toy_host())
    monkeypatch.setenv("ZSBENCH_NO_PACKS", "1")
    off = evaluate_with(PROXIES, "toy-bench", host=_host_with_pack(pack), cache=tmp_path / "u.sqlite", batch=toy_batch(), bootstrap=0)
    assert off.from_packs == {} and off.computed == 3 * off.archs


def test_a_partial_pack_is_completed_by_computing_only_the_rest(tmp_path):
    pack = _build(tmp_path, toy_host(), pool=PoolOptions(limit=5))
    read = evaluate_with(PROXIES, "toy-bench", host=_host_with_pack(pack), cache=tmp_path / "u.sqlite", batch=toy_batch(), bootstrap=0)
    assert read.from_packs == {"toy-bench": 15}
    assert read.computed == 3 * (read.archs - 5)
    # extending the pack keeps what it held and adds the rest, under a second provenance
    build_pack(
        "toy-bench", pack, proxies=PROXIES, scoring=ScoringOptions(batch=toy_batch()), run=RunOptions(cache=tmp_path / "u.sqlite"),
        host=toy_host(),
    )  # fmt: skip
    loaded = load_pack(pack)
    assert loaded.records() == 3 * read.archs and len(loaded.header["provenance"]) == 2


def test_another_batch_or_a_bumped_version_does_not_read_the_pack(tmp_path):
    pack = _build(tmp_path, toy_host())
    other = evaluate_with(
        "toy_output", "toy-bench", host=_host_with_pack(pack), cache=tmp_path / "u.sqlite", batch=toy_batch(seed=1), bootstrap=0
    )
    assert other.from_packs == {}  # another batch's content: another contract
    bumped = type("ToyOutputV2", (ToyOutput,), {"version": "2"})()
    stale_host = _bumped_host(bumped)
    stale_host = _host_with_pack(pack, stale_host)
    result = evaluate_with("toy_output", "toy-bench", host=stale_host, cache=tmp_path / "v.sqlite", batch=toy_batch(), bootstrap=0)
    assert result.from_packs == {} and result.computed == result.archs
    summary = summarise_pack(load_pack(pack), stale_host)
    coverage = {p.proxy: p for p in summary.proxies}
    assert coverage["toy_output"].current == 0 and coverage["toy_output"].stale == result.archs
    assert coverage["toy_params"].stale == 0 and summary.stale == result.archs


def _bumped_host(bumped: zsbench.Proxy) -> zsbench.PluginHost:
    """The toy plugins with toy_output replaced by a version-2 copy."""
    import importlib

    import toy_plugins

    module = types.SimpleNamespace(
        register_search_spaces=toy_plugins.register_search_spaces,
        register_benchmarks=toy_plugins.register_benchmarks,
        register_proxies=zsbench.hookimpl(
            lambda register: [register(p) for p in (toy_plugins.ToyParams(), bumped, ToyFlaky())]
        ),
    )
    host = zsbench.PluginHost(entry_points=False)
    host.register_plugin(module, name="toy")
    host.register_plugin(importlib.import_module("zsbench_metrics.kendall"), name="kendall")
    return host


def test_verify_passes_on_the_same_code_and_fails_on_a_changed_value(tmp_path):
    pack = _build(tmp_path, toy_host())
    checks = verify_pack(load_pack(pack), sample=6, batch=toy_batch(), host=toy_host(), run=RunOptions())
    assert {c.proxy for c in checks} == {"toy_params", "toy_output", "toy_flaky"} and all(c.ok for c in checks)
    assert all(c.n == 6 and c.max_relative_difference == 0.0 for c in checks)
    # the same name and version computing another value: verify must see it
    import toy_plugins

    original = toy_plugins.ToyOutput.score
    try:
        toy_plugins.ToyOutput.score = lambda self, model, batch: 1.01 * original(self, model, batch)
        changed = {c.proxy: c for c in verify_pack(load_pack(pack), sample=6, batch=toy_batch(), host=toy_host())}
    finally:
        toy_plugins.ToyOutput.score = original
    assert not changed["toy_output"].ok and changed["toy_output"].max_relative_difference == pytest.approx(0.01 / 1.01, rel=1e-3)
    assert changed["toy_params"].ok


def test_a_damaged_pack_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"kind": "header"}\n'))
    with pytest.raises(PackError, match="not a zsbench score pack"):
        load_pack(bad)


def test_cached_only_counts_the_pack_scores_of_the_networks_it_evaluates(tmp_path):
    target = tmp_path / "toy-bench.jsonl.gz"
    common = {"scoring": ScoringOptions(batch=toy_batch()), "run": RunOptions(cache=tmp_path / "b.sqlite"), "host": toy_host()}
    build_pack("toy-bench", target, proxies="toy_params", **common)  # every network
    build_pack("toy-bench", target, proxies="toy_output", pool=PoolOptions(limit=5), **common)  # five of them
    read = evaluate_with(
        "toy_params,toy_output", "toy-bench", host=_host_with_pack(target), cache=tmp_path / "u.sqlite", batch=toy_batch(),
        bootstrap=0, cached_only=True,
    )  # fmt: skip
    # only the five networks with both scores are evaluated: their ten scores, not toy_params' on every network
    assert read.archs == 5 and read.from_packs == {"toy-bench": 10}
    assert read.computed == 0 and read.cached == 0
