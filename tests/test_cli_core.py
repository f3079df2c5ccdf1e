"""The core CLI through typer's CliRunner: listings, JSON output, errors and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import zsbench
from zsbench.cli import build_app
from zsbench.plugins import PluginHost, set_host


class Alpha(zsbench.Proxy):
    name = "alpha"
    description = "test proxy"

    def score(self, model, batch):
        return 1.0


class Beta(Alpha):
    name = "beta"
    higher_is_better = False


class FakePlugin:
    @zsbench.hookimpl
    def register_proxies(self, register):
        register(Alpha())
        register(Beta())


@pytest.fixture
def runner() -> CliRunner:
    host = PluginHost(entry_points=False)
    host.register_plugin(FakePlugin(), name="fake", distribution="zsbench-fake", version="9.9")
    old = set_host(host)
    yield CliRunner()
    set_host(old)


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(build_app(), ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"zsbench {zsbench.__version__}"


def test_plugins_json(runner: CliRunner) -> None:
    result = runner.invoke(build_app(), ["plugins", "--json"])
    assert result.exit_code == 0
    [plugin] = json.loads(result.stdout)
    assert plugin == {
        "name": "fake",
        "distribution": "zsbench-fake",
        "version": "9.9",
        "status": "ok",
        "error": None,
        "provides": ["proxy:alpha", "proxy:beta"],
    }


def test_proxies_listing_with_pattern(runner: CliRunner) -> None:
    result = runner.invoke(build_app(), ["proxies", "b*", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["name"], r["higher_is_better"], r["distribution"]) for r in rows] == [("beta", False, "zsbench-fake")]


def test_proxies_table(runner: CliRunner) -> None:
    result = runner.invoke(build_app(), ["proxies"])
    assert result.exit_code == 0
    assert "alpha" in result.stdout and "beta" in result.stdout


def test_unknown_proxy_is_one_line_with_a_suggestion_and_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(build_app(), ["proxies", "alpah"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Did you mean 'alpha'" in lines[0]


def test_unknown_command_is_a_usage_error(runner: CliRunner) -> None:
    assert runner.invoke(build_app(), ["no-such-command"]).exit_code == 2
