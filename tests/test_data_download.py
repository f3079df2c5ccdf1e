"""``zsbench data download``: torchvision's downloader into the data root (replaced here by a
fake that writes a tiny archive's contents, since tests have no internet)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from zsbench.cli import build_app
from zsbench.data import open_source


@pytest.fixture
def fake_downloader(monkeypatch):
    """Replace torchvision's fetch-and-extract with one that writes 3 images per batch file
    in the official pickle layout, and its MD5 check with a presence check."""
    import torchvision.datasets.cifar as tv_cifar

    calls: list[tuple[str, str]] = []

    def fake_download_and_extract_archive(url, download_root, filename=None, md5=None, **kwargs):
        calls.append((url, str(download_root)))
        is_100 = "100" in url
        folder = Path(download_root) / ("cifar-100-python" if is_100 else "cifar-10-batches-py")
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        names = ("train", "test") if is_100 else (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
        key = "fine_labels" if is_100 else "labels"
        for name in names:
            entry = {"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), key: [0, 1, 2]}
            with open(folder / name, "wb") as handle:
                pickle.dump(entry, handle)
        meta = ("meta", "fine_label_names") if is_100 else ("batches.meta", "label_names")
        with open(folder / meta[0], "wb") as handle:
            pickle.dump({meta[1]: [f"c{i}" for i in range(100 if is_100 else 10)]}, handle)

    monkeypatch.setattr(tv_cifar, "download_and_extract_archive", fake_download_and_extract_archive)
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda path, md5=None: Path(path).is_file())
    return calls


@pytest.mark.parametrize(("dataset", "train_images"), [("cifar10", 15), ("cifar100", 3)])
def test_download_puts_the_dataset_where_it_is_read(tmp_path, monkeypatch, fake_downloader, dataset, train_images):
    monkeypatch.setenv("ZSBENCH_DATA", str(tmp_path))
    result = CliRunner().invoke(build_app(), ["data", "download", dataset])
    assert result.exit_code == 0, result.output
    assert fake_downloader and fake_downloader[0][1] == str(tmp_path / dataset)
    # the archive of this dataset, not the other one ("cifar-10" is a prefix of "cifar-100")
    archive = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}[dataset]
    assert fake_downloader[0][0] == f"https://www.cs.toronto.edu/~kriz/{archive}"
    train = open_source(dataset, "train", tmp_path)
    assert len(train) == train_images and "torchvision" in train.description
    assert f"{train_images} training and 3 test images" in result.output
    # Already there: torchvision checks the files and does not fetch again.
    again = CliRunner().invoke(build_app(), ["data", "download", dataset, "--data-root", str(tmp_path)])
    assert again.exit_code == 0 and len(fake_downloader) == 1


def test_download_refuses_imagenet16_and_unknown_names_and_needs_a_root(tmp_path, monkeypatch, fake_downloader):
    runner = CliRunner()
    result = runner.invoke(build_app(), ["data", "download", "ImageNet16-120", "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "cannot be downloaded automatically" in result.output
    assert "train_data_batch_1" in result.output
    result = runner.invoke(build_app(), ["data", "download", "mnist", "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "cifar10, cifar100" in result.output
    monkeypatch.delenv("ZSBENCH_DATA", raising=False)
    result = runner.invoke(build_app(), ["data", "download", "cifar10"])
    assert result.exit_code == 1 and "no data root" in result.output
    assert not fake_downloader
