"""Image datasets under a data root, and the default batch the proxies are scored on.

Data root: the ``--data-root`` argument, else the ``ZSBENCH_DATA`` environment variable
(:func:`resolve_data_root`). Under it, a dataset ``name`` (``cifar10``, ``cifar100`` or any
other folder name) is read from, in this order:

1. an ImageFolder tree ``<root>/<name>/<split>/<class>/<image>`` (``split`` is ``train`` or
   ``test``; classes in sorted folder order, which for CIFAR-10 is the official label order);
2. torchvision's own CIFAR download (``cifar10``/``cifar100`` only):
   ``<root>/<name>/cifar-10-batches-py`` (``cifar-100-python``) or that folder directly
   under the root.

The default proxy batch (:func:`proxy_batch`) is one seeded batch of real training images
with the usual CIFAR training augmentation (random crop with 4 pixels of zero padding,
horizontal flip, per-channel normalisation) and their labels. Without a dataset it falls
back to N(0, 1) images with uniform labels, says so in a warning and in ``Batch.source``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.errors import DataMissingError
from zsbench.interfaces import Batch

if TYPE_CHECKING:  # pragma: no cover
    import torch

# Per-channel mean and std on [0, 1] of the training images (the official statistics).
NORMALIZATION: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
# Used for datasets without an entry above.
IMAGENET_NORMALIZATION = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
NUM_CLASSES = {"cifar10": 10, "cifar100": 100}
_TORCHVISION_FOLDER = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
SPLITS = ("train", "test")


class DataFallbackWarning(UserWarning):
    """No dataset was found: Gaussian inputs are used instead."""


def resolve_data_root(data_root: str | Path | None) -> Path | None:
    """The data root: the argument, else ``ZSBENCH_DATA``, else ``None``."""
    if data_root is not None and str(data_root) != "":
        return Path(data_root).expanduser()
    env = os.environ.get("ZSBENCH_DATA")
    return Path(env).expanduser() if env else None


def find_dataset(name: str, split: str, data_root: str | Path | None) -> tuple[str, Path]:
    """Locate ``name``/``split`` under the data root.

    Returns:
        ``("imagefolder", <root>/<name>/<split>)`` or ``("torchvision", <folder holding the
        torchvision download>)``.

    Raises:
        ValueError: ``split`` is not ``train`` or ``test``.
        DataMissingError: nothing usable is there; the message lists the layouts looked for.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    root = resolve_data_root(data_root)
    if root is None:
        raise DataMissingError(f"no data root for dataset {name!r}: pass --data-root or set ZSBENCH_DATA")
    folder = root / name / split
    if folder.is_dir() and any(p.is_dir() for p in folder.iterdir()):
        return "imagefolder", folder
    tv_folder = _TORCHVISION_FOLDER.get(name.lower())
    if tv_folder is not None:
        for parent in (root / name, root):
            if (parent / tv_folder).is_dir():
                return "torchvision", parent
    looked = [str(folder) + "/<class>/<image>"]
    if tv_folder is not None:
        looked += [str(root / name / tv_folder), str(root / tv_folder)]
    raise DataMissingError(f"dataset {name!r} ({split}) not found; looked for: {', '.join(looked)}")


def load_image_dataset(
    name: str,
    split: str = "train",
    data_root: str | Path | None = None,
    transform: Callable[[Any], Any] | None = None,
    target_transform: Callable[[Any], Any] | None = None,
) -> Any:
    """A torchvision dataset for ``name``/``split`` (ImageFolder tree or CIFAR download).

    Indexing it returns ``(transform(image), label)`` and decodes only that image, so
    drawing a few samples from 50,000 JPEGs is cheap. The dataset has ``classes``.

    Raises:
        DataMissingError: see :func:`find_dataset`.
    """
    from torchvision import datasets

    kind, path = find_dataset(name, split, data_root)
    if kind == "imagefolder":
        return datasets.ImageFolder(str(path), transform=transform, target_transform=target_transform)
    cls = datasets.CIFAR10 if name.lower() == "cifar10" else datasets.CIFAR100
    return cls(str(path), train=split == "train", transform=transform, target_transform=target_transform, download=False)


def normalization(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel (mean, std) used for ``name`` (ImageNet's for unknown datasets)."""
    return NORMALIZATION.get(name.lower(), IMAGENET_NORMALIZATION)


def train_transform(name: str = "cifar10", input_size: int = 32) -> Callable[[Any], torch.Tensor]:
    """The usual CIFAR training augmentation: (resize when ``input_size`` differs from 32),
    random crop with ``input_size // 8`` pixels of zero padding (4 at 32), horizontal
    flip, ToTensor, normalisation. Draws from torch's global RNG."""
    from torchvision import transforms

    mean, std = normalization(name)
    steps: list[Any] = []
    if input_size != 32:
        steps.append(transforms.Resize(input_size))
    steps += [
        transforms.RandomCrop(input_size, padding=max(1, input_size // 8)),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ]
    return transforms.Compose(steps)


def proxy_batch(
    dataset: str = "cifar10",
    batch_size: int = 64,
    seed: int = 0,
    data_root: str | Path | None = None,
    input_size: int = 32,
    num_classes: int | None = None,
) -> Batch:
    """One seeded batch of augmented training images and their labels, the proxies' default input.

    ``batch_size`` indices are drawn without replacement from the training split with a
    generator seeded by ``seed``; only those images are decoded, and the augmentation runs
    under a forked RNG seeded by ``seed``, so the batch is a pure function of its
    arguments and the global RNG is left untouched.

    Without the dataset under the data root (or no data root at all), returns N(0, 1)
    inputs of shape ``batch_size x 3 x input_size x input_size`` with uniform labels over
    ``num_classes`` (default: the dataset's known class count, else 10), with
    ``source="gaussian:seed=<seed>"``, and issues a :class:`DataFallbackWarning`; it never
    raises for missing data.

    Returns:
        A :class:`zsbench.Batch`; ``source`` is ``"<dataset>:train:augmented:seed=<seed>"``
        for real images.
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, not {batch_size}")
    try:
        data = load_image_dataset(dataset, "train", data_root, transform=train_transform(dataset, input_size))
    except DataMissingError as exc:
        classes = num_classes or NUM_CLASSES.get(dataset.lower(), 10)
        warnings.warn(
            f"{exc}; scoring on Gaussian N(0,1) inputs with uniform random labels instead of real images",
            DataFallbackWarning,
            stacklevel=2,
        )
        generator = torch.Generator().manual_seed(seed)
        inputs = torch.randn((batch_size, 3, input_size, input_size), generator=generator)
        targets = torch.randint(0, classes, (batch_size,), generator=generator)
        return Batch(inputs, targets, classes, source=f"gaussian:seed={seed}")
    if batch_size > len(data):
        raise ValueError(f"batch_size {batch_size} exceeds the {len(data)} training images of {dataset!r}")
    generator = torch.Generator().manual_seed(seed)
    indices = torch.randperm(len(data), generator=generator)[:batch_size].tolist()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        samples = [data[i] for i in indices]
    inputs = torch.stack([image for image, _ in samples])
    targets = torch.tensor([label for _, label in samples], dtype=torch.long)
    classes = num_classes or len(data.classes)
    return Batch(inputs, targets, classes, source=f"{dataset}:train:augmented:seed={seed}")
