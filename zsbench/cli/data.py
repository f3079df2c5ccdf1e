"""``zsbench data download NAME``: fetch images (cifar10, cifar100) or a benchmark's files into the data root."""

from __future__ import annotations

from typing import Annotated

import typer

from zsbench.cli._common import err_console, handle_errors, out_console
from zsbench.cli._options import DataRoot


def _benchmark_downloads() -> dict[str, list]:
    """Group name -> the distinct :class:`zsbench.downloads.DataFile` entries installed benchmarks declare."""
    from zsbench.plugins import get_host

    groups: dict[str, list] = {}
    for entry in get_host().benchmarks:
        for item in getattr(entry.obj, "data_files", ()) or ():
            files = groups.setdefault(item.group, [])
            if item not in files:
                files.append(item)
    return groups


data_app = typer.Typer(help="Files under the data root: fetch CIFAR-10 / CIFAR-100 images and benchmark tables.", no_args_is_help=True)

Dataset = Annotated[
    str,
    typer.Argument(
        help="cifar10, cifar100, or a benchmark's files (channel-bench-macro); ImageNet16-120 cannot be downloaded automatically."
    ),
]
Source = Annotated[
    str | None,
    typer.Option("--source", help="A benchmark's files: fetch the same names from this URL or folder (a mirror); sha256 still checked."),
]


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to ``app``."""
    app.add_typer(data_app, name="data")


@data_app.command("download")
def download_cmd(
    dataset: Dataset,
    data_root: DataRoot = None,
    source: Source = None,
) -> None:
    """Fetch a dataset's training and test images with torchvision's downloader (checksums
    verified, progress bar) into DATA_ROOT/<dataset>/, where the proxies' batch and the
    trainer read them; or a benchmark's tables that do not ship with zsbench, from their
    pinned public URL, each checked against its sha256 and moved into place only when it
    matches."""
    from zsbench.data import TORCHVISION_FOLDER, download_dataset, known_dataset, open_source, require_data_root
    from zsbench.errors import UsageError

    with handle_errors():
        groups = _benchmark_downloads()
        if dataset in groups:
            from zsbench.downloads import fetch_data_files

            root = require_data_root(data_root)
            report = lambda line: err_console.print(line, highlight=False)  # noqa: E731
            paths = fetch_data_files(groups[dataset], root, source=source, report=report)
            out_console.print(f"{dataset}: {len(paths)} files in {root}", highlight=False)
            return
        if known_dataset(dataset) is None:
            known = ", ".join([*TORCHVISION_FOLDER, *sorted(groups)])
            raise UsageError(f"cannot download {dataset!r}: `zsbench data download` knows {known}")
        if source is not None:
            names = ", ".join(sorted(groups))
            raise UsageError(f"--source is for a benchmark's files ({names}); {dataset} uses torchvision's downloader")
        err_console.print(f"downloading {dataset} (torchvision) ...", highlight=False)
        folder = download_dataset(dataset, data_root)
        train = open_source(dataset, "train", data_root)
        test = open_source(dataset, "test", data_root)
        out_console.print(
            f"{train.name}: {len(train)} training and {len(test)} test images in {folder}", highlight=False
        )
