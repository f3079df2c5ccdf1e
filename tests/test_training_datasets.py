"""Dataset loading: ImageFolder trees, ImageNet16-120 pickles, NAS splits and subsets."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image

from zsbench.data import IMAGENET16_TRAIN_FILES, IMAGENET16_VAL_FILE, canonical_dataset_name, open_source
from zsbench.errors import DataMissingError, UsageError
from zsbench.training.datasets import balanced_subset, nas_split, prepare_training_data
from zsbench.training.recipes import Recipe


def test_nas_split_is_stratified_disjoint_and_deterministic() -> None:
    targets = [i % 10 for i in range(1000)]
    train, valid = nas_split(targets, 0.1, seed=0)
    assert len(valid) == 100 and len(train) == 900
    assert set(train).isdisjoint(valid) and set(train) | set(valid) == set(range(1000))
    assert Counter(targets[i] for i in valid) == Counter({c: 10 for c in range(10)})
    assert nas_split(targets, 0.1, seed=0) == (train, valid)
    assert nas_split(targets, 0.1, seed=1)[1] != valid


def test_balanced_subset_counts() -> None:
    targets = [i % 4 for i in range(40)]
    pool = list(range(0, 40))
    subset = balanced_subset(pool, targets, 10, seed=0)
    assert len(subset) == 10 and len(set(subset)) == 10 and set(subset) <= set(pool)
    # 10 over 4 classes: 3, 3, 2, 2 in class order.
    assert Counter(targets[i] for i in subset) == Counter({0: 3, 1: 3, 2: 2, 3: 2})
    assert balanced_subset(pool, targets, None, seed=0) == pool
    # A class short of its quota is filled from the others.
    skewed = [0] * 2 + [1] * 20
    assert len(balanced_subset(list(range(22)), skewed, 10, seed=0)) == 10


def _write_folder(root, split: str, classes: list[str], per_class: int) -> dict:
    expected = {}
    for c, cls in enumerate(classes):
        folder = root / "cifar10" / split / cls
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = np.full((32, 32, 3), 0, dtype=np.uint8)
            pixels[..., 0] = c * 20
            pixels[..., 1] = i
            pixels[0, 0] = (255, 0, 128)
            Image.fromarray(pixels).save(folder / f"{i}.png")
            expected[(c, i)] = pixels
    return expected


def test_imagefolder_source_labels_and_pixels(tmp_path) -> None:
    classes = [f"class{c}" for c in range(10)]
    expected = _write_folder(tmp_path, "train", classes, 3)
    source = open_source("CIFAR10", "train", tmp_path)
    assert len(source) == 30 and source.num_classes == 10
    assert source.targets == tuple(c for c in range(10) for _ in range(3))
    images = source.load([4, 29])
    assert images.dtype == torch.uint8 and images.shape == (2, 3, 32, 32)
    # index 4 is class 1, image 1 (folders in sorted order, files in sorted order)
    assert torch.equal(images[0], torch.from_numpy(expected[(1, 1)]).permute(2, 0, 1))
    assert torch.equal(images[1], torch.from_numpy(expected[(9, 2)]).permute(2, 0, 1))
    with pytest.raises(DataMissingError, match="test"):
        open_source("cifar10", "test", tmp_path)


def _write_imagenet16(folder, rng) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir()
    all_images, all_labels = [], []
    for name in (*IMAGENET16_TRAIN_FILES, IMAGENET16_VAL_FILE):
        labels = rng.integers(1, 201, size=12)  # classes 121..200 must be dropped
        data = rng.integers(0, 256, size=(12, 3 * 16 * 16), dtype=np.uint8)
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": data, "labels": labels.tolist()}, handle)
        if name != IMAGENET16_VAL_FILE:
            all_images.append(data)
            all_labels.append(labels)
    return np.concatenate(all_images), np.concatenate(all_labels)


def test_imagenet16_120_loader(tmp_path) -> None:
    data, labels = _write_imagenet16(tmp_path / "ImageNet16", np.random.default_rng(0))
    source = open_source("imagenet16-120", "train", tmp_path)
    keep = (labels >= 1) & (labels <= 120)
    assert source.num_classes == 120
    assert list(source.targets) == (labels[keep] - 1).tolist()
    images = source.load(list(range(len(source))))
    assert images.shape == (int(keep.sum()), 3, 16, 16)
    # Rows are channel-planar: the first 256 values are the red plane, row-major.
    first = data[keep][0]
    assert torch.equal(images[0, 0], torch.from_numpy(first[:256].reshape(16, 16)))
    assert torch.equal(images[0, 2, 3, 5], torch.tensor(first[512 + 3 * 16 + 5]))
    test = open_source("ImageNet16-120", "test", tmp_path)
    assert all(0 <= t < 120 for t in test.targets)
    (tmp_path / "ImageNet16" / "val_data").unlink()
    with pytest.raises(DataMissingError, match="val_data"):
        open_source("ImageNet16-120", "test", tmp_path)


def test_prepare_training_data_splits_and_resizes(tmp_path) -> None:
    classes = [f"c{c}" for c in range(10)]
    _write_folder(tmp_path, "train", classes, 10)
    _write_folder(tmp_path, "test", classes, 2)
    recipe = Recipe(name="t", train_subset=30, valid_subset=None, test_subset=10, input_size=16)
    data = prepare_training_data("cifar10", recipe, tmp_path)
    assert (len(data.train), len(data.valid), len(data.test)) == (30, 10, 10)
    assert data.train.images.shape[1:] == (3, 16, 16) and data.input_size == 16
    assert Counter(data.valid.labels.tolist()) == Counter({c: 1 for c in range(10)})
    assert data.num_classes == 10


def test_unknown_dataset() -> None:
    with pytest.raises(UsageError, match="supported"):
        canonical_dataset_name("mnist")


@pytest.mark.data
def test_shared_cifar10_layout(data_root) -> None:
    train = open_source("cifar10", "train", data_root)
    test = open_source("cifar10", "test", data_root)
    assert (len(train), len(test)) == (50000, 10000)
    assert Counter(train.targets) == Counter({c: 5000 for c in range(10)})
    nas_train, nas_valid = nas_split(train.targets, 0.1, seed=0)
    assert (len(nas_train), len(nas_valid)) == (45000, 5000)
    images = train.load([0, 49999])
    assert images.shape == (2, 3, 32, 32)
    assert (train.targets[0], train.targets[49999]) == (0, 9)  # airplane ... truck


def test_torchvision_cifar10_download_layout(tmp_path, monkeypatch) -> None:
    import torchvision.datasets.cifar as tv_cifar

    # Our files are not the official ones, so skip torchvision's md5 checks (and only those).
    monkeypatch.setattr(tv_cifar.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *args, **kwargs: True)
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        data = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=4).tolist()
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": data, "labels": labels}, handle)
        batches[name] = (data, labels)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, handle)
    train = open_source("cifar10", "train", tmp_path)
    assert len(train) == 20 and list(train.targets[:4]) == batches["data_batch_1"][1]
    image = train.load([5])[0]  # second image of data_batch_2
    expected = torch.from_numpy(batches["data_batch_2"][0][1].reshape(3, 32, 32))
    assert torch.equal(image, expected)
    assert "torchvision" in open_source("cifar10", "test", tmp_path).description
