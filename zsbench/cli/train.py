"""``zsbench train`` (one network) and ``zsbench build`` (a pool, resumable, into a benchmark table)."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from zsbench.cli._common import err_console, handle_errors, out_console, print_json
from zsbench.cli._options import DataRoot, RecipeName, SpaceR1, TrainDataset
from zsbench.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from zsbench.training.builder import BuildReport


# the options of train and build
Arch = Annotated[str, typer.Argument(help="Architecture string of the space.")]
TrainSeed = Annotated[int, typer.Option("--seed", help="Seeds initial weights, data order, augmentation, mixup.")]
TrainDevice = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
AllThreads = Annotated[int | None, typer.Option("--threads", help="Torch threads (default: all cores).")]
RecordJson = Annotated[bool, typer.Option("--json", help="Print the full result record as JSON.")]
Name = Annotated[str, typer.Argument(help="Benchmark name (file stem of its results, table and metadata).")]
Pool = Annotated[int, typer.Option("--pool", help="Architectures to draw from the space.")]
PoolSeed = Annotated[int, typer.Option("--seed", help="Seed of the pool draw.")]
MaxFlops = Annotated[
    float | None, typer.Option("--max-flops", help="Draw only architectures of at most this many MACs (at 32x32), e.g. 2e8.")
]
Out = Annotated[str, typer.Option("--out", help="Folder for NAME.jsonl/.csv/.meta.json.")]
NetworkSeed = Annotated[int, typer.Option("--train-seed", help="Training seed of every network.")]
RepeatSeed = Annotated[int | None, typer.Option("--repeat-seed", help="Second training seed (noise ceiling).")]
RepeatCount = Annotated[int, typer.Option("--repeat-count", help="Architectures retrained with --repeat-seed.")]
Runs = Annotated[
    int,
    typer.Option(
        "--runs", help="Trainings averaged per network (seeds --train-seed, +1, ...; repeats from --repeat-seed likewise)."
    ),
]
TrainingsNow = Annotated[int | None, typer.Option("--limit", help="Run at most this many trainings now.")]
BuildExecutor = Annotated[
    str, typer.Option("--executor", help="local (this process; more workers: processes), process or ray.")
]
BuildWorkers = Annotated[int | None, typer.Option("--workers", help="Parallel trainings (default: GPUs or 1).")]
BuildThreads = Annotated[
    int | None,
    typer.Option("--threads", help="Torch threads per training (default: free cores / workers; ray: --cpus-per-task)."),
]
Retries = Annotated[int, typer.Option("--retries", help="Extra tries of a network that failed or whose worker died.")]
BuildRayAddress = Annotated[str | None, typer.Option("--ray-address", help="ray: cluster address (default: local).")]
CpusPerTask = Annotated[int, typer.Option("--cpus-per-task", help="ray: CPUs per task.")]
BuildDevice = Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="No progress bar.")]
SummaryJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``build`` to ``app``."""
    app.command("train")(train_cmd)
    app.command("build")(build_cmd)


def train_cmd(
    arch: Arch,
    space: SpaceR1 = "R1",
    dataset: TrainDataset = "cifar10",
    recipe: RecipeName = "paper",
    seed: TrainSeed = 0,
    data_root: DataRoot = None,
    device: TrainDevice = "auto",
    threads: AllThreads = None,
    as_json: RecordJson = False,
) -> None:
    """Train one network with a recipe and print its NAS-valid and test accuracy."""
    with handle_errors():
        from zsbench.devices import check_device
        from zsbench.training.recipes import get_recipe
        from zsbench.training.tasks import TrainTask, resolve_space, run_task

        check_device(device, allow_auto=True)
        if threads is not None and threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        space_obj = resolve_space(space)
        task = TrainTask(
            space,
            space_obj.canonical(arch),
            dataset,
            get_recipe(recipe),
            seed=seed,
            data_root=None if data_root is None else str(data_root),
            device=device,
            threads=threads,
        )
        err_console.print(f"training {task.arch} ({space}, {dataset}, recipe {task.recipe.name}) ...")
        record = run_task(task)
        if as_json:
            print_json(record)
            return
        table = Table(title=f"{space} {task.arch}")
        for column in ("valid acc %", "test acc %", "train loss", "epochs", "seconds", "device", "recipe"):
            table.add_column(column)
        table.add_row(
            f"{record['valid_accuracy']:.2f}",
            f"{record['test_accuracy']:.2f}",
            f"{record['train_loss']:.4f}",
            str(record["epochs"]),
            f"{record['seconds']:.1f}",
            record["device"],
            f"{record['recipe_name']} ({record['recipe_hash']})",
        )
        out_console.print(table)


def build_cmd(
    name: Name,
    space: SpaceR1 = "R1",
    *,
    pool: Pool,
    seed: PoolSeed = 0,
    max_flops: MaxFlops = None,
    dataset: TrainDataset = "cifar10",
    recipe: RecipeName = "cpu",
    out: Out = "zsbench-builds",
    train_seed: NetworkSeed = 0,
    repeat_seed: RepeatSeed = None,
    repeat_count: RepeatCount = 0,
    runs: Runs = 1,
    limit: TrainingsNow = None,
    executor: BuildExecutor = "local",
    workers: BuildWorkers = None,
    threads: BuildThreads = None,
    retries: Retries = 1,
    ray_address: BuildRayAddress = None,
    cpus_per_task: CpusPerTask = 1,
    data_root: DataRoot = None,
    device: BuildDevice = "auto",
    no_progress: NoProgress = False,
    as_json: SummaryJson = False,
) -> None:
    """Train every architecture of a pool into a benchmark table; rerun to resume."""
    with handle_errors():
        from zsbench.training.builder import BuildOptions, build_pool, default_executor

        runner = default_executor(
            executor,
            workers=workers,
            threads=threads,
            retries=retries,
            ray_address=ray_address,
            cpus_per_task=cpus_per_task,
        )
        options = BuildOptions(
            pool_seed=seed,
            max_flops=max_flops,
            dataset=dataset,
            recipe=recipe,
            out_dir=out,
            train_seed=train_seed,
            repeat_seed=repeat_seed,
            repeat_count=repeat_count,
            runs=runs,
            limit=limit,
            executor=runner,
            data_root=data_root,
            device=device,
            progress=not no_progress and not as_json,
            console=err_console,
            command="zsbench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None,
        )
        _show_build(build_pool(name, space, pool, options), as_json=as_json)


def _show_build(report: BuildReport, *, as_json: bool) -> None:
    """What a build did, on stdout (or as JSON); exit 1 when a network failed."""
    summary = {
        "name": report.name,
        "tasks_total": report.total,
        "already_done": report.skipped,
        "trained_now": len(report.trained),
        "failed_now": [{"arch": a, "seed": s, "reason": r} for a, s, r in report.failed],
        "pending": report.total - report.done,
        "seconds": round(report.seconds, 1),
        "noise_ceiling": report.noise,
        "table": str(report.table_path),
        "results": str(report.results_path),
    }
    if as_json:
        print_json(summary)
        return
    out_console.print(
        f"{report.name}: {report.done}/{report.total} trainings done "
        f"({len(report.trained)} trained now, {report.skipped} already done, "
        f"{len(report.failed)} failed, {summary['pending']} pending) in {report.seconds:.0f} s"
    )
    if report.noise.get("pairs"):
        out_console.print(
            f"noise ceiling: Spearman {report.noise['spearman']} over {report.noise['pairs']} retrained networks"
        )
    out_console.print(f"table: {report.table_path}")
    if report.failed:
        table = Table(title=f"{len(report.failed)} failed networks")
        for column in ("arch", "seed", "reason"):
            table.add_column(column)
        for arch, seed_value, reason in report.failed:
            table.add_row(arch, str(seed_value), reason)
        out_console.print(table)
        raise typer.Exit(1)
