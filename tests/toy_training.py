"""A toy search space and a tiny synthetic image tree shared by the training tests, a recipe of a few steps, and a
proxy to score a built benchmark with (a module, not a test file, so Ray can ship it by value).

The toy space keeps the training tests independent of the real spaces and fast: its
networks are a few narrow convolutions. The image tree is written as PNG files in the
ImageFolder layout the CIFAR loader reads (``cifar10/{train,test}/<class>/*.png``); each
class has its own mean colour so that a network can learn it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

import zsbench
from zsbench.builds import BuiltBenchmark
from zsbench.costs import count_depth, count_flops, count_params
from zsbench.engine.harness import score_model
from zsbench.training.recipes import Recipe

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_ARCH_RE = re.compile(r"^w(\d+)-d(\d+)$")
WIDTHS = (4, 8, 12)
DEPTHS = (1, 2, 3)


class ToySpace(zsbench.SearchSpace):
    """Architectures ``w<width>-d<depth>``: ``depth`` 3x3 conv-BN-ReLU layers, pooling, a linear head."""

    name = "toy"
    description = "tiny conv nets for tests"

    def size(self) -> int:
        return len(WIDTHS) * len(DEPTHS)

    def parse(self, arch: str) -> tuple[int, int]:
        match = _ARCH_RE.match(arch)
        if not match or int(match[1]) not in WIDTHS or int(match[2]) not in DEPTHS:
            raise zsbench.InvalidArchitectureError(f"toy arch must be w{{4,8,12}}-d{{1,2,3}}, got {arch!r}")
        return int(match[1]), int(match[2])

    def encode(self, spec: tuple[int, int]) -> str:
        return f"w{spec[0]}-d{spec[1]}"

    def enumerate(self) -> list[str]:
        return [self.encode((w, d)) for w in WIDTHS for d in DEPTHS]

    def sample(self, n: int, seed: int = 0, *, max_flops: float | None = None) -> list[str]:
        if max_flops is not None:
            return self.sample_by_rejection(n, seed, max_flops)
        order = np.random.default_rng(seed).permutation(self.size())
        everything = self.enumerate()
        return [everything[i] for i in order[:n]]

    def build(self, arch: str, num_classes: int = 10, *, seed: int | None = None, input_size: int | None = None) -> nn.Module:
        width, depth = self.parse(arch)
        state = torch.random.get_rng_state()
        if seed is not None:
            torch.manual_seed(seed)
        try:
            layers: list[nn.Module] = []
            channels = 3
            for _ in range(depth):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
                channels = width
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
            return nn.Sequential(*layers)
        finally:
            if seed is not None:
                torch.random.set_rng_state(state)

    def cost(self, arch: str, num_classes: int = 10, input_size: int | None = None) -> zsbench.Cost:
        model = self.build(arch, num_classes, seed=0)
        shape = (3, input_size or 32, input_size or 32)
        return zsbench.Cost(count_flops(model, shape), count_params(model), count_depth(model, shape))

    def features(self, arch: str) -> dict[str, float]:
        width, depth = self.parse(arch)
        return {"width": float(width), "depth": float(depth)}


def write_image_tree(root: Path, train_per_class: int = 4, test_per_class: int = 2, size: int = 32) -> Path:
    """Write ``root/cifar10/{train,test}/<class>/*.png``; class ``c`` has mean colour depending on ``c``."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for index, cls in enumerate(CIFAR_CLASSES):
            folder = root / "cifar10" / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            colour = np.array([index * 25, 255 - index * 25, (index * 70) % 256], dtype=np.float64)
            for i in range(count):
                pixels = np.clip(colour + rng.normal(0, 20, size=(size, size, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i:04d}.png")
    return root


# A few steps on a handful of images: the pipeline is under test, not the accuracies.
QUICK = Recipe(name="quick", epochs=1, batch_size=8, train_subset=16, valid_subset=10, test_subset=10, eval_batch_size=32)


class ParamCount(zsbench.Proxy):
    name = "param_count"
    input_kind = "none"

    def score(self, model, batch) -> float:
        return float(sum(p.numel() for p in model.parameters()))


def evaluate_param_proxy(benchmark: BuiltBenchmark, space: zsbench.SearchSpace) -> np.ndarray:
    """Score every architecture of the benchmark with a proxy."""
    frame = benchmark.load()
    batch = zsbench.Batch(torch.zeros(2, 3, 16, 16), torch.zeros(2, dtype=torch.long), 10, "zeros")
    scores = []
    for arch in frame["arch"]:
        (result,) = score_model(lambda a=arch: space.build(a, 10, seed=0), [ParamCount()], batch)
        assert result.ok, result.error
        scores.append(result.value)
    return np.asarray(scores)
