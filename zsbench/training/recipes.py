"""Training recipes: plain data describing how a network is trained and evaluated.

A :class:`Recipe` is a frozen dataclass; every result stores the recipe it was trained
with (``Recipe.as_dict()``) and its hash (``Recipe.hash()``), so results trained under
different recipes can never be mixed up. Built-in recipes:

``paper``
    NAS-Bench-Zero's recipe (section 3.2 of the paper): SGD with momentum 0.9 and
    Nesterov, initial learning rate 0.1 with cosine decay, 360 epochs, weight decay
    5e-4, AutoAugment (CIFAR-10 policy), mixup, label smoothing 0.1; the official training
    set split 90 % NAS-train / 10 % NAS-valid; accuracy on NAS-valid and the official test
    split. The paper gives no batch size or mixup alpha: we use 128 (the usual CIFAR value
    for learning rate 0.1) and alpha 0.2 (He et al. 2018, which the paper follows).
``cpu``
    The same recipe on a CPU budget: fewer epochs, a class-balanced subset of NAS-train,
    NAS-valid / test subsets for evaluation, 16x16 images and a smaller batch (so that a
    short run still takes over a hundred optimiser steps) with the learning rate scaled
    linearly with it (0.1 per 128 images, as in the paper). Optimiser, schedule, weight
    decay, augmentation, mixup, label smoothing and the split are unchanged. Its size was chosen
    from measured per-network times (see ``benchmarks/nbzero-mini.md``).
``cpu-v2``
    The ``cpu`` recipe with about six times the training: 5 epochs over 5,000
    class-balanced NAS-train images (785 steps of up to 32 images instead of 128), evaluated on
    the full official test split (10,000 images, so test-set sampling no longer dominates
    the difference between two trainings) and 2,000 NAS-valid images. Sized from the first
    build's measurements (more steps made two seeds rank R1 networks far more alike) and
    measured in a pilot: see ``benchmarks/nbzero-mini.md``.
``tiny``
    A few optimisation steps on a handful of images, for tests and smoke runs only: its
    accuracies mean nothing.

A recipe can also be read from a JSON file (``Recipe.from_file``) whose keys are the
dataclass fields; missing keys take the defaults of the ``paper`` recipe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsbench.errors import UsageError


@dataclass(frozen=True)
class Recipe:
    """How one network is trained and evaluated.

    Attributes:
        name: label of the recipe (part of the hash, so a renamed recipe is a new recipe).
        epochs: passes over the NAS-train set.
        batch_size: training minibatch size.
        lr: initial learning rate of SGD, decayed to 0 with a cosine schedule per step.
        momentum: SGD momentum.
        nesterov: use Nesterov momentum.
        weight_decay: L2 penalty applied by SGD to every parameter.
        label_smoothing: label-smoothing factor of the cross-entropy loss.
        mixup_alpha: Beta(alpha, alpha) parameter of mixup; 0 disables mixup.
        autoaugment: apply torchvision's AutoAugment with the CIFAR-10 policy.
        random_crop_padding: zero padding of the random crop (0 disables crop and flip).
        valid_fraction: fraction of the official training set held out as NAS-valid.
        split_seed: seed of the NAS-train / NAS-valid split (fixed: every network sees
            the same split).
        train_subset: number of NAS-train images used (class-balanced), ``None`` for all.
        valid_subset: number of NAS-valid images evaluated, ``None`` for all.
        test_subset: number of official test images evaluated, ``None`` for all.
        subset_seed: seed of the subsets (fixed, like ``split_seed``).
        eval_batch_size: minibatch size for evaluation.
        input_size: image size the networks are built for and trained at; ``None`` keeps the
            dataset's native size. Images are resized when it differs.
    """

    name: str = "paper"
    epochs: int = 360
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    mixup_alpha: float = 0.2
    autoaugment: bool = True
    random_crop_padding: int = 4
    valid_fraction: float = 0.1
    split_seed: int = 0
    train_subset: int | None = None
    valid_subset: int | None = None
    test_subset: int | None = None
    subset_seed: int = 0
    eval_batch_size: int = 500
    input_size: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise UsageError(f"recipe {self.name!r}: epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise UsageError(f"recipe {self.name!r}: batch sizes must be >= 1")
        if not 0.0 < self.valid_fraction < 1.0:
            raise UsageError(f"recipe {self.name!r}: valid_fraction must be in (0, 1), got {self.valid_fraction}")
        for field_name in ("train_subset", "valid_subset", "test_subset"):
            value = getattr(self, field_name)
            if value is not None and value < 1:
                raise UsageError(f"recipe {self.name!r}: {field_name} must be >= 1 or null, got {value}")
        if self.mixup_alpha < 0 or not 0 <= self.label_smoothing < 1:
            raise UsageError(f"recipe {self.name!r}: mixup_alpha must be >= 0 and label_smoothing in [0, 1)")

    def as_dict(self) -> dict[str, Any]:
        """Every field, JSON-friendly (what results store)."""
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """First 12 hex digits of the SHA-256 of the canonical JSON of :meth:`as_dict`."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def replace(self, **changes: Any) -> Recipe:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build a recipe from a mapping of field names; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown recipe field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path) -> Recipe:
        """Read a recipe from a JSON file (keys are field names; the name defaults to the file stem)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"cannot read recipe file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise UsageError(f"recipe file {path} must hold a JSON object of recipe fields")
        data.setdefault("name", path.stem)
        return cls.from_dict(data)


PAPER = Recipe()

# Sized from measured single-thread times (benchmarks/nbzero-mini.md): 16x16 images (a
# quarter of the compute of 32x32), 1,000 class-balanced NAS-train images for 4 epochs,
# batches of 32 so the cosine schedule still has 128 steps. The learning rate follows the
# linear scaling rule from the paper's 0.1 at batch 128 (the same rate per image): at 0.1
# with batch 32, R1 networks hardly learned in 128 steps (mean test accuracy 15 % against
# 21 % at 0.025). Accuracy on 500 NAS-valid and 2,000 test images (with 1,000 the binomial
# noise was a third of the seed-to-seed noise).
CPU = Recipe(
    name="cpu",
    epochs=4,
    batch_size=32,
    lr=0.025,
    train_subset=1000,
    valid_subset=500,
    test_subset=2000,
    input_size=16,
)

# Sized from the first build's measurements, then measured (benchmarks/nbzero-mini.md): the same
# optimiser, schedule, rate per image and augmentation as ``cpu``, six times the image-steps
# (25,000: 785 steps of up to 32), spread over five times the NAS-train images (so larger networks
# are not held back by memorising 1,000 images), and the full test split (with 2,000 test
# images the binomial noise alone was ~1.3 points RMS between two trainings).
CPU_V2 = Recipe(
    name="cpu-v2",
    epochs=5,
    batch_size=32,
    lr=0.025,
    train_subset=5000,
    valid_subset=2000,
    test_subset=None,
    input_size=16,
)

TINY = Recipe(
    name="tiny",
    epochs=1,
    batch_size=8,
    train_subset=16,
    valid_subset=10,
    test_subset=10,
    eval_batch_size=16,
    autoaugment=True,
)

RECIPES: dict[str, Recipe] = {r.name: r for r in (PAPER, CPU, CPU_V2, TINY)}


def get_recipe(name_or_path: str | Recipe) -> Recipe:
    """A built-in recipe by name, or a recipe read from a JSON file path.

    Raises:
        UsageError: the name is neither a built-in recipe nor an existing file.
    """
    if isinstance(name_or_path, Recipe):
        return name_or_path
    if name_or_path in RECIPES:
        return RECIPES[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise UsageError(f"recipe file {path} does not exist")
        return Recipe.from_file(path)
    raise UsageError(f"unknown recipe {name_or_path!r}; built-in: {', '.join(RECIPES)}, or give a .json file")
