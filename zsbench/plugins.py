"""Plugin discovery and the plugin host.

Every component, first-party or third-party, comes from a module named by an entry point
in the ``zsbench`` group. The host imports each one inside its own guard: a plugin that
fails to import or raises in a hook is reported once as a warning, listed as failed, and
everything else keeps working.

Environment variables:
    ZSBENCH_LOAD_PLUGINS: comma list of entry-point names to load (empty: load none).
    ZSBENCH_DISABLE_PLUGINS: comma list of entry-point names never to load.
    ZSBENCH_STRICT_PLUGINS: ``1`` re-raises plugin errors (for plugin development and CI).
"""

from __future__ import annotations

import importlib.metadata as importlib_metadata
import os
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from zsbench import hookspecs
from zsbench.errors import describe_error
from zsbench.interfaces import Benchmark, Metric, Proxy, ScorePack, SearchSpace
from zsbench.registry import Registry

ENTRY_POINT_GROUP = "zsbench"

hookimpl = pluggy.HookimplMarker("zsbench")

# hook name -> (registry attribute, base class the registered object must be an instance of)
_HOOKS: dict[str, tuple[str, type]] = {
    "register_proxies": ("proxies", Proxy),
    "register_search_spaces": ("spaces", SearchSpace),
    "register_metrics": ("metrics", Metric),
    "register_benchmarks": ("benchmarks", Benchmark),
    "register_packs": ("packs", ScorePack),
}
_KIND = {"proxies": "proxy", "spaces": "space", "metrics": "metric", "benchmarks": "benchmark", "packs": "pack"}


class PluginWarning(UserWarning):
    """Issued once for each plugin that failed to load or register."""


@dataclass
class PluginInfo:
    """What ``zsbench plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    status: str = "ok"  # ok | failed | blocked
    error: str | None = None
    provides: list[str] = field(default_factory=list)
    traceback: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "provides": list(self.provides),
        }


def _env_list(var: str) -> list[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


class PluginHost:
    """Loads plugins and holds the registries of proxies, spaces, metrics and benchmarks.

    Args:
        entry_points: discover plugins through installed ``zsbench`` entry points.
        load: allow-list of entry-point names (default: ``ZSBENCH_LOAD_PLUGINS`` or all).
        block: entry-point names never to load (adds to ``ZSBENCH_DISABLE_PLUGINS``).
        strict: re-raise plugin errors instead of recording them (default:
            ``ZSBENCH_STRICT_PLUGINS=1``).
    """

    def __init__(
        self,
        *,
        entry_points: bool = True,
        load: Iterable[str] | None = None,
        block: Iterable[str] = (),
        strict: bool | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager("zsbench")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        self.proxies: Registry[Proxy] = Registry("proxy")
        self.spaces: Registry[SearchSpace] = Registry("space")
        self.metrics: Registry[Metric] = Registry("metric")
        self.benchmarks: Registry[Benchmark] = Registry("benchmark")
        self.packs: Registry[ScorePack] = Registry("pack")
        self.strict = strict if strict is not None else os.environ.get("ZSBENCH_STRICT_PLUGINS") == "1"
        self._allow = list(load) if load is not None else _env_list("ZSBENCH_LOAD_PLUGINS")
        self._block = set(block) | set(_env_list("ZSBENCH_DISABLE_PLUGINS") or [])
        if entry_points:
            self.load_entry_points()

    # -- loading -------------------------------------------------------------------------

    def load_entry_points(self) -> None:
        """Import and register every plugin of the ``zsbench`` entry-point group."""
        seen: set[tuple[str, str]] = set()
        for ep in sorted(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist
            dist_name = dist.metadata["Name"] if dist is not None else "unknown"
            dist_version = dist.version if dist is not None else "unknown"
            key = (dist_name, ep.name)
            if key in seen:  # the same dist-info reached twice (e.g. lib64 -> lib symlink)
                continue
            seen.add(key)
            if ep.name in self._block or (self._allow is not None and ep.name not in self._allow):
                self.plugins.append(PluginInfo(ep.name, dist_name, dist_version, status="blocked"))
                continue
            self._load_one(ep.name, dist_name, dist_version, ep.load)

    def register_plugin(self, plugin: object, name: str, distribution: str = "local", version: str = "0") -> PluginInfo:
        """Register an already imported plugin object (a module or an instance with hookimpls).

        Used by tests and by programs that embed zsbench; installed plugins arrive through
        entry points instead.
        """
        return self._load_one(name, distribution, version, lambda: plugin)

    def _load_one(self, name: str, dist_name: str, dist_version: str, loader: Callable[[], object]) -> PluginInfo:
        info = PluginInfo(name, dist_name, dist_version)
        self.plugins.append(info)
        staged: list[tuple[str, str, object]] = []
        try:
            plugin = loader()
            if self.pm.is_registered(plugin):
                # Several entry points may point at one module: register it once, list it once.
                info.status = "ok"
                info.provides = ["(same module as another entry point)"]
                return info
            self.pm.register(plugin, name=f"{dist_name}:{name}")
            try:
                self.pm.check_pending()
                for hook_name, (attr, base) in _HOOKS.items():
                    for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                        if impl.plugin is plugin:
                            impl.function(register=self._collector(staged, attr, base, name))
            except BaseException:
                self.pm.unregister(plugin)
                raise
        except Exception as exc:  # a broken plugin must never take the host down
            if self.strict:
                raise
            info.status = "failed"
            info.error = describe_error(exc)
            warnings.warn(
                f"Skipped plugin {name!r} ({dist_name} {dist_version}): {info.error}. "
                "Set ZSBENCH_STRICT_PLUGINS=1 for the traceback.",
                PluginWarning,
                stacklevel=2,
            )
            info.traceback = traceback.format_exc()
            return info
        for attr, comp_name, obj in staged:
            getattr(self, attr).add(comp_name, obj, name, dist_name, dist_version)
            info.provides.append(f"{_KIND[attr]}:{comp_name}")
        return info

    @staticmethod
    def _collector(staged: list, attr: str, base: type, plugin_name: str) -> Callable[[Any], None]:
        def register(obj: Any) -> None:
            if isinstance(obj, type):
                raise TypeError(
                    f"plugin {plugin_name!r} registered the class {obj.__name__}; "
                    f"register an instance: register({obj.__name__}())"
                )
            if not isinstance(obj, base):
                raise TypeError(f"plugin {plugin_name!r} registered {obj!r}, which is not a zsbench.{base.__name__}")
            comp_name = getattr(obj, "name", None)
            if not isinstance(comp_name, str) or not comp_name:
                raise TypeError(f"plugin {plugin_name!r} registered a {base.__name__} without a name")
            staged.append((attr, comp_name, obj))

        return register

    def add_commands(self, cli: Any) -> list[str]:
        """Let every loaded plugin add subcommands to the typer app ``cli`` through its
        ``register_commands(cli)`` hook; returns the names added.

        A plugin that raises, or names a command that already exists, is reported once as a
        warning (re-raised in strict mode) and adds nothing; the other commands keep working.
        """
        added: list[str] = []
        for impl in self.pm.hook.register_commands.get_hookimpls():
            name = self.pm.get_name(impl.plugin) or "?"
            info = next((p for p in self.plugins if name.endswith(f":{p.name}")), None)
            before = list(cli.registered_commands)
            taken = {_command_name(c) for c in before} | {g.name for g in cli.registered_groups}
            try:
                impl.function(cli=cli)
                new = cli.registered_commands[len(before) :]
                clashes = [n for n in map(_command_name, new) if n in taken]
                if clashes:
                    raise ValueError(f"command {clashes[0]!r} already exists; choose another name")
            except Exception as exc:
                cli.registered_commands[:] = before
                if self.strict:
                    raise
                warnings.warn(f"Plugin {name!r} could not add its commands: {describe_error(exc)}", PluginWarning, stacklevel=2)
                continue
            names = [_command_name(c) for c in new]
            added += names
            if info is not None:
                info.provides += [f"command:{n}" for n in names]
        return added

    # -- queries -------------------------------------------------------------------------

    def failed(self) -> list[PluginInfo]:
        """Plugins that failed to load."""
        return [p for p in self.plugins if p.status == "failed"]

    def registry(self, kind: str) -> Registry:
        """The registry for ``proxies``, ``spaces``, ``metrics`` or ``benchmarks``."""
        if kind not in _KIND:
            raise KeyError(f"unknown registry {kind!r}; choose from {', '.join(_KIND)}")
        return getattr(self, kind)


def _command_name(command: Any) -> str:
    """The name typer gives a registered command (its explicit name, else the function's, dashed)."""
    if command.name:
        return str(command.name)
    return command.callback.__name__.replace("_", "-")


_default_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide host, built (and plugins loaded) on first use."""
    global _default_host
    if _default_host is None:
        with warnings.catch_warnings():
            warnings.simplefilter("always", PluginWarning)
            _default_host = PluginHost()
    return _default_host


def set_host(host: PluginHost | None) -> PluginHost | None:
    """Replace the process-wide host (``None`` forces a reload on next use); returns the old one."""
    global _default_host
    old, _default_host = _default_host, host
    return old
