"""A plugin author's path, as CONTRIBUTING.md tells it: the proxy module and ``pyproject.toml``
shown there are written to a fresh folder, installed with pip, and found by zsbench; and the
contract tests zsbench ships fail a proxy that never gives a number."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import zsbench
from zsbench.testing import ProxyContract

CONTRIBUTING = (Path(__file__).resolve().parents[1] / "CONTRIBUTING.md").read_text()


def _block(language: str, first_line: str) -> str:
    blocks = [b for b in re.findall(rf"```{language}\n(.*?)```", CONTRIBUTING, flags=re.S) if b.startswith(first_line)]
    assert len(blocks) == 1, f"CONTRIBUTING.md should have one {language} block starting {first_line!r}"
    return blocks[0]


@pytest.mark.slow
def test_the_documented_plugin_installs_with_pip_and_is_found(tmp_path: Path) -> None:
    project = tmp_path / "zsbench-proxy-myidea"
    package = project / "src" / "zsbench_proxy_myidea"
    package.mkdir(parents=True)
    (project / "pyproject.toml").write_text(_block("toml", "# pyproject.toml"))
    (package / "__init__.py").write_text(_block("python", "# src/zsbench_proxy_myidea/__init__.py"))
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(project)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    # A fresh interpreter that sees the installed copy first, as a user's environment would.
    probe = (
        "import json, zsbench_proxy_myidea, zsbench;"
        "host = zsbench.PluginHost(load=['myidea'], strict=True);"
        "entry = host.proxies.entry('myidea');"
        "print(json.dumps({'module': zsbench_proxy_myidea.__file__, 'distribution': entry.distribution,"
        " 'version': entry.version, 'higher_is_better': entry.obj.higher_is_better}))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert found.returncode == 0, found.stderr
    info = json.loads(found.stdout)
    assert Path(info["module"]).is_relative_to(site)
    assert (info["distribution"], info["version"], info["higher_is_better"]) == ("zsbench-proxy-myidea", "0.1.0", True)


class NeverANumber(zsbench.Proxy):
    name = "never_a_number"

    def score(self, model, batch) -> float:
        return math.nan


class Wobbly(zsbench.Proxy):
    """A different value at every call: not reproducible under a seed."""

    name = "wobbly"
    calls = 0

    def score(self, model, batch) -> float:
        Wobbly.calls += 1
        return float(Wobbly.calls)


def test_the_proxy_contract_fails_a_proxy_that_never_gives_a_number() -> None:
    contract = type("NeverANumberContract", (ProxyContract,), {"proxy": NeverANumber()})()
    contract.test_declares_a_valid_name()  # the declarations are fine
    with pytest.raises(AssertionError, match="never_a_number gave no score for the tiny CNN"):
        contract.test_returns_a_finite_float_on_cpu()
    with pytest.raises(AssertionError, match="gave no score"):
        contract.test_is_deterministic_under_a_seed()


def test_the_proxy_contract_fails_a_proxy_that_is_not_reproducible() -> None:
    contract = type("WobblyContract", (ProxyContract,), {"proxy": Wobbly()})()
    contract.test_returns_a_finite_float_on_cpu()
    with pytest.raises(AssertionError, match="under the same seed"):
        contract.test_is_deterministic_under_a_seed()



def _first_party_proxies() -> list[str]:
    return sorted(e.name for e in zsbench.get_host().proxies if e.distribution == "zsbench")


# Every first-party proxy runs the whole contract a third-party proxy must pass, through real subclasses,
# so a check added to ProxyContract reaches them all.
for _name in _first_party_proxies():
    _class_name = f"TestFirstPartyContract_{_name}"
    globals()[_class_name] = type(
        _class_name,
        (ProxyContract,),
        {
            "proxy": zsbench.get_host().proxies.get(_name),
            "entry_point": _name,
        },
    )


class _CountingPass(zsbench.SharedPass):
    """A pass whose one product is the number of weights of the model."""

    def __init__(self, key: str) -> None:
        self.key = key

    def run(self, model, batch, products):
        return {"count": float(sum(p.numel() for p in model.parameters()))}


class DriftingShared(zsbench.Proxy):
    """Its shared path gives one more than its own path: the contract must catch that."""

    name = "drifting_shared"
    shared = _CountingPass("drift")

    def score(self, model, batch) -> float:
        return float(sum(p.numel() for p in model.parameters()))

    def requires(self):
        return zsbench.PassRequest(self.shared, frozenset({"count"}))

    def score_shared(self, products, model, batch) -> float:
        return products["count"] + 1.0


def test_the_proxy_contract_fails_a_shared_score_that_differs_from_the_own_score() -> None:
    contract = type("DriftingContract", (ProxyContract,), {"proxy": DriftingShared()})()
    contract.test_returns_a_finite_float_on_cpu()
    with pytest.raises(AssertionError, match="from its shared pass but"):
        contract.test_shared_pass_gives_its_own_score()


def test_two_different_passes_under_one_key_are_refused() -> None:
    from zsbench.engine.harness import score_model
    from zsbench.testing import make_tiny_batch, make_tiny_model

    first, second = DriftingShared(), DriftingShared()
    second.shared = _CountingPass("drift")  # another object under the same key
    with pytest.raises(zsbench.ZsbenchError, match="two different shared passes under the key 'drift'"):
        score_model(make_tiny_model, [first, second], make_tiny_batch(), seed=0)
    same = DriftingShared()
    results = score_model(make_tiny_model, [first, same], make_tiny_batch(), seed=0)  # one object: shared
    assert [r.value for r in results] == [results[0].value] * 2 and results[0].value == first.score(make_tiny_model(), None) + 1
