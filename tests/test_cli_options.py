"""The command line's options declared once (``zsbench.cli._options``) and option groups expanded into
a command's parameters."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Annotated

import typer
from typer.testing import CliRunner

from zsbench.cli import build_app
from zsbench.cli._options import DataRoot, expand_groups

Colour = Annotated[str, typer.Option("--colour", help="A colour.")]
Size = Annotated[int, typer.Option("--size", "-s", help="A size.")]


@dataclass(frozen=True)
class Shape:
    colour: Colour = "red"
    size: Size = 3


def test_a_group_becomes_its_options_where_its_parameter_stands_and_arrives_as_one_object() -> None:
    seen = []

    @expand_groups
    def command(name: Annotated[str, typer.Argument()], *, shape: Shape, data_root: DataRoot = None) -> None:
        seen.append((name, shape, data_root))

    assert list(inspect.signature(command).parameters) == ["name", "colour", "size", "data_root"]
    app = typer.Typer()
    app.command()(command)
    result = CliRunner().invoke(app, ["box", "--size", "5", "--data-root", "d"])
    assert result.exit_code == 0, result.output
    assert seen == [("box", Shape(colour="red", size=5), "d")]
    assert CliRunner().invoke(app, ["box", "-s", "x"]).exit_code == 2  # the group's option keeps its type


def test_an_option_declared_once_reads_the_same_in_every_command() -> None:
    """--data-root is one annotated type: every command that has it shows the same flag and help."""
    command = typer.main.get_command(build_app(plugins=False))
    helps = set()

    def walk(node) -> None:
        for sub in getattr(node, "commands", {}).values():
            walk(sub)
        for param in getattr(node, "params", []):
            if "--data-root" in getattr(param, "opts", ()) and param.help.startswith("Data root"):
                helps.add((tuple(param.opts), param.help, param.default))

    walk(command)
    assert helps == {(("--data-root",), "Data root (default: $ZSBENCH_DATA).", None)}
