"""``zsbench train`` (one network) and ``zsbench build`` (a pool, resumable, into a benchmark table)."""

from __future__ import annotations

import shlex
import sys

import typer
from rich.table import Table

from zsbench.cli._common import err_console, handle_errors, out_console, print_json
from zsbench.errors import UsageError


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``build`` to ``app``."""

    @app.command("train")
    def train_cmd(
        arch: str = typer.Argument(..., help="Architecture string of the space."),
        space: str = typer.Option("R1", "--space", help="Search space."),
        dataset: str = typer.Option("cifar10", "--dataset", help="cifar10, cifar100 or ImageNet16-120."),
        recipe: str = typer.Option("paper", "--recipe", help="Recipe name (paper, cpu, cpu-v2, tiny) or a JSON file."),
        seed: int = typer.Option(0, "--seed", help="Seeds initial weights, data order, augmentation, mixup."),
        data_root: str | None = typer.Option(None, "--data-root", help="Data root (default: $ZSBENCH_DATA)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
        threads: int | None = typer.Option(None, "--threads", help="Torch threads (default: all cores)."),
        as_json: bool = typer.Option(False, "--json", help="Print the full result record as JSON."),
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

    @app.command("build")
    def build_cmd(
        name: str = typer.Argument(..., help="Benchmark name (file stem of its results, table and metadata)."),
        space: str = typer.Option("R1", "--space", help="Search space."),
        pool: int = typer.Option(..., "--pool", help="Architectures to draw from the space."),
        seed: int = typer.Option(0, "--seed", help="Seed of the pool draw."),
        max_flops: float | None = typer.Option(
            None, "--max-flops", help="Draw only architectures of at most this many MACs (at 32x32), e.g. 2e8."
        ),
        dataset: str = typer.Option("cifar10", "--dataset", help="cifar10, cifar100 or ImageNet16-120."),
        recipe: str = typer.Option("cpu", "--recipe", help="Recipe name (paper, cpu, cpu-v2, tiny) or a JSON file."),
        out: str = typer.Option("zsbench-builds", "--out", help="Folder for NAME.jsonl/.csv/.meta.json."),
        train_seed: int = typer.Option(0, "--train-seed", help="Training seed of every network."),
        repeat_seed: int | None = typer.Option(None, "--repeat-seed", help="Second training seed (noise ceiling)."),
        repeat_count: int = typer.Option(0, "--repeat-count", help="Architectures retrained with --repeat-seed."),
        runs: int = typer.Option(
            1,
            "--runs",
            help="Trainings averaged per network (seeds --train-seed, +1, ...; repeats from --repeat-seed likewise).",
        ),
        limit: int | None = typer.Option(None, "--limit", help="Run at most this many trainings now."),
        executor: str = typer.Option(
            "local", "--executor", help="local (this process; more workers: processes), process or ray."
        ),
        workers: int | None = typer.Option(None, "--workers", help="Parallel trainings (default: GPUs or 1)."),
        threads: int | None = typer.Option(
            None, "--threads", help="Torch threads per training (default: free cores / workers; ray: --cpus-per-task)."
        ),
        retries: int = typer.Option(1, "--retries", help="Extra tries of a network that failed or whose worker died."),
        ray_address: str | None = typer.Option(None, "--ray-address", help="ray: cluster address (default: local)."),
        cpus_per_task: int = typer.Option(1, "--cpus-per-task", help="ray: CPUs per task."),
        data_root: str | None = typer.Option(None, "--data-root", help="Data root (default: $ZSBENCH_DATA)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
        no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Train every architecture of a pool into a benchmark table; rerun to resume."""
        with handle_errors():
            from zsbench.training.builder import build_pool, default_executor

            runner = default_executor(
                executor,
                workers=workers,
                threads=threads,
                retries=retries,
                ray_address=ray_address,
                cpus_per_task=cpus_per_task,
            )
            report = build_pool(
                name,
                space,
                pool,
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
