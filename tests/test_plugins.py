"""Plugin discovery through real entry points: good, broken, duplicate and conflicting plugins.

Each test writes small distributions (a module plus a ``*.dist-info`` folder with
``entry_points.txt``) into a temporary folder and puts it on ``sys.path``, which is exactly
what ``importlib.metadata`` reads for installed packages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zsbench.errors import AmbiguousComponentError
from zsbench.plugins import PluginHost, PluginWarning

PROXY_MODULE = '''
import zsbench

class {cls}(zsbench.Proxy):
    name = "{proxy}"
    description = "test proxy from {dist}"
    def score(self, model, batch):
        return 1.0

@zsbench.hookimpl
def register_proxies(register):
    register({cls}())
'''


def write_dist(site: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """Write an installed-looking distribution into ``site``."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[zsbench]\n{lines}\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


def considered(host: PluginHost) -> list:
    """Plugins the host tried to load (installed ones outside the allow-list show as blocked)."""
    return [p for p in host.plugins if p.status != "blocked"]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in list(sys.modules):
        if name.startswith("zt_"):
            del sys.modules[name]


def test_a_good_plugin_is_discovered_with_its_provenance(site: Path) -> None:
    write_dist(site, "zt-good", {"zt_good": "zt_good"}, {"zt_good": PROXY_MODULE.format(cls="Good", proxy="zt_good", dist="zt-good")})
    host = PluginHost(load=["zt_good"])
    [info] = considered(host)
    assert (info.name, info.distribution, info.version, info.status) == ("zt_good", "zt-good", "1.0", "ok")
    assert info.provides == ["proxy:zt_good"]
    entry = host.proxies.entry("zt_good")
    assert (entry.plugin, entry.distribution, entry.version) == ("zt_good", "zt-good", "1.0")


def test_a_plugin_that_raises_at_import_is_reported_and_the_rest_works(site: Path) -> None:
    write_dist(site, "zt-good", {"zt_good": "zt_good"}, {"zt_good": PROXY_MODULE.format(cls="Good", proxy="zt_good", dist="zt-good")})
    write_dist(site, "zt-broken", {"zt_broken": "zt_broken"}, {"zt_broken": "raise RuntimeError('boom at import')\n"})
    with pytest.warns(PluginWarning, match=r"Skipped plugin 'zt_broken' \(zt-broken 1.0\): RuntimeError: boom at import"):
        host = PluginHost(load=["zt_good", "zt_broken"])
    statuses = {p.name: p.status for p in considered(host)}
    assert statuses == {"zt_good": "ok", "zt_broken": "failed"}
    assert host.failed()[0].error == "RuntimeError: boom at import"
    assert "zt_good" in host.proxies


def test_a_plugin_that_raises_in_its_hook_registers_nothing(site: Path) -> None:
    source = PROXY_MODULE.format(cls="Half", proxy="zt_half", dist="zt-half") + textwrap.dedent('''
        @zsbench.hookimpl
        def register_metrics(register):
            raise ValueError("metric hook broke")
        ''')
    write_dist(site, "zt-half", {"zt_half": "zt_half"}, {"zt_half": source})
    with pytest.warns(PluginWarning, match="metric hook broke"):
        host = PluginHost(load=["zt_half"])
    assert considered(host)[0].status == "failed"
    assert "zt_half" not in host.proxies  # all or nothing: a half-registered plugin would mislead


def test_registering_a_class_instead_of_an_instance_is_explained(site: Path) -> None:
    source = PROXY_MODULE.format(cls="Cls", proxy="zt_cls", dist="zt-cls").replace("register(Cls())", "register(Cls)")
    write_dist(site, "zt-cls", {"zt_cls": "zt_cls"}, {"zt_cls": source})
    with pytest.warns(PluginWarning, match=r"register an instance: register\(Cls\(\)\)"):
        PluginHost(load=["zt_cls"])


def test_strict_mode_reraises(site: Path) -> None:
    write_dist(site, "zt-broken", {"zt_broken": "zt_broken"}, {"zt_broken": "raise RuntimeError('boom')\n"})
    with pytest.raises(RuntimeError, match="boom"):
        PluginHost(load=["zt_broken"], strict=True)


def test_two_providers_of_one_name_are_both_kept_and_a_bare_lookup_names_both(site: Path) -> None:
    write_dist(site, "zt-a", {"zt_a": "zt_a"}, {"zt_a": PROXY_MODULE.format(cls="A", proxy="same", dist="zt-a")})
    write_dist(site, "zt-b", {"zt_b": "zt_b"}, {"zt_b": PROXY_MODULE.format(cls="B", proxy="same", dist="zt-b")})
    host = PluginHost(load=["zt_a", "zt_b"])
    assert [e.qualified_name for e in host.proxies] == ["zt_a:same", "zt_b:same"]
    with pytest.raises(AmbiguousComponentError) as excinfo:
        host.proxies.get("same")
    message = str(excinfo.value)
    assert "zt_a:same (zt-a 1.0)" in message and "zt_b:same (zt-b 1.0)" in message
    assert "\n" not in message
    assert type(host.proxies.get("zt_b:same")).__name__ == "B"


def test_the_same_distribution_seen_twice_loads_once(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_dist(site, "zt-good", {"zt_good": "zt_good"}, {"zt_good": PROXY_MODULE.format(cls="Good", proxy="zt_good", dist="zt-good")})
    twin = tmp_path / "twin"
    twin.symlink_to(site)  # like a lib64 -> lib symlink
    monkeypatch.syspath_prepend(str(twin))
    host = PluginHost(load=["zt_good"])
    assert len(considered(host)) == 1 and len(host.proxies) == 1


def test_block_and_allow_lists(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_dist(site, "zt-good", {"zt_good": "zt_good"}, {"zt_good": PROXY_MODULE.format(cls="Good", proxy="zt_good", dist="zt-good")})
    write_dist(site, "zt-b", {"zt_b": "zt_b"}, {"zt_b": PROXY_MODULE.format(cls="B", proxy="zt_b", dist="zt-b")})
    host = PluginHost(load=["zt_good", "zt_b"], block=["zt_b"])
    assert {p.name: p.status for p in host.plugins if p.name.startswith("zt_")} == {"zt_good": "ok", "zt_b": "blocked"}
    monkeypatch.setenv("ZSBENCH_LOAD_PLUGINS", "zt_b")
    host = PluginHost()
    assert [p.name for p in host.plugins if p.status == "ok"] == ["zt_b"]


def test_first_party_plugins_come_through_the_same_entry_points() -> None:
    """Built-ins are ordinary entry points of the zsbench distribution (that the core imports
    none of them is checked on every module's syntax tree in test_core_boundaries.py)."""
    from importlib.metadata import entry_points

    ours = {ep.name: ep.value for ep in entry_points(group="zsbench") if ep.dist and ep.dist.metadata["Name"] == "zsbench"}
    for name in ("snip", "synflow", "zen", "ntk", "kendall", "mbr_flops", "R1", "nb201"):
        assert name in ours, f"first-party plugin {name!r} is not declared as a zsbench entry point"


def _run_cli(args: list[str], site: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    env["ZSBENCH_LOAD_PLUGINS"] = "zt_good,zt_broken,myidea"
    env.pop("ZSBENCH_STRICT_PLUGINS", None)
    return subprocess.run([sys.executable, "-m", "zsbench", *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_keeps_working_beside_a_broken_plugin(site: Path) -> None:
    write_dist(site, "zt-good", {"zt_good": "zt_good"}, {"zt_good": PROXY_MODULE.format(cls="Good", proxy="zt_good", dist="zt-good")})
    write_dist(site, "zt-broken", {"zt_broken": "zt_broken"}, {"zt_broken": "import not_a_module_anywhere\n"})
    result = _run_cli(["proxies", "--json"], site)
    assert result.returncode == 0, result.stderr
    assert "zt_good" in [row["name"] for row in json.loads(result.stdout)]
    assert "Skipped plugin 'zt_broken' (zt-broken 1.0): ModuleNotFoundError" in " ".join(result.stderr.split())
    listing = json.loads(_run_cli(["plugins", "--json"], site).stdout)
    broken = next(p for p in listing if p["name"] == "zt_broken")
    assert broken["status"] == "failed" and "not_a_module_anywhere" in broken["error"]


COMMAND_MODULE = """
import typer
import zsbench

@zsbench.hookimpl
def register_commands(cli):
    @cli.command("{command}")
    def greet(name: str = typer.Option("world", "--name")):
        \"\"\"Say hello.\"\"\"
        typer.echo(f"hello {{name}} from {command}")
"""


def test_a_plugin_adds_a_command_and_cannot_replace_a_built_in(site: Path) -> None:
    write_dist(site, "zt-cmd", {"zt_cmd": "zt_cmd"}, {"zt_cmd": COMMAND_MODULE.format(command="zt-hello")})
    write_dist(site, "zt-clash", {"zt_clash": "zt_clash"}, {"zt_clash": COMMAND_MODULE.format(command="evaluate")})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    env["ZSBENCH_LOAD_PLUGINS"] = "zt_cmd,zt_clash,kendall"
    env.pop("ZSBENCH_STRICT_PLUGINS", None)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "zsbench", *args], capture_output=True, text=True, env=env, timeout=120)

    hello = cli("zt-hello", "--name", "you")
    assert hello.returncode == 0, hello.stderr
    assert hello.stdout.strip() == "hello you from zt-hello"
    assert "Plugin 'zt-clash:zt_clash' could not add its commands: ValueError: command 'evaluate' already exists" in " ".join(
        hello.stderr.split()
    )
    # the built-in evaluate is untouched: its own options still parse
    assert "--proxies" in cli("evaluate", "--help").stdout
    listing = json.loads(cli("plugins", "--json").stdout)
    assert next(p for p in listing if p["name"] == "zt_cmd")["provides"] == ["command:zt-hello"]
