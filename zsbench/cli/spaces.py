"""``zsbench spaces show NAME``: one search space with sample architectures and their costs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from zsbench.cli._common import handle_errors, out_console, print_json
from zsbench.cli._options import JsonTable
from zsbench.errors import UsageError
from zsbench.plugins import get_host


def describe_space(
    name: str,
    sample: int,
    seed: int,
    num_classes: int,
    input_size: int | None,
    archs: list[str] | None = None,
    max_flops: float | None = None,
) -> dict[str, Any]:
    """What ``zsbench spaces show`` prints: the space's name, size, description, and for
    ``sample`` architectures drawn with ``seed`` (or the given ``archs``, canonicalised)
    their FLOPs (multiply-accumulates), params and depth. With ``max_flops`` the draw is
    the one ``zsbench build --max-flops`` trains."""
    from zsbench.training.builder import draw_pool

    if sample < 0:
        raise UsageError(f"--sample must be >= 0, got {sample}")
    space = get_host().spaces.get(name)
    chosen = [space.canonical(a) for a in archs] if archs else draw_pool(space, sample, seed, max_flops)
    size_input = input_size or space.default_input_size
    rows = []
    for arch in chosen:
        cost = space.cost(arch, num_classes=num_classes, input_size=size_input)
        rows.append({"arch": arch, "flops": cost.flops, "params": cost.params, "depth": cost.depth})
    return {
        "space": space.name,
        "size": space.size(),
        "description": space.description,
        "seed": seed,
        "max_flops": max_flops,
        "num_classes": num_classes,
        "input_size": size_input,
        "flops_unit": "multiply-accumulates (MACs) per image",
        "architectures": rows,
    }


# the options of spaces show
SpaceName = Annotated[str, typer.Argument(help="Space name, e.g. R1, R2, MB, nb201, nasbench-macro.")]
Sample = Annotated[int, typer.Option("--sample", "-n", help="How many architectures to draw.")]
DrawSeed = Annotated[int, typer.Option("--seed", help="Seed of the draw (same seed, same architectures).")]
MaxFlops = Annotated[
    float | None,
    typer.Option("--max-flops", help="Draw only architectures of at most this many MACs (at 32x32), as build does."),
]
Archs = Annotated[list[str] | None, typer.Option("--arch", help="Show these architectures instead of a sample.")]
NumClasses = Annotated[int, typer.Option("--num-classes", help="Classifier width used for params and FLOPs.")]
InputSize = Annotated[int | None, typer.Option("--input-size", help="Image size (default: the space's).")]


def register(app: typer.Typer) -> None:
    """Add ``show`` to the ``spaces`` command group created by :mod:`zsbench.cli.listing`."""
    app.spaces_app.command("show")(show_cmd)  # type: ignore[attr-defined]


def show_cmd(
    name: SpaceName,
    sample: Sample = 5,
    seed: DrawSeed = 0,
    max_flops: MaxFlops = None,
    arch: Archs = None,
    num_classes: NumClasses = 10,
    input_size: InputSize = None,
    as_json: JsonTable = False,
) -> None:
    """Show a search space: its size and sample architectures with FLOPs (MACs), params and depth."""
    with handle_errors():
        info = describe_space(name, sample, seed, num_classes, input_size, archs=arch, max_flops=max_flops)
        if as_json:
            print_json(info)
            return
        title = f"{info['space']}: {info['size']:,} architectures; {len(info['architectures'])} shown (seed {seed})"
        table = Table(title=title, caption=f"FLOPs are multiply-accumulates per {info['input_size']}x{info['input_size']} image")
        table.add_column("arch", overflow="fold")
        for column in ("MFLOPs", "params", "depth"):
            table.add_column(column, justify="right")
        for row in info["architectures"]:
            table.add_row(row["arch"], f"{row['flops'] / 1e6:,.2f}", f"{row['params']:,}", str(row["depth"]))
        out_console.print(table)
