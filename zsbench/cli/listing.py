"""``zsbench plugins`` and the component listings ``proxies``, ``spaces``, ``metrics``, ``benchmarks``."""

from __future__ import annotations

from typing import Annotated, Any

import click
import typer
from rich.table import Table
from typer.core import TyperGroup

from zsbench.cli._common import handle_errors, out_console, print_json
from zsbench.cli._options import JsonTable
from zsbench.errors import describe_error
from zsbench.plugins import get_host

Pattern = Annotated[str | None, typer.Argument(help="Names, globs ('syn*'), 'all', exclusions ('-grasp').")]


def _describe(kind: str, entry: Any) -> dict[str, Any]:
    obj = entry.obj
    row: dict[str, Any] = {
        "name": entry.name,
        "plugin": entry.plugin,
        "distribution": entry.distribution,
        "version": entry.version,
        "description": getattr(obj, "description", "") or "",
    }
    if kind == "proxies":
        row["higher_is_better"] = obj.higher_is_better
        row["proxy_version"] = obj.version
        row["input_kind"] = obj.input_kind
    elif kind == "metrics":
        row["higher_is_better"] = obj.higher_is_better
        row["group"] = getattr(obj, "group", "") or ""
        row["options"] = [
            {"key": o.key, "default": _option_text(o.default), "help": o.help} for o in getattr(obj, "options", ())
        ]
    elif kind == "spaces":
        try:
            row["size"] = obj.size()
        except Exception as exc:  # listing must survive a broken component
            row["size"] = None
            row["error"] = describe_error(exc)
    elif kind == "benchmarks":
        row["space"] = obj.space
        row["dataset"] = obj.dataset
        row["licence"] = getattr(obj, "licence", "") or ""
        row["citation"] = getattr(obj, "citation", "") or ""
    return row


_TYPED_COLUMNS = ("name", "space")


def _list_components(kind: str, pattern: str | None, as_json: bool) -> None:
    host = get_host()
    registry = host.registry(kind)
    entries = registry.select_entries(pattern) if pattern else list(registry)
    rows = [_describe(kind, e) for e in entries]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} {kind}")
    columns = [c for c in rows[0] if c not in ("distribution", "version")] if rows else ["name", "plugin"]
    for column in columns:
        if column in _TYPED_COLUMNS:  # names a user types are never cut: the other columns wrap instead
            longest = max([len(column), *(len(_cell(row.get(column))) for row in rows)])
            table.add_column(column, no_wrap=True, min_width=longest)
        else:
            table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    out_console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # a metric's options: one line each
        return "\n".join(f"{o['key']}={o['default']}: {o['help']}" for o in value)
    return str(value)


def _option_text(value: Any) -> str:
    """An option's default as the user would type it: ``(0.001, 0.05) -> "0.001,0.05"``."""
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return str(value)


def register(app: typer.Typer) -> None:
    """Add the listing commands to ``app``."""
    app.command("plugins")(plugins_cmd)
    for kind in ("proxies", "spaces", "metrics", "benchmarks"):
        _add_listing(app, kind)


def plugins_cmd(as_json: JsonTable = False) -> None:
    """List installed plugins with their distribution, version, status and what they provide."""
    with handle_errors():
        host = get_host()
        infos = [p.as_dict() for p in host.plugins]
        if as_json:
            print_json(infos)
            return
        table = Table(title=f"{len(infos)} plugins")
        for column in ("plugin", "distribution", "version", "status", "provides"):
            table.add_column(column)
        for info in infos:
            status = info["status"] if info["status"] != "failed" else f"[red]failed[/red]: {info['error']}"
            table.add_row(info["name"], info["distribution"], info["version"], status, ", ".join(info["provides"]))
        out_console.print(table)


def _add_listing(app: typer.Typer, kind: str) -> None:
    def listing(pattern: Pattern = None, as_json: JsonTable = False) -> None:
        with handle_errors():
            _list_components(kind, pattern, as_json)

    listing.__doc__ = f"List installed {kind}."
    if kind == "spaces":
        # `zsbench spaces [PATTERN]` lists; `zsbench spaces show R1 --sample 3` (added by zsbench.cli.spaces) shows one.
        spaces_app = typer.Typer(cls=_ListingGroup, help="List search spaces, or show one with sample architectures.")
        spaces_app.callback(invoke_without_command=True)(_spaces_root)
        spaces_app.command("list", hidden=True)(listing)
        app.add_typer(spaces_app, name="spaces")
        app.spaces_app = spaces_app  # type: ignore[attr-defined]
        return
    app.command(kind)(listing)


class _ListingGroup(TyperGroup):
    """A command group whose first argument may also be a name pattern: anything that is not one of its
    subcommands is handed to the hidden ``list`` subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["list", *args]
        return super().parse_args(ctx, args)


def _spaces_root(ctx: typer.Context, as_json: JsonTable = False) -> None:
    """List installed search spaces (``zsbench spaces show NAME`` shows one)."""
    if ctx.invoked_subcommand is None:
        with handle_errors():
            _list_components("spaces", None, as_json)
