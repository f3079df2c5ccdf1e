"""The shipped score packs are golden files for the first-party proxies: a handful of each proxy's
pack scores is recomputed here and must agree within the proxy's ``tolerance``. A change of a
proxy's value without a ``version`` bump fails this test; a bumped version has no current
entries until its packs are rebuilt, which fails it too, naming the command."""

from __future__ import annotations

import pytest

import zsbench
from zsbench.engine.pack_builder import registered_packs, verify_pack

RECOMPUTED_PER_PROXY = 2  # the cheapest networks the packs hold for the proxy (ntk's take seconds each)


def _first_party_proxies() -> list[str]:
    return sorted(e.name for e in zsbench.get_host().proxies if e.distribution == "zsbench")


def _current_entries(proxy: str):
    """``(pack, {arch: seconds})`` of the first shipped pack holding current entries of ``proxy``."""
    entry = zsbench.get_host().proxies.entry(proxy)
    for pack in registered_packs():
        for (_space, name, version, _contract), by_arch in sorted(pack.scores.items()):
            if name == proxy and version == str(entry.obj.version):
                return pack, {arch: record.seconds for arch, record in by_arch.items()}
    return None, {}


@pytest.mark.parametrize("proxy", _first_party_proxies())
def test_pack_scores_are_recomputed_exactly(proxy):
    pack, seconds = _current_entries(proxy)
    assert pack is not None, (
        f"no shipped score pack holds {proxy!r} at its installed version: a bumped version needs its pack entries "
        f"rebuilt (zsbench packs build BENCHMARK --proxies {proxy})"
    )
    cheapest = sorted(seconds, key=lambda arch: (seconds[arch], arch))[:RECOMPUTED_PER_PROXY]
    [check] = verify_pack(pack, archs=cheapest, proxies=[proxy])
    assert check.n == len(cheapest) and check.failures_differ == 0
    assert check.ok, (
        f"{proxy} on {pack.name}: largest relative difference {check.max_relative_difference:.2e} beyond its tolerance "
        f"{check.tolerance:.0e}; its value changed: bump the proxy's version and rebuild the packs"
    )
