"""Image datasets for training: CIFAR-10, CIFAR-100 and ImageNet16-120 from a data root.

Layouts read under the data root (``--data-root`` or ``ZSBENCH_DATA``):

- ``cifar10`` / ``cifar100``: an ImageFolder tree ``<root>/<name>/train/<class>/*`` and
  ``<root>/<name>/test/<class>/*`` (classes in sorted folder order), or torchvision's own
  download (``<root>/<name>/cifar-10-batches-py`` / ``cifar-100-python``, or those folders
  directly under the root).
- ``ImageNet16-120``: the downsampled-ImageNet pickles NAS-Bench-201 used, in
  ``<root>/ImageNet16-120/`` or ``<root>/ImageNet16/``: ``train_data_batch_1`` ..
  ``train_data_batch_10`` and ``val_data``, each a pickled dict with ``data`` (uint8,
  ``N x 3*16*16``, channel-planar) and ``labels`` (1-based ImageNet class ids). Like
  NAS-Bench-201, only classes 1..120 are kept, relabelled 0..119.

Images are decoded once into uint8 tensors (only the ones a recipe uses) and cached in
the process, so a pool build pays the decoding once.
"""

from __future__ import annotations

import functools
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zsbench.errors import DataMissingError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from zsbench.training.recipes import Recipe

# Per-channel mean and std on [0, 1] (NAS-Bench-201's values for ImageNet16).
NORMALIZATION: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "ImageNet16-120": (
        (122.68 / 255, 116.66 / 255, 104.01 / 255),
        (63.22 / 255, 61.26 / 255, 65.09 / 255),
    ),
}
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
NATIVE_SIZE = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}
_TORCHVISION_FOLDER = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
IMAGENET16_TRAIN_FILES = tuple(f"train_data_batch_{i}" for i in range(1, 11))
IMAGENET16_VAL_FILE = "val_data"


def canonical_dataset_name(name: str) -> str:
    """The canonical spelling of a dataset name (case-insensitive; ``imagenet16`` accepted).

    Raises:
        UsageError: the name is not a supported dataset.
    """
    lowered = name.lower()
    for known in NUM_CLASSES:
        if lowered == known.lower():
            return known
    if lowered in ("imagenet16", "imagenet16_120"):
        return "ImageNet16-120"
    raise UsageError(f"unknown dataset {name!r}; supported: {', '.join(NUM_CLASSES)}")


def resolve_data_root(data_root: str | Path | None) -> Path:
    """The data root: the argument, else ``ZSBENCH_DATA``.

    Raises:
        DataMissingError: neither is set.
    """
    if data_root is None:
        env = os.environ.get("ZSBENCH_DATA")
        if not env:
            raise DataMissingError("no data root: pass --data-root or set ZSBENCH_DATA to the folder holding cifar10/")
        data_root = env
    return Path(data_root).expanduser()


@dataclass(frozen=True)
class ImageSource:
    """One split of a dataset, not yet decoded: its labels and a way to decode images.

    Attributes:
        name: canonical dataset name.
        split: ``"train"`` or ``"test"`` (the official splits).
        targets: class index of every image, in the source's order.
        num_classes: number of classes.
        description: where the images come from (for error messages and records).
    """

    name: str
    split: str
    targets: tuple[int, ...]
    num_classes: int
    description: str
    _paths: tuple[str, ...] | None = None
    _array: object | None = None  # numpy uint8 N x H x W x C when the source is in memory

    def __len__(self) -> int:
        return len(self.targets)

    def load(self, indices: list[int]) -> torch.Tensor:
        """Decode the images at ``indices`` into a uint8 tensor ``N x 3 x H x W``."""
        import numpy as np
        import torch

        if self._array is not None:
            array = np.asarray(self._array)[np.asarray(indices, dtype=np.int64)]
            return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))
        from PIL import Image

        assert self._paths is not None
        if not indices:
            return torch.empty((0, 3, 0, 0), dtype=torch.uint8)
        arrays = []
        for i in indices:
            with Image.open(self._paths[i]) as image:
                arrays.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
        return torch.from_numpy(np.ascontiguousarray(np.stack(arrays).transpose(0, 3, 1, 2)))


def open_source(name: str, split: str, data_root: str | Path | None) -> ImageSource:
    """Open the official ``split`` (``train`` or ``test``) of dataset ``name`` under the data root.

    Raises:
        DataMissingError: no supported layout was found; the message names the paths tried.
    """
    name = canonical_dataset_name(name)
    if split not in ("train", "test"):
        raise UsageError(f"split must be 'train' or 'test', got {split!r}")
    root = resolve_data_root(data_root)
    if name == "ImageNet16-120":
        return _open_imagenet16(root, split)
    return _open_cifar(name, root, split)


def _open_cifar(name: str, root: Path, split: str) -> ImageSource:
    folder = root / name / split
    if folder.is_dir():
        from torchvision.datasets import ImageFolder

        # ImageFolder only lists files here; decoding happens in ImageSource.load.
        tree = ImageFolder(str(folder))
        if len(tree.classes) != NUM_CLASSES[name]:
            raise DataMissingError(
                f"{folder} has {len(tree.classes)} class folders, expected {NUM_CLASSES[name]} for {name}"
            )
        return ImageSource(
            name=name,
            split=split,
            targets=tuple(int(t) for t in tree.targets),
            num_classes=NUM_CLASSES[name],
            description=f"{name} ImageFolder {folder}",
            _paths=tuple(path for path, _ in tree.samples),
        )
    tv_folder = _TORCHVISION_FOLDER[name]
    for parent in (root / name, root):
        if (parent / tv_folder).is_dir():
            from torchvision.datasets import CIFAR10, CIFAR100

            cls = CIFAR10 if name == "cifar10" else CIFAR100
            data = cls(str(parent), train=(split == "train"), download=False)
            return ImageSource(
                name=name,
                split=split,
                targets=tuple(int(t) for t in data.targets),
                num_classes=NUM_CLASSES[name],
                description=f"{name} torchvision {parent / tv_folder}",
                _array=data.data,
            )
    raise DataMissingError(
        f"{name} {split} split not found: expected an ImageFolder tree {folder}/<class>/*.jpg "
        f"or torchvision's download {root / name / tv_folder}"
    )


def _open_imagenet16(root: Path, split: str) -> ImageSource:
    candidates = [root / "ImageNet16-120", root / "ImageNet16"]
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is None:
        raise DataMissingError(
            f"ImageNet16-120 not found: expected {candidates[0]} (or {candidates[1]}) holding "
            f"{', '.join(IMAGENET16_TRAIN_FILES[:2])}, ..., {IMAGENET16_VAL_FILE} (downsampled-ImageNet pickles)"
        )
    files = IMAGENET16_TRAIN_FILES if split == "train" else (IMAGENET16_VAL_FILE,)
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise DataMissingError(f"ImageNet16-120 {split} split incomplete in {folder}: missing {', '.join(missing)}")
    array, labels = load_imagenet16_files([folder / f for f in files], max_class=120)
    return ImageSource(
        name="ImageNet16-120",
        split=split,
        targets=tuple(labels),
        num_classes=120,
        description=f"ImageNet16-120 pickles {folder}",
        _array=array,
    )


def load_imagenet16_files(paths: list[Path], max_class: int = 120) -> tuple[object, list[int]]:
    """Read downsampled-ImageNet pickles and keep classes ``1..max_class``.

    Returns:
        ``(images, labels)``: a uint8 numpy array ``N x 16 x 16 x 3`` and 0-based labels.
    """
    import numpy as np

    arrays, labels = [], []
    for path in paths:
        with open(path, "rb") as handle:
            entry = pickle.load(handle, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8)
        side = round((data.shape[1] // 3) ** 0.5)
        if 3 * side * side != data.shape[1]:
            raise DataMissingError(f"{path}: rows of {data.shape[1]} values are not 3 x side x side images")
        raw_labels = np.asarray(entry["labels"], dtype=np.int64)
        keep = (raw_labels >= 1) & (raw_labels <= max_class)
        arrays.append(data[keep].reshape(-1, 3, side, side).transpose(0, 2, 3, 1))
        labels.append(raw_labels[keep] - 1)
    return np.concatenate(arrays), [int(v) for v in np.concatenate(labels)]


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
    root = str(resolve_data_root(data_root).resolve())
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
