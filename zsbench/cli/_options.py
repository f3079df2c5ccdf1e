"""The command line's options, each declared once as an annotated type.

A command names an option by its type and gives its default, ``seed: Seed = 0``, so that its
signature stays one short line per option and two commands that share an option share its flags
and help. Where two commands word an option's help differently, the variants sit side by side here
(``Device`` and ``DeviceMissing``). An option only one command has is declared at the top of
that command's module. :func:`expand_groups` lets a command take a whole group of options (a
dataclass of annotated fields, such as :class:`zsbench.cli._sources.ScoreSource`) as one parameter.
Command modules import this, never each other.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from zsbench.settings import default_benchmark

F = TypeVar("F", bound=Callable[..., Any])


def _switch_packs_off(value: bool) -> bool:
    # one switch for the whole process: every evaluation this command runs, however deep, reads it
    if value:
        os.environ["ZSBENCH_NO_PACKS"] = "1"
    return value


# where the scores come from
Proxies = Annotated[str, typer.Option("--proxies", "-p", help="Proxies: names, globs, 'all', '-name' to drop.")]
Benchmark = Annotated[
    str | None,
    typer.Option("--benchmark", "-b", help="Benchmark name, or a .parquet/.csv table (default: the default benchmark)."),
]
BenchmarkNamed = Annotated[str | None, typer.Option("--benchmark", "-b", help=f"Benchmark name [default: {default_benchmark()}].")]
Scores = Annotated[
    str | None, typer.Option("--scores", help="Per-arch scores written by 'zsbench evaluate --output' (no scoring).")
]
ScoresSpace = Annotated[str | None, typer.Option("--space", help="Search space of --scores (needed for architecture features).")]
Direction = Annotated[
    str | None, typer.Option("--direction", help="NAME=higher|lower,... for --scores columns of no installed proxy.")
]
Metrics = Annotated[str, typer.Option("--metrics", "-m", help="Indices to compute (names, globs, 'all').")]
Limit = Annotated[int | None, typer.Option("--limit", "-n", help="Evaluate a seeded random subset of N archs.")]
LimitAsEvaluate = Annotated[int | None, typer.Option("--limit", "-n", help="A seeded random subset of N archs (as in evaluate).")]

# seeds
SeedBootstrap = Annotated[int, typer.Option("--seed", help="Seed of the subset and of the bootstrap.")]
SeedFolds = Annotated[int, typer.Option("--seed", help="Seed of the subset and of the folds.")]
ScoreSeed = Annotated[int, typer.Option("--score-seed", help="Seed of the input batch and model initialisation.")]

# how scores are computed
BatchSize = Annotated[int, typer.Option("--batch-size", help="Images in the proxies' input batch.")]
DeviceMissing = Annotated[str, typer.Option("--device", help="Torch device for scoring missing scores.")]
DeviceCacheLacks = Annotated[str, typer.Option("--device", help="Torch device for scores the cache lacks.")]
DataRoot = Annotated[str | None, typer.Option("--data-root", help="Data root (default: $ZSBENCH_DATA).")]
Cache = Annotated[str | None, typer.Option("--cache", help="Score cache file.")]
CacheDefault = Annotated[
    str | None, typer.Option("--cache", help="Score cache file (default: $XDG_CACHE_HOME/zsbench/scores.sqlite).")
]
CacheEnv = Annotated[
    str | None,
    typer.Option("--cache", help="Score cache file (default: $ZSBENCH_CACHE, else $XDG_CACHE_HOME/zsbench/scores.sqlite)."),
]
NoPacks = Annotated[
    bool,
    typer.Option(
        "--no-packs",
        help="Compute every score instead of reading the installed score packs ('zsbench packs list'); "
        "also ZSBENCH_NO_PACKS=1.",
        callback=_switch_packs_off,
    ),
]
CachedOnly = Annotated[
    bool,
    typer.Option(
        "--cached-only", help="Compute nothing: only the architectures whose every score is cached (a run in progress)."
    ),
]
Executor = Annotated[str, typer.Option("--executor", help="local (in-process), process or ray.")]
Workers = Annotated[int, typer.Option("--workers", "-j", help="Worker processes (more than 1: process executor).")]
WorkersCacheLacks = Annotated[int, typer.Option("--workers", "-j", help="Worker processes for scores the cache lacks.")]
RayAddress = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address (--executor ray).")]
ThreadsPerWorker = Annotated[int | None, typer.Option("--threads", help="Torch threads per worker.")]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Seconds one architecture may take; then its worker is stopped and its unfinished proxies fail with "
        "'timed out after N s' [default: 900 with worker processes or Ray, none in-process; 0: no limit; "
        "a limit runs in-process scoring in one worker process].",
    ),
]

# the indices
Bootstrap = Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the 95 % intervals (0: none).")]
Index = Annotated[
    str | None,
    typer.Option("--index", help="The index (any installed one) (default: the headline index that picks, mbr_flops)."),
]
Budgets = Annotated[
    int | None, typer.Option("--budgets", help="Budget thresholds of an index with option budgets (mBR) (default: 5).")
]
Folds = Annotated[int, typer.Option("--folds", help="Cross-validation folds of the R².")]

# what is printed and written
Json = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
JsonTable = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OutputTable = Annotated[str | None, typer.Option("--output", "-o", help="Write the table (.csv or .parquet).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Wide = Annotated[
    bool, typer.Option("--wide", "-w", help="Every column of the tables (default: those that fit 100 columns).")
]
QuietDisplay = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]

# training
SpaceR1 = Annotated[str, typer.Option("--space", help="Search space.")]
TrainDataset = Annotated[str, typer.Option("--dataset", help="cifar10, cifar100 or ImageNet16-120.")]
RecipeName = Annotated[str, typer.Option("--recipe", help="Recipe name (paper, cpu, cpu-v2, tiny) or a JSON file.")]


def expand_groups(func: F) -> F:
    """Give ``func``'s command line the options of each parameter annotated with an option group.

    An option group is a dataclass whose fields are annotated options with defaults. The command
    line shows the group's options, in field order, where the parameter stands; the command is
    called with one instance of the group built from them.
    """
    hints = typing.get_type_hints(func, include_extras=True)
    parameters: list[inspect.Parameter] = []
    groups: dict[str, tuple[type[Any], list[str]]] = {}
    for parameter in inspect.signature(func).parameters.values():
        annotation = hints.get(parameter.name, parameter.annotation)
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            field_hints = typing.get_type_hints(annotation, include_extras=True)
            fields = dataclasses.fields(annotation)
            groups[parameter.name] = (annotation, [f.name for f in fields])
            parameters += [
                inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=field_hints[f.name])
                for f in fields
            ]
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=annotation))

    @functools.wraps(func)
    def command(**values: Any) -> Any:
        for name, (group, fields) in groups.items():
            values[name] = group(**{field: values.pop(field) for field in fields})
        return func(**values)

    del command.__wrapped__  # typer reads the signature below, not func's
    command.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    return command  # type: ignore[return-value]
