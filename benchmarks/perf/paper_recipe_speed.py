"""What one network of the `paper` recipe costs: measured epochs, projected to the full 360.

Usage::

    python benchmarks/perf/paper_recipe_speed.py --device cuda [--spaces R1,MB] [--archs 2] [--epochs 3]
        [--data-root DIR] [--train-images N] [--eval-images 2000] [--loader-workers W]

The `paper` recipe (NAS-Bench-Zero's: 360 epochs over the 45,000 NAS-train images of
CIFAR-10 at 32x32, batch 128) is far too long to run whole in a check, so this script
trains each network for ``--epochs`` epochs with exactly that recipe otherwise (same
augmentation, mixup, batch, AMP and channels-last on a GPU) on the first
``--train-images`` NAS-train images of the data root, timing every epoch
(``train_network``'s ``on_epoch``). The first epoch pays one-off costs (cuDNN autotuning,
loader start), so the steady figure is the mean of the later epochs. It projects:

* ``hours/network``: steady seconds per epoch x (45,000 / images trained) x 360, plus
  evaluating the 5,000 NAS-valid and 10,000 test images (timed here on what is present);
* ``networks/hour``: one network at a time on the device, the figure the full-size
  benchmark's cost follows from (a pool of 1,000 plus 100 repeats is 1,100 networks).

The architectures are the first ``--archs`` of ``space.sample(archs, seed=0)`` (the
pools' draw; no FLOPs bound). It also runs on a CPU, e.g. with ``--epochs 2 --train-images
512`` to check it works, but a CPU's figures are not the point.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

from _device import checked_device, synchronize

FULL_TRAIN_IMAGES = 45_000  # the 90 % NAS-train part of CIFAR-10's 50,000 training images
FULL_EPOCHS = 360
FULL_EVAL_IMAGES = 5_000 + 10_000  # NAS-valid and the official test split


def main(argv: list[str] | None = None) -> None:
    """Train, time and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", default="R1,MB")
    parser.add_argument("--archs", type=int, default=2, help="networks per space")
    parser.add_argument("--epochs", type=int, default=3, help="epochs trained per network (at least 2)")
    parser.add_argument("--train-images", type=int, default=None, help="NAS-train images used (default: all present)")
    parser.add_argument("--eval-images", type=int, default=2000, help="NAS-valid and test images decoded (timing only)")
    parser.add_argument("--loader-workers", type=int, default=None, help="DataLoader workers (default: the trainer's)")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch pays one-off costs")

    import torch
    from rich.console import Console
    from rich.table import Table

    import zsbench
    from zsbench.engine.harness import seed_everything
    from zsbench.training.datasets import prepare_training_data
    from zsbench.training.recipes import PAPER
    from zsbench.training.trainer import evaluate_accuracy, train_network

    device = checked_device(parser, args.device)
    console = Console(emoji=False, highlight=False, width=max(150, Console().width))
    recipe = PAPER.replace(
        epochs=args.epochs, train_subset=args.train_images, valid_subset=args.eval_images, test_subset=args.eval_images
    )
    started = time.perf_counter()
    data = prepare_training_data("cifar10", recipe, None if args.data_root is None else str(args.data_root))
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    console.print(
        f"device {where}; torch {torch.__version__}; {len(data.train)} NAS-train images "
        f"({data.source}); data prepared in {time.perf_counter() - started:.0f} s"
    )
    host = zsbench.get_host()
    table = Table(title=f"paper recipe, {args.epochs} epochs measured, projected to {FULL_EPOCHS} x {FULL_TRAIN_IMAGES:,} images ({where})")
    for column in ("space", "arch", "M MACs", "epoch 1 s", "steady s/epoch", "images/s", "hours/network", "networks/hour"):
        table.add_column(column, justify="right" if column not in ("space", "arch") else "left")
    per_hour = []
    for space_name in [s.strip() for s in args.spaces.split(",") if s.strip()]:
        space = host.spaces.get(space_name)
        for arch in space.sample(args.archs, seed=0):
            seed_everything(0)
            model = space.build(arch, num_classes=data.num_classes, seed=0, input_size=data.input_size)
            stamps = [time.perf_counter()]
            train_network(
                model, data, recipe, seed=0, device=device, num_workers=args.loader_workers,
                on_epoch=lambda epoch, loss, stamps=stamps: stamps.append(time.perf_counter()),
            )  # fmt: skip
            epochs = [b - a for a, b in itertools.pairwise(stamps)]
            steady = statistics.mean(epochs[1:])
            eval_start = time.perf_counter()
            evaluate_accuracy(model, data.test, _normaliser(data, device), recipe.eval_batch_size)
            synchronize(device)
            eval_per_image = (time.perf_counter() - eval_start) / max(1, len(data.test))
            full = steady * FULL_TRAIN_IMAGES / len(data.train) * FULL_EPOCHS + eval_per_image * FULL_EVAL_IMAGES
            per_hour.append(3600.0 / full)
            macs = space.cost(arch, num_classes=data.num_classes, input_size=data.input_size).flops / 1e6
            table.add_row(
                space_name, arch, f"{macs:.0f}", f"{epochs[0]:.2f}", f"{steady:.2f}",
                f"{len(data.train) / steady:.0f}", f"{full / 3600:.2f}", f"{3600 / full:.2f}",
            )  # fmt: skip
    console.print(table)
    console.print(
        f"median networks/hour, one at a time on this device: {statistics.median(per_hour):.2f}; "
        f"total wall time {time.perf_counter() - started:.0f} s"
    )


def _normaliser(data, device):
    """The trainer's input normalisation (eval path, no channels-last needed for timing)."""
    import torch

    mean = torch.tensor(data.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.std, device=device).view(1, 3, 1, 1)
    return lambda images: (images.to(device).float().div_(255.0) - mean) / std


if __name__ == "__main__":
    main()
