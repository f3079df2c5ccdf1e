"""Copy a class-balanced subset of the CIFAR-10 JPEG tree, small enough to take to a GPU machine.

Usage::

    ZSBENCH_DATA=<data-root> python benchmarks/perf/gpu_data.py --out .gpu-data [--train 500] [--test 100]

Writes ``<out>/cifar10/train/<class>/`` (the first ``--train`` images of every class) and
``<out>/cifar10/test/<class>/`` (the first ``--test``), the layout ``zsbench`` reads, so that
``ZSBENCH_DATA=<out>`` serves the proxies' batch and short trainings on a machine without the
full data root. The defaults come to about 25 MB. ``gpu_check.sh`` reads such a folder.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Copy the subset and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--train", type=int, default=500, help="training images per class")
    parser.add_argument("--test", type=int, default=100, help="test images per class")
    parser.add_argument("--data-root", type=Path, default=None, help="default: $ZSBENCH_DATA")
    args = parser.parse_args(argv)

    from zsbench.data import require_data_root

    source = require_data_root(args.data_root) / "cifar10"
    total_files, total_bytes = 0, 0
    for split, per_class in (("train", args.train), ("test", args.test)):
        classes = sorted(p for p in (source / split).iterdir() if p.is_dir())
        if len(classes) != 10:
            raise SystemExit(f"{source / split} should hold 10 class folders, found {len(classes)}")
        for folder in classes:
            target = args.out / "cifar10" / split / folder.name
            target.mkdir(parents=True, exist_ok=True)
            for image in sorted(folder.iterdir())[:per_class]:
                shutil.copyfile(image, target / image.name)
                total_files += 1
                total_bytes += image.stat().st_size
    print(f"{total_files} images, {total_bytes / 2**20:.1f} MiB in {args.out / 'cifar10'}")


if __name__ == "__main__":
    main()
