"""Training data: NAS-train / NAS-valid splits, class-balanced subsets and decoded tensors.

Datasets, their layouts under the data root, normalisation and class counts are defined
once, in :mod:`zsbench.data` (the proxies' batch reads images the same way); this module
only decides which images a recipe trains and evaluates on. Images are decoded once into
uint8 tensors (only the ones a recipe uses) and cached in the process, so a pool build
pays the decoding once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zsbench.data import (
    NATIVE_SIZE,
    NORMALIZATION,
    NUM_CLASSES,
    ImageSource,
    canonical_dataset_name,
    open_source,
    require_data_root,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from zsbench.training.recipes import Recipe


def nas_split(targets: list[int] | tuple[int, ...], valid_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Split indices into NAS-train and NAS-valid, class by class (stratified).

    Each class contributes ``round(valid_fraction * n_class)`` images to NAS-valid, drawn
    with a generator seeded by ``seed``; both lists come back sorted.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    by_class = _indices_by_class(targets)
    train, valid = [], []
    for cls in sorted(by_class):
        members = np.asarray(by_class[cls])
        rng.shuffle(members)
        n_valid = round(valid_fraction * len(members))
        valid.extend(members[:n_valid].tolist())
        train.extend(members[n_valid:].tolist())
    return sorted(train), sorted(valid)


def balanced_subset(indices: list[int], targets: list[int] | tuple[int, ...], size: int | None, seed: int) -> list[int]:
    """A class-balanced subset of ``indices`` with ``size`` elements (all when ``size`` is None or larger).

    Every class gets ``size // C`` images and the first ``size % C`` classes (in class
    order) one more, capped by what the class has; the shortfall is filled from the
    remaining images at random. The result is sorted.
    """
    import numpy as np

    if size is None or size >= len(indices):
        return sorted(indices)
    rng = np.random.default_rng(seed)
    by_class = _indices_by_class(targets, indices)
    classes = sorted(by_class)
    quota = {c: size // len(classes) + (1 if i < size % len(classes) else 0) for i, c in enumerate(classes)}
    chosen: list[int] = []
    leftovers: list[int] = []
    for cls in classes:
        members = np.asarray(by_class[cls])
        rng.shuffle(members)
        chosen.extend(members[: quota[cls]].tolist())
        leftovers.extend(members[quota[cls] :].tolist())
    if len(chosen) < size:
        extra = rng.permutation(np.asarray(leftovers))[: size - len(chosen)]
        chosen.extend(extra.tolist())
    return sorted(chosen)


def _indices_by_class(targets: list[int] | tuple[int, ...], indices: list[int] | None = None) -> dict[int, list[int]]:
    by_class: dict[int, list[int]] = {}
    for i in range(len(targets)) if indices is None else indices:
        by_class.setdefault(int(targets[i]), []).append(int(i))
    return by_class


@dataclass(frozen=True)
class ImageTensors:
    """Decoded images of one split: uint8 ``images`` (``N x 3 x H x W``) and int64 ``labels``."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class TrainingData:
    """Everything a recipe trains and evaluates on.

    Attributes:
        dataset: canonical dataset name.
        num_classes: classifier width.
        input_size: spatial size of the images (after any resize the recipe asks for).
        mean: per-channel mean used for normalisation.
        std: per-channel std used for normalisation.
        train: the NAS-train images (a subset for CPU recipes).
        valid: the NAS-valid images (held out of the official training set).
        test: the official test images.
        source: where the images came from.
    """

    dataset: str
    num_classes: int
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    train: ImageTensors
    valid: ImageTensors
    test: ImageTensors
    source: str


def prepare_training_data(dataset: str, recipe: Recipe, data_root: str | Path | None) -> TrainingData:
    """Decode the NAS-train, NAS-valid and test images a recipe uses (cached per process)."""
    name = canonical_dataset_name(dataset)
    root = str(require_data_root(data_root).resolve())
    return _prepare_cached(
        name,
        root,
        recipe.valid_fraction,
        recipe.split_seed,
        recipe.train_subset,
        recipe.valid_subset,
        recipe.test_subset,
        recipe.subset_seed,
        recipe.input_size,
    )


@functools.lru_cache(maxsize=4)
def _prepare_cached(
    name: str,
    root: str,
    valid_fraction: float,
    split_seed: int,
    train_subset: int | None,
    valid_subset: int | None,
    test_subset: int | None,
    subset_seed: int,
    input_size: int | None,
) -> TrainingData:
    import torch

    train_source = open_source(name, "train", root)
    test_source = open_source(name, "test", root)
    train_idx, valid_idx = nas_split(train_source.targets, valid_fraction, split_seed)
    # Distinct seeds per subset so the three draws are independent.
    train_idx = balanced_subset(train_idx, train_source.targets, train_subset, subset_seed)
    valid_idx = balanced_subset(valid_idx, train_source.targets, valid_subset, subset_seed + 1)
    test_idx = balanced_subset(list(range(len(test_source))), test_source.targets, test_subset, subset_seed + 2)
    size = input_size or NATIVE_SIZE[name]

    def tensors(source: ImageSource, indices: list[int]) -> ImageTensors:
        images = source.load(indices)
        if images.shape[-1] != size or images.shape[-2] != size:
            from torchvision.transforms.v2 import functional as F

            images = F.resize(images, [size, size], antialias=True)
        labels = torch.tensor([source.targets[i] for i in indices], dtype=torch.int64)
        return ImageTensors(images.contiguous(), labels)

    mean, std = NORMALIZATION[name]
    return TrainingData(
        dataset=name,
        num_classes=NUM_CLASSES[name],
        input_size=size,
        mean=mean,
        std=std,
        train=tensors(train_source, train_idx),
        valid=tensors(train_source, valid_idx),
        test=tensors(test_source, test_idx),
        source=f"{train_source.description}; test {test_source.description}",
    )
