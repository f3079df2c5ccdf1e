"""``zsbench data download cifar10|cifar100``: fetch images into the data root."""

from __future__ import annotations

import typer

from zsbench.cli._common import err_console, handle_errors, out_console


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to ``app``."""
    data_app = typer.Typer(help="Images under the data root: fetch CIFAR-10 / CIFAR-100.", no_args_is_help=True)

    @data_app.command("download")
    def download_cmd(
        dataset: str = typer.Argument(..., help="cifar10 or cifar100 (ImageNet16-120 cannot be downloaded automatically)."),
        data_root: str | None = typer.Option(None, "--data-root", help="Data root (default: $ZSBENCH_DATA)."),
    ) -> None:
        """Fetch a dataset's training and test images with torchvision's downloader (checksums
        verified, progress bar) into DATA_ROOT/<dataset>/, where the proxies' batch and the
        trainer read them."""
        from zsbench.data import download_dataset, open_source

        with handle_errors():
            err_console.print(f"downloading {dataset} (torchvision) ...", highlight=False)
            folder = download_dataset(dataset, data_root)
            train = open_source(dataset, "train", data_root)
            test = open_source(dataset, "test", data_root)
            out_console.print(
                f"{train.name}: {len(train)} training and {len(test)} test images in {folder}", highlight=False
            )

    app.add_typer(data_app, name="data")
