"""``zsbench spaces show NAME``: one search space with sample architectures and their costs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from zsbench.cli._common import handle_errors, out_console, print_json
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


def register(app: typer.Typer) -> None:
    """Add ``show`` to the ``spaces`` command group created by :mod:`zsbench.cli.listing`."""
    spaces_app: typer.Typer = app.spaces_app  # type: ignore[attr-defined]

    @spaces_app.command("show")
    def show_cmd(
        name: str = typer.Argument(..., help="Space name, e.g. R1, R2, MB, nb201, nasbench-macro."),
        sample: int = typer.Option(5, "--sample", "-n", help="How many architectures to draw."),
        seed: int = typer.Option(0, "--seed", help="Seed of the draw (same seed, same architectures)."),
        max_flops: float | None = typer.Option(
            None, "--max-flops", help="Draw only architectures of at most this many MACs (at 32x32), as build does."
        ),
        arch: Annotated[list[str] | None, typer.Option("--arch", help="Show these architectures instead of a sample.")] = None,
        num_classes: int = typer.Option(10, "--num-classes", help="Classifier width used for params and FLOPs."),
        input_size: int | None = typer.Option(None, "--input-size", help="Image size (default: the space's)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
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
