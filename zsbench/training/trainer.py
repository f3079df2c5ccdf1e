"""Train one network with a :class:`~zsbench.training.recipes.Recipe` and measure its accuracy.

The loop is the recipe, nothing more: SGD (momentum, optional Nesterov, weight decay on
every parameter), a cosine learning-rate decay stepped every minibatch down to 0,
cross-entropy with label smoothing, mixup on every batch, and per-image augmentation
(random crop with padding, horizontal flip, AutoAugment's CIFAR-10 policy) on uint8
tensors. On a GPU the model runs channels-last under autocast (bfloat16 where supported,
else float16 with a gradient scaler); on a CPU it runs plain float32.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from zsbench.training.datasets import ImageTensors, TrainingData
    from zsbench.training.recipes import Recipe


class TrainingDivergedError(FloatingPointError):
    """The training loss became non-finite."""


@dataclass
class TrainOutcome:
    """What training one network produced.

    Attributes:
        valid_accuracy: top-1 accuracy (percent) on the NAS-valid split.
        test_accuracy: top-1 accuracy (percent) on the official test split.
        train_loss: mean training loss of the last epoch (mixup + label smoothing loss).
        epochs: epochs run.
        steps: optimiser steps taken.
        seconds: wall time of training and evaluation.
        device: the device trained on.
        amp: whether mixed precision was used (GPU only).
        channels_last: whether the channels-last memory format was used (GPU only).
    """

    valid_accuracy: float
    test_accuracy: float
    train_loss: float
    epochs: int
    steps: int
    seconds: float
    device: str
    amp: bool
    channels_last: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


def pick_device(device: str | None = None) -> torch.device:
    """``device`` as a torch device; ``None`` or ``"auto"`` means CUDA when available, else CPU."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class AugmentedImages:
    """A map-style dataset applying the recipe's per-image augmentation to uint8 images."""

    def __init__(self, data: ImageTensors, recipe: Recipe) -> None:
        from torchvision.transforms import v2

        self.data = data
        size = int(data.images.shape[-1])
        steps: list[Any] = []
        if recipe.random_crop_padding > 0:
            steps += [v2.RandomCrop(size, padding=recipe.random_crop_padding), v2.RandomHorizontalFlip()]
        if recipe.autoaugment:
            steps.append(v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10))
        self.transform = v2.Compose(steps) if steps else None

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.data.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.data.labels[index]


def train_network(
    model: torch.nn.Module,
    data: TrainingData,
    recipe: Recipe,
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    num_workers: int | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> TrainOutcome:
    """Train ``model`` on ``data.train`` with ``recipe`` and evaluate it on NAS-valid and test.

    Args:
        model: a freshly initialised network (its initial weights are the caller's business).
        data: decoded splits from :func:`~zsbench.training.datasets.prepare_training_data`.
        recipe: the training recipe.
        seed: seeds data order, augmentation and mixup (not the model's initial weights).
        device: where to train (``None``: CUDA when available).
        num_workers: DataLoader worker processes (default: 0 on CPU, up to 8 on GPU).
        on_epoch: called after every epoch with ``(epoch, mean_loss)``.

    Raises:
        TrainingDivergedError: the loss became NaN or infinite.
    """
    import numpy as np
    import torch

    start = time.perf_counter()
    device = pick_device(str(device) if device is not None else None)
    on_gpu = device.type == "cuda"
    amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if on_gpu else None
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    memory_format = torch.channels_last if on_gpu else torch.contiguous_format

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)  # mixup coefficients
    model = model.to(device=device, memory_format=memory_format).train()
    mean = torch.tensor(data.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.std, device=device).view(1, 3, 1, 1)

    def normalise(images: torch.Tensor) -> torch.Tensor:
        images = images.to(device, non_blocking=True).float().div_(255.0)
        return ((images - mean) / std).contiguous(memory_format=memory_format)

    loader = _loader(data, recipe, seed=seed, num_workers=num_workers, on_gpu=on_gpu)
    optimizer, scheduler = _optimiser(model, recipe, max(1, recipe.epochs * len(loader)))

    steps = 0
    epoch_loss = float("nan")
    for epoch in range(recipe.epochs):
        loss_sum, batches = 0.0, 0
        for images, labels in loader:
            inputs = normalise(images)
            labels = labels.to(device, non_blocking=True)
            loss = _loss(model, inputs, labels, recipe, rng, amp_dtype)
            if not torch.isfinite(loss):
                raise TrainingDivergedError(f"loss became {loss.item()} at epoch {epoch + 1}, step {steps + 1}")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            steps, batches, loss_sum = steps + 1, batches + 1, loss_sum + float(loss.detach())
        epoch_loss = loss_sum / max(1, batches)
        if on_epoch is not None:
            on_epoch(epoch + 1, epoch_loss)

    return TrainOutcome(
        valid_accuracy=evaluate_accuracy(model, data.valid, normalise, recipe.eval_batch_size, amp_dtype),
        test_accuracy=evaluate_accuracy(model, data.test, normalise, recipe.eval_batch_size, amp_dtype),
        train_loss=epoch_loss,
        epochs=recipe.epochs,
        steps=steps,
        seconds=time.perf_counter() - start,
        device=str(device),
        amp=amp_dtype is not None,
        channels_last=on_gpu,
    )


def _loader(data: TrainingData, recipe: Recipe, *, seed: int, num_workers: int | None, on_gpu: bool) -> Any:
    """The shuffled, augmented training batches (seeded by ``seed``)."""
    import torch
    from torch.utils.data import DataLoader

    if num_workers is None:
        num_workers = min(8, torch.multiprocessing.cpu_count()) if on_gpu else 0
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        AugmentedImages(data.train, recipe),
        batch_size=recipe.batch_size,
        shuffle=True,
        generator=generator,
        num_workers=num_workers,
        pin_memory=on_gpu,
        persistent_workers=num_workers > 0,
        # A last batch of one image would break BatchNorm in train mode.
        drop_last=len(data.train) % recipe.batch_size == 1,
    )


def _optimiser(model: torch.nn.Module, recipe: Recipe, total_steps: int) -> tuple[Any, Any]:
    """SGD with the recipe's settings and its cosine schedule over ``total_steps``."""
    import torch

    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=recipe.lr,
        momentum=recipe.momentum,
        nesterov=recipe.nesterov and recipe.momentum > 0,
        weight_decay=recipe.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
    )
    return optimizer, scheduler


def _loss(
    model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor, recipe: Recipe, rng: Any, amp_dtype: Any
) -> torch.Tensor:
    """One batch's loss, with mixup when the recipe asks for it (its coefficient drawn from ``rng``)."""
    import torch
    import torch.nn.functional as F

    device = inputs.device
    if recipe.mixup_alpha > 0:
        lam = float(rng.beta(recipe.mixup_alpha, recipe.mixup_alpha))
        perm = torch.randperm(inputs.shape[0], device=device)
        inputs = lam * inputs + (1.0 - lam) * inputs[perm]
        partner = labels[perm]
    else:
        lam, partner = 1.0, labels
    with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        logits = model(inputs)
        loss = lam * F.cross_entropy(logits, labels, label_smoothing=recipe.label_smoothing)
        if lam < 1.0:
            loss = loss + (1.0 - lam) * F.cross_entropy(logits, partner, label_smoothing=recipe.label_smoothing)
    return loss


def evaluate_accuracy(
    model: torch.nn.Module,
    data: ImageTensors,
    normalise: Callable[[torch.Tensor], torch.Tensor],
    batch_size: int,
    amp_dtype: torch.dtype | None = None,
) -> float:
    """Top-1 accuracy (percent) of ``model`` in eval mode on un-augmented ``data``."""
    import torch

    if len(data) == 0:
        return float("nan")
    was_training = model.training
    model.eval()
    correct = 0
    try:
        with torch.no_grad():
            for begin in range(0, len(data), batch_size):
                inputs = normalise(data.images[begin : begin + batch_size])
                device_type = inputs.device.type
                with torch.autocast(device_type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    logits = model(inputs)
                labels = data.labels[begin : begin + batch_size].to(inputs.device)
                correct += int((logits.argmax(dim=1) == labels).sum())
    finally:
        model.train(was_training)
    return 100.0 * correct / len(data)
