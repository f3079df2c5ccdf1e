"""Image datasets under a data root: the one place that knows datasets, their layouts and statistics.

Both the proxies' input batch (:func:`proxy_batch`) and the trainer
(:mod:`zsbench.training.datasets`) read images through :func:`open_source`, with the
normalisation, class counts and image sizes defined here.

Data root: the ``--data-root`` argument, else the ``ZSBENCH_DATA`` environment variable
(:func:`resolve_data_root`). The benchmark tables that ship with zsbench need no data root;
it is only for images. Layouts read under it:

- ``cifar10`` / ``cifar100``: an ImageFolder tree ``<root>/<name>/train/<class>/<image>`` and
  ``<root>/<name>/test/<class>/<image>`` (classes in sorted folder order, which for CIFAR-10
  is the official label order), or torchvision's own download
  (``<root>/<name>/cifar-10-batches-py`` / ``cifar-100-python``, or those folders directly
  under the root). ``zsbench data download cifar10`` (or ``cifar100``) fetches the latter
  with torchvision's downloader (checksums verified, progress bar).
- ``ImageNet16-120``: the 16x16 downsampled-ImageNet pickles NAS-Bench-201 used, in
  ``<root>/ImageNet16-120/`` or ``<root>/ImageNet16/``: ``train_data_batch_1`` ..
  ``train_data_batch_10`` and ``val_data``, each a pickled dict with ``data`` (uint8,
  ``N x 3*16*16``, channel-planar) and ``labels`` (1-based ImageNet class ids). Like
  NAS-Bench-201, only classes 1..120 are kept, relabelled 0..119. These files cannot be
  downloaded automatically: they are the ``Imagenet16_train`` / ``Imagenet16_val`` archives
  of Chrabaszcz, Loshchilov & Hutter, "A Downsampled Variant of ImageNet as an Alternative
  to the CIFAR datasets" (2017), distributed on image-net.org to account holders (the
  NAS-Bench-201 authors also share the ``ImageNet16`` folder with their benchmark files).
- any other name: an ImageFolder tree ``<root>/<name>/<split>/<class>/<image>`` (proxy
  batches only; its class count is its number of class folders).

The default proxy batch (:func:`proxy_batch`) is one seeded batch of real training images
with the usual CIFAR training augmentation (random crop with ``input_size // 8`` pixels of
zero padding, horizontal flip, per-channel normalisation) and their labels. CIFAR-10's
default batch (seed 0, 64 images, 32 or 16 px) ships with zsbench (:func:`shipped_batch`), so
it needs no data root; another CIFAR-10 batch needs the images. For the other datasets,
without the images it falls back to N(0, 1) inputs, says so in a warning that names the
command that fetches them, and in ``Batch.source``. Run contracts name a batch by its
content (:func:`batch_fingerprint`), never by where it came from.
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.errors import DataMissingError, UsageError
from zsbench.interfaces import Batch

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from PIL import Image

# Per-channel mean and std on [0, 1] of the training images (the official CIFAR statistics;
# NAS-Bench-201's values for ImageNet16-120).
NORMALIZATION: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "ImageNet16-120": (
        (122.68 / 255, 116.66 / 255, 104.01 / 255),
        (63.22 / 255, 61.26 / 255, 65.09 / 255),
    ),
}
# Used for ImageFolder datasets without an entry above.
IMAGENET_NORMALIZATION = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
NATIVE_SIZE = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}
SPLITS = ("train", "test")
# Datasets torchvision can download, and the folder its download creates.
TORCHVISION_FOLDER = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
IMAGENET16_FOLDERS = ("ImageNet16-120", "ImageNet16")
IMAGENET16_TRAIN_FILES = tuple(f"train_data_batch_{i}" for i in range(1, 11))
IMAGENET16_VAL_FILE = "val_data"
IMAGENET16_ORIGIN = (
    "ImageNet16-120 cannot be downloaded automatically: get the 16x16 downsampled ImageNet "
    "(Imagenet16_train / Imagenet16_val from image-net.org, or the ImageNet16 folder shared with NAS-Bench-201) "
    "and put train_data_batch_1..10 and val_data in <data-root>/ImageNet16-120/"
)


class DataFallbackWarning(UserWarning):
    """No dataset was found: Gaussian inputs are used instead."""


def canonical_dataset_name(name: str) -> str:
    """The canonical spelling of a known dataset name (case-insensitive; ``imagenet16`` accepted).

    Raises:
        UsageError: the name is not one of ``cifar10``, ``cifar100``, ``ImageNet16-120``.
    """
    known = known_dataset(name)
    if known is None:
        raise UsageError(f"unknown dataset {name!r}; supported: {', '.join(NUM_CLASSES)}")
    return known


def known_dataset(name: str) -> str | None:
    """The canonical name of a known dataset, or ``None`` for any other name."""
    lowered = name.lower()
    for known in NUM_CLASSES:
        if lowered == known.lower():
            return known
    if lowered in ("imagenet16", "imagenet16_120", "imagenet16-120"):
        return "ImageNet16-120"
    return None


def num_classes_of(name: str) -> int | None:
    """The class count of a known dataset, ``None`` for any other name."""
    known = known_dataset(name)
    return NUM_CLASSES[known] if known else None


def normalization(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel (mean, std) used for ``name`` (ImageNet's for unknown datasets)."""
    known = known_dataset(name)
    return NORMALIZATION[known] if known else IMAGENET_NORMALIZATION


def resolve_data_root(data_root: str | Path | None) -> Path | None:
    """The data root: the argument, else ``ZSBENCH_DATA``, else ``None``."""
    if data_root is not None and str(data_root) != "":
        return Path(data_root).expanduser()
    env = os.environ.get("ZSBENCH_DATA")
    return Path(env).expanduser() if env else None


def require_data_root(data_root: str | Path | None) -> Path:
    """:func:`resolve_data_root`, for callers that cannot work without one.

    Raises:
        DataMissingError: neither the argument nor ``ZSBENCH_DATA`` is set.
    """
    root = resolve_data_root(data_root)
    if root is None:
        raise DataMissingError("no data root: pass --data-root DIR or set ZSBENCH_DATA to the folder holding the images")
    return root


def fetch_hint(name: str) -> str:
    """How to get the images of dataset ``name`` (the command, or where they come from)."""
    known = known_dataset(name)
    if known in TORCHVISION_FOLDER:
        return f"fetch them with `zsbench data download {known}`"
    if known == "ImageNet16-120":
        return IMAGENET16_ORIGIN
    return f"put an ImageFolder tree in <data-root>/{name}/train/<class>/<image>"


@dataclass(frozen=True)
class ImageSource:
    """One split of a dataset, not yet decoded: its labels and a way to decode images.

    Attributes:
        name: dataset name (canonical for known datasets).
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

    def image(self, index: int) -> Image.Image:
        """Image ``index`` as an RGB PIL image (what torchvision's transforms take)."""
        from PIL import Image

        if self._array is not None:
            import numpy as np

            return Image.fromarray(np.asarray(self._array)[index])
        assert self._paths is not None
        with open(self._paths[index], "rb") as handle:  # as torchvision's ImageFolder loader does
            return Image.open(handle).convert("RGB")

    def load(self, indices: list[int]) -> torch.Tensor:
        """Decode the images at ``indices`` into a uint8 tensor ``N x 3 x H x W``."""
        import numpy as np
        import torch

        if self._array is not None:
            array = np.asarray(self._array)[np.asarray(indices, dtype=np.int64)]
            return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))
        if not indices:
            return torch.empty((0, 3, 0, 0), dtype=torch.uint8)
        arrays = [np.asarray(self.image(i), dtype=np.uint8) for i in indices]
        return torch.from_numpy(np.ascontiguousarray(np.stack(arrays).transpose(0, 3, 1, 2)))


def open_source(name: str, split: str, data_root: str | Path | None) -> ImageSource:
    """Open the official ``split`` (``train`` or ``test``) of dataset ``name`` under the data root.

    Known datasets (``cifar10``, ``cifar100``, ``ImageNet16-120``) are read in the layouts of
    the module docstring and must have their class count; any other name is read as an
    ImageFolder tree.

    Raises:
        UsageError: ``split`` is not ``train`` or ``test``.
        DataMissingError: no data root, or no supported layout there; the message names the
            paths tried and how to get the images.
    """
    if split not in SPLITS:
        raise UsageError(f"split must be 'train' or 'test', got {split!r}")
    known = known_dataset(name)
    root = resolve_data_root(data_root)
    if root is None:
        raise DataMissingError(
            f"no data root for dataset {known or name!r}: pass --data-root DIR or set ZSBENCH_DATA; {fetch_hint(name)}"
        )
    if known == "ImageNet16-120":
        return _open_imagenet16(root, split)
    return _open_folder_or_torchvision(known or name, known is not None, root, split)


def _open_folder_or_torchvision(name: str, known: bool, root: Path, split: str) -> ImageSource:
    folder = root / name / split
    if folder.is_dir() and any(p.is_dir() for p in folder.iterdir()):
        from torchvision.datasets import ImageFolder

        # ImageFolder only lists files here; decoding happens in ImageSource.image / load.
        tree = ImageFolder(str(folder))
        if known and len(tree.classes) != NUM_CLASSES[name]:
            raise DataMissingError(
                f"{folder} has {len(tree.classes)} class folders, expected {NUM_CLASSES[name]} for {name}"
            )
        return ImageSource(
            name=name,
            split=split,
            targets=tuple(int(t) for t in tree.targets),
            num_classes=len(tree.classes),
            description=f"{name} ImageFolder {folder}",
            _paths=tuple(path for path, _ in tree.samples),
        )
    tv_folder = TORCHVISION_FOLDER.get(name)
    if tv_folder is not None:
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
    looked = [f"{folder}/<class>/<image>"]
    if tv_folder is not None:
        looked += [str(root / name / tv_folder), str(root / tv_folder)]
    raise DataMissingError(f"dataset {name!r} ({split}) not found; looked for: {', '.join(looked)}; {fetch_hint(name)}")


def _open_imagenet16(root: Path, split: str) -> ImageSource:
    candidates = [root / folder for folder in IMAGENET16_FOLDERS]
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is None:
        raise DataMissingError(
            f"ImageNet16-120 not found: expected {candidates[0]} (or {candidates[1]}) holding "
            f"{', '.join(IMAGENET16_TRAIN_FILES[:2])}, ..., {IMAGENET16_VAL_FILE}; {IMAGENET16_ORIGIN}"
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
        ``(images, labels)``: a uint8 numpy array ``N x side x side x 3`` and 0-based labels.
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


def train_transform(name: str = "cifar10", input_size: int = 32) -> Callable[[Any], torch.Tensor]:
    """The usual CIFAR training augmentation on a PIL image: (resize when ``input_size``
    differs from 32), random crop with ``input_size // 8`` pixels of zero padding (4 at 32,
    2 at 16 as NAS-Bench-201 uses for ImageNet16-120), horizontal flip, ToTensor,
    normalisation. Draws from torch's global RNG."""
    from torchvision import transforms

    return transforms.Compose([*_geometric_steps(input_size), *_tensor_steps(name)])


def _geometric_steps(input_size: int) -> list[Any]:
    """The augmentation's steps on PIL images (all its random draws): what a shipped batch stores as uint8."""
    from torchvision import transforms

    steps: list[Any] = []
    if input_size != 32:
        steps.append(transforms.Resize(input_size))
    steps += [transforms.RandomCrop(input_size, padding=max(1, input_size // 8)), transforms.RandomHorizontalFlip()]
    return steps


def _tensor_steps(name: str) -> list[Any]:
    """ToTensor and normalisation: deterministic, so a stored uint8 image gives back the same floats."""
    from torchvision import transforms

    mean, std = normalization(name)
    return [transforms.ToTensor(), transforms.Normalize(mean, std)]


#: The proxy batches that ship with zsbench, so that CIFAR-10 benchmarks score the same images on every
#: machine without a data root: ``(dataset, seed, batch size, input size)`` of each. The file holds the
#: augmented images as uint8 (after crop and flip, before ToTensor and normalisation) and their labels;
#: provenance in ``batches/NOTICE``.
SHIPPED_BATCHES: tuple[tuple[str, int, int, int], ...] = (("cifar10", 0, 64, 32), ("cifar10", 0, 64, 16))
SHIPPED_BATCH_FILE = Path(__file__).with_name("batches") / "cifar10-train-augmented-seed0-b64.npz"
#: ``--batch-source``: ``auto`` (the shipped batch where it is the one asked for, else the data root),
#: ``shipped`` (only the shipped batch) or ``data`` (always decode the images under the data root).
BATCH_SOURCES = ("auto", "shipped", "data")


def shipped_batch_key(dataset: str, seed: int, batch_size: int, input_size: int) -> tuple[str, int, int, int] | None:
    """The :data:`SHIPPED_BATCHES` entry these arguments name, else ``None``."""
    key = (known_dataset(dataset) or dataset, int(seed), int(batch_size), int(input_size))
    return key if key in SHIPPED_BATCHES else None


def batch_fingerprint(batch: Batch) -> str:
    """The identity of a batch's content: ``sha256:`` and the first 16 hex digits of the SHA-256 of
    its inputs (dtype, shape, bytes, on the CPU) and targets. Recorded in every run contract of a
    proxy that reads the batch, so scores of other pixels are never taken for one another."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for tensor in (batch.inputs, batch.targets):
        array = np.ascontiguousarray(tensor.detach().cpu().numpy())
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return f"sha256:{digest.hexdigest()[:16]}"


def augmented_uint8(dataset: str, batch_size: int, seed: int, data_root: str | Path | None, input_size: int) -> tuple[Any, Any, Any]:
    """The seeded draw of :func:`proxy_batch` from the data root, before ToTensor: ``(images, labels,
    indices)``, uint8 ``N x H x W x 3``, int64 labels and the training-image indices drawn. What a
    shipped batch stores (``benchmarks/packs/make_shipped_batch.py``)."""
    import numpy as np
    import torch
    from torchvision import transforms

    name = known_dataset(dataset) or dataset
    data = open_source(name, "train", data_root)
    if batch_size > len(data):
        raise ValueError(f"batch_size {batch_size} exceeds the {len(data)} training images of {name!r}")
    geometric = transforms.Compose(_geometric_steps(input_size))
    indices = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:batch_size].tolist()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        images = np.stack([np.asarray(geometric(data.image(i)), dtype=np.uint8) for i in indices])
    labels = np.asarray([data.targets[i] for i in indices], dtype=np.int64)
    return images, labels, np.asarray(indices, dtype=np.int64)


def _uint8_to_inputs(images: Any, name: str) -> torch.Tensor:
    """Stored uint8 images ``N x H x W x 3`` through the deterministic steps (as PIL images, as the
    augmentation hands them on), giving the floats the full augmentation gives."""
    import torch
    from PIL import Image
    from torchvision import transforms

    finish = transforms.Compose(_tensor_steps(name))
    return torch.stack([finish(Image.fromarray(image)) for image in images])


def shipped_batch(input_size: int = 32, num_classes: int = 10) -> Batch:
    """The shipped CIFAR-10 proxy batch (seed 0, 64 images) at ``input_size`` (32 or 16), bit-identical
    to what :func:`proxy_batch` decodes from the CIFAR-10 JPEG copy it was made from (see ``batches/NOTICE``)."""
    import numpy as np
    import torch

    if ("cifar10", 0, 64, int(input_size)) not in SHIPPED_BATCHES:
        raise UsageError(f"no shipped CIFAR-10 batch at {input_size} px; shipped: 32 and 16 px (seed 0, 64 images)")
    with np.load(SHIPPED_BATCH_FILE) as stored:
        images = stored[f"images_{int(input_size)}"]
        labels = stored["labels"]
    inputs = _uint8_to_inputs(images, "cifar10")
    targets = torch.from_numpy(labels.astype(np.int64))
    return Batch(inputs, targets, num_classes, source="cifar10:train:augmented:seed=0 (shipped batch)")


def gaussian_batch(batch_size: int, seed: int, input_size: int, num_classes: int) -> Batch:
    """N(0, 1) inputs ``batch_size x 3 x input_size x input_size`` with uniform labels, from a
    generator seeded by ``seed``: the fallback of :func:`proxy_batch` for datasets other than CIFAR-10."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn((batch_size, 3, input_size, input_size), generator=generator)
    targets = torch.randint(0, num_classes, (batch_size,), generator=generator)
    return Batch(inputs, targets, num_classes, source=f"gaussian:seed={seed}")


def proxy_batch(
    dataset: str = "cifar10",
    batch_size: int = 64,
    seed: int = 0,
    data_root: str | Path | None = None,
    input_size: int = 32,
    num_classes: int | None = None,
    batch_source: str = "auto",
) -> Batch:
    """One seeded batch of augmented training images and their labels, the proxies' default input.

    ``batch_size`` indices are drawn without replacement from the training split with a
    generator seeded by ``seed``; only those images are decoded, and the augmentation runs
    under a forked RNG seeded by ``seed``, so the batch is a pure function of its
    arguments and the global RNG is left untouched.

    CIFAR-10 at seed 0 with 64 images (32 or 16 px) is the shipped batch (:func:`shipped_batch`)
    unless ``batch_source="data"``: the same images on every machine, data root or not. Any other
    CIFAR-10 batch needs the images under the data root (a :class:`DataMissingError` says so:
    CIFAR-10 never falls back to noise). For other datasets without their images (or no data root
    at all), returns N(0, 1) inputs of shape ``batch_size x 3 x input_size x input_size`` with
    uniform labels over ``num_classes`` (default: the dataset's known class count, else 10), with
    ``source="gaussian:seed=<seed>"``, and issues a :class:`DataFallbackWarning` naming how to get
    the images.

    Returns:
        A :class:`zsbench.Batch`; ``source`` is ``"<dataset>:train:augmented:seed=<seed>"``
        for real images (the canonical dataset name for known datasets), with `` (shipped batch)``
        for the shipped one.
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, not {batch_size}")
    if batch_source not in BATCH_SOURCES:
        raise UsageError(f"--batch-source must be one of {', '.join(BATCH_SOURCES)}, got {batch_source!r}")
    name = known_dataset(dataset) or dataset
    shipped = shipped_batch_key(name, seed, batch_size, input_size)
    if shipped is not None and batch_source != "data":
        return shipped_batch(input_size, num_classes or NUM_CLASSES["cifar10"])
    if batch_source == "shipped":
        raise UsageError(
            f"--batch-source shipped: the shipped batch is CIFAR-10, seed 0, 64 images at 32 or 16 px, not "
            f"{name}, seed {seed}, {batch_size} images at {input_size} px; use --batch-source auto with a data root"
        )
    try:
        data = open_source(name, "train", data_root)
    except DataMissingError as exc:
        if name == "cifar10" or batch_source == "data":
            raise DataMissingError(
                f"{exc}; the shipped batch covers only CIFAR-10 seed 0, 64 images at 32 or 16 px "
                f"(asked: seed {seed}, {batch_size} images at {input_size} px, --batch-source {batch_source})"
            ) from None
        classes = num_classes or NUM_CLASSES.get(name, 10)
        warnings.warn(
            f"{exc}; scoring on Gaussian N(0,1) inputs with uniform random labels instead of real images",
            DataFallbackWarning,
            stacklevel=2,
        )
        return gaussian_batch(batch_size, seed, input_size, classes)
    if batch_size > len(data):
        raise ValueError(f"batch_size {batch_size} exceeds the {len(data)} training images of {name!r}")
    transform = train_transform(name, input_size)
    generator = torch.Generator().manual_seed(seed)
    indices = torch.randperm(len(data), generator=generator)[:batch_size].tolist()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # One image at a time, decode then augment, so the RNG draws are those of a torchvision dataset.
        inputs = torch.stack([transform(data.image(i)) for i in indices])
    targets = torch.tensor([data.targets[i] for i in indices], dtype=torch.long)
    classes = num_classes or data.num_classes
    return Batch(inputs, targets, classes, source=f"{name}:train:augmented:seed={seed}")


def download_dataset(name: str, data_root: str | Path | None) -> Path:
    """Fetch the training and test images of ``cifar10`` or ``cifar100`` into the data root
    with torchvision's downloader (which verifies the archive's MD5 and shows a progress
    bar), as ``<root>/<name>/cifar-10-batches-py`` (``cifar-100-python``), the layout
    :func:`open_source` reads. An existing, intact download is not fetched again.

    Returns:
        The folder the dataset was put in (``<root>/<name>``).

    Raises:
        UsageError: the dataset cannot be downloaded (ImageNet16-120: the message says where it comes from).
        DataMissingError: no data root.
    """
    known = known_dataset(name)
    if known == "ImageNet16-120":
        raise UsageError(IMAGENET16_ORIGIN)
    if known not in TORCHVISION_FOLDER:
        raise UsageError(f"cannot download dataset {name!r}: `zsbench data download` knows {', '.join(TORCHVISION_FOLDER)}")
    from torchvision import datasets

    target = require_data_root(data_root) / known
    target.mkdir(parents=True, exist_ok=True)
    cls = datasets.CIFAR10 if known == "cifar10" else datasets.CIFAR100
    for train in (True, False):
        try:
            cls(str(target), train=train, download=True)
        except (OSError, TimeoutError) as exc:  # urllib's URLError, a refused connection, DNS, a timeout
            from zsbench.downloads import DownloadError

            reason = getattr(exc, "reason", None) or exc
            raise DownloadError(
                f"cannot reach {cls.url} to download {known} ({reason}); check the network connection (or set "
                f"HTTPS_PROXY), or fetch {cls.filename} elsewhere and put it in {target}, then run the command again"
            ) from None
    return target
