"""zsbench.data: data root resolution, dataset loading and the default proxy batch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import zsbench
from zsbench.data import (
    DataFallbackWarning,
    normalization,
    open_source,
    proxy_batch,
    resolve_data_root,
)


def test_resolve_data_root_prefers_the_argument_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ZSBENCH_DATA", str(tmp_path / "env"))
    assert resolve_data_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_root(str(tmp_path / "arg")) == tmp_path / "arg"
    assert resolve_data_root(None) == tmp_path / "env"
    monkeypatch.delenv("ZSBENCH_DATA")
    assert resolve_data_root(None) is None


def test_missing_dataset_names_the_layouts_it_looked_for(tmp_path):
    with pytest.raises(zsbench.DataMissingError) as info:
        open_source("cifar10", "train", tmp_path)
    message = str(info.value)
    assert "cifar10/train/<class>/<image>" in message and "cifar-10-batches-py" in message
    assert "zsbench data download cifar10" in message
    with pytest.raises(zsbench.UsageError, match="split"):
        open_source("cifar10", "validation", tmp_path)


def test_imagefolder_tree_of_any_dataset_is_read(tmp_path):
    from PIL import Image

    for label, colour in (("a", (255, 0, 0)), ("b", (0, 0, 255))):
        folder = tmp_path / "toy" / "test" / label
        folder.mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (4, 4), colour).save(folder / f"{i}.png")
    data = open_source("toy", "test", tmp_path)
    assert data.num_classes == 2 and len(data) == 6
    assert data.targets[5] == 1 and data.image(5).getpixel((0, 0)) == (0, 0, 255)


def test_gaussian_fallback_warns_and_says_so_in_the_source(tmp_path, monkeypatch):
    monkeypatch.delenv("ZSBENCH_DATA", raising=False)
    with pytest.warns(DataFallbackWarning, match="Gaussian") as record:
        batch = proxy_batch("cifar100", batch_size=32, seed=3, data_root=tmp_path)
    message = str(record[0].message)
    assert "Gaussian" in message and "`zsbench data download cifar100`" in message
    assert batch.source == "gaussian:seed=3"
    assert batch.inputs.shape == (32, 3, 32, 32) and batch.num_classes == 100
    assert batch.targets.min() >= 0 and batch.targets.max() < 100
    assert abs(float(batch.inputs.mean())) < 0.05 and abs(float(batch.inputs.std()) - 1) < 0.05
    with pytest.warns(DataFallbackWarning):
        again = proxy_batch("cifar100", batch_size=32, seed=3, data_root=None)
    assert torch.equal(batch.inputs, again.inputs) and torch.equal(batch.targets, again.targets)


@pytest.mark.data
def test_real_batch_is_seeded_augmented_and_labelled(data_root: Path):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    batch = proxy_batch("cifar10", batch_size=64, seed=0, data_root=data_root, batch_source="data")
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is not touched
    assert batch.source == "cifar10:train:augmented:seed=0"
    assert batch.inputs.shape == (64, 3, 32, 32) and batch.inputs.dtype == torch.float32
    assert batch.targets.dtype == torch.long and batch.num_classes == 10
    assert len(set(batch.targets.tolist())) >= 5  # 64 random images cover most classes

    same = proxy_batch("cifar10", batch_size=64, seed=0, data_root=data_root, batch_source="data")
    assert torch.equal(batch.inputs, same.inputs) and torch.equal(batch.targets, same.targets)
    other = proxy_batch("cifar10", batch_size=64, seed=1, data_root=data_root)
    assert not torch.equal(batch.inputs, other.inputs)

    # Normalised real images: roughly zero mean per channel apart from the zero padding,
    # which maps to -mean/std; the crop puts padding into some images.
    mean, std = normalization("cifar10")
    pad_values = torch.tensor([-m / s for m, s in zip(mean, std, strict=True)])
    per_channel = batch.inputs.permute(1, 0, 2, 3).reshape(3, -1)
    assert (per_channel.mean(dim=1).abs() < 0.5).all()
    is_pad = (batch.inputs - pad_values.view(1, 3, 1, 1)).abs().amax(dim=1) < 1e-6
    assert is_pad.any(), "random crop with padding 4 should pad some images"


@pytest.mark.data
def test_real_batch_images_are_the_drawn_training_images(data_root: Path):
    """Without augmentation randomness (crop offset and flip aside), each batch image is one
    training image of its label: checked by matching against the un-augmented dataset."""
    from torchvision import transforms

    batch = proxy_batch("cifar10", batch_size=4, seed=5, data_root=data_root)
    plain = open_source("cifar10", "train", data_root)
    indices = torch.randperm(len(plain), generator=torch.Generator().manual_seed(5))[:4].tolist()
    mean, std = normalization("cifar10")
    for k, index in enumerate(indices):
        image, label = transforms.ToTensor()(plain.image(index)), plain.targets[index]
        assert label == int(batch.targets[k])
        restored = batch.inputs[k] * torch.tensor(std).view(3, 1, 1) + torch.tensor(mean).view(3, 1, 1)
        # Some 24x24 window of the image appears in the batch image, possibly mirrored.
        centre = restored[:, 4:28, 4:28]
        found = False
        for flip in (False, True):
            source = image.flip(-1) if flip else image
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    y0, x0 = 4 + dy, 4 + dx
                    if torch.allclose(source[:, y0 : y0 + 24, x0 : x0 + 24], centre, atol=1e-5):
                        found = True
        assert found, f"batch image {k} is not a crop of training image {index}"


def _write_fake_imagenet16(root: Path) -> tuple[torch.Tensor, list[int]]:
    """The documented layout, <root>/ImageNet16-120/{train_data_batch_1..10, val_data}, with
    5 random 16x16 images per file; labels 121..200 must be dropped, 1..120 become 0..119."""
    import pickle

    import numpy as np

    from zsbench.data import IMAGENET16_TRAIN_FILES, IMAGENET16_VAL_FILE

    rng = np.random.default_rng(0)
    folder = root / "ImageNet16-120"
    folder.mkdir()
    kept_images, kept_labels = [], []
    for name in (*IMAGENET16_TRAIN_FILES, IMAGENET16_VAL_FILE):
        data = rng.integers(0, 256, size=(5, 3 * 16 * 16), dtype=np.uint8)
        labels = [1, 120, 121, 200, int(rng.integers(1, 121))]
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": data, "labels": labels}, handle)
        if name != IMAGENET16_VAL_FILE:
            for row, label in zip(data, labels, strict=True):
                if label <= 120:
                    kept_images.append(torch.from_numpy(row.reshape(3, 16, 16).copy()))
                    kept_labels.append(label - 1)
    return torch.stack(kept_images), kept_labels


def test_nb201_imagenet16_is_scored_on_real_imagenet16_files(tmp_path):
    """The nb201-imagenet16 benchmark's dataset name finds the ImageNet16-120 pickles (it used
    to fall back to Gaussian inputs even with the files present); every batch image is a
    2-pixel-padded 16x16 crop (possibly mirrored) of the drawn training image."""
    import warnings

    from zsbench.plugins import get_host

    images, labels = _write_fake_imagenet16(tmp_path)
    bench = get_host().benchmarks.get("nb201-imagenet16")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataFallbackWarning)
        batch = proxy_batch(
            bench.dataset, batch_size=8, seed=0, data_root=tmp_path, input_size=bench.input_size, num_classes=bench.num_classes
        )
    assert batch.source == "ImageNet16-120:train:augmented:seed=0"
    assert batch.inputs.shape == (8, 3, 16, 16) and batch.num_classes == 120
    indices = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))[:8].tolist()
    assert batch.targets.tolist() == [labels[i] for i in indices]
    mean, std = normalization("ImageNet16-120")
    for k, index in enumerate(indices):
        restored = batch.inputs[k] * torch.tensor(std).view(3, 1, 1) + torch.tensor(mean).view(3, 1, 1)
        centre = (restored[:, 2:14, 2:14] * 255).round()
        source = images[index].float()
        found = any(
            torch.allclose((source.flip(-1) if flip else source)[:, 2 + dy : 14 + dy, 2 + dx : 14 + dx], centre, atol=0.5)
            for flip in (False, True)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
        )
        assert found, f"batch image {k} is not a crop of training image {index}"


# -- the shipped CIFAR-10 batch and batch fingerprints --------------------------------------------


@pytest.mark.data
@pytest.mark.parametrize("input_size", [32, 16])
def test_shipped_batch_is_bit_identical_to_the_batch_the_images_give(data_root: Path, input_size: int):
    """The shipped uint8 images rebuild exactly the floats proxy_batch decodes from the JPEG copy (the
    batch every score computed before it was shipped used), labels included."""
    from zsbench.data import batch_fingerprint, shipped_batch

    decoded = proxy_batch("cifar10", 64, 0, data_root, input_size, batch_source="data")
    shipped = shipped_batch(input_size)
    assert torch.equal(decoded.inputs, shipped.inputs) and torch.equal(decoded.targets, shipped.targets)
    assert batch_fingerprint(decoded) == batch_fingerprint(shipped)
    # the default (auto) gives the shipped batch, data root or not
    assert proxy_batch("cifar10", 64, 0, data_root, input_size).source.endswith("(shipped batch)")


def test_the_default_cifar10_batch_needs_no_data_root_and_never_falls_back_to_noise(tmp_path, monkeypatch):
    import numpy as np

    from zsbench.data import SHIPPED_BATCH_FILE, batch_fingerprint

    monkeypatch.delenv("ZSBENCH_DATA", raising=False)
    batch = proxy_batch("cifar10", batch_size=64, seed=0, data_root=None)
    assert batch.source == "cifar10:train:augmented:seed=0 (shipped batch)" and batch.inputs.shape == (64, 3, 32, 32)
    assert batch_fingerprint(batch) == "sha256:d25f505d716c53cb"  # the value the NOTICE states
    assert batch_fingerprint(proxy_batch("cifar10", 64, 0, None, 16)) == "sha256:192e20a745a2fb61"
    with np.load(SHIPPED_BATCH_FILE) as stored:  # what the file holds, read independently of zsbench
        images, labels = stored["images_32"], stored["labels"]
    mean, std = normalization("cifar10")
    expected = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(
        std
    ).view(1, 3, 1, 1)
    assert torch.allclose(batch.inputs, expected, atol=1e-6) and batch.targets.tolist() == labels.tolist()
    assert SHIPPED_BATCH_FILE.stat().st_size < 400_000
    # another CIFAR-10 batch needs the images: an error naming the fix, never Gaussian noise
    with pytest.raises(zsbench.DataMissingError, match=r"zsbench data download cifar10.*shipped batch covers only"):
        proxy_batch("cifar10", batch_size=64, seed=1, data_root=tmp_path)
    with pytest.raises(zsbench.DataMissingError, match="shipped batch covers only"):
        proxy_batch("cifar10", batch_size=64, seed=0, data_root=None, batch_source="data")
    with pytest.raises(zsbench.UsageError, match="the shipped batch is CIFAR-10"):
        proxy_batch("cifar100", batch_size=64, seed=0, data_root=None, batch_source="shipped")


def test_fingerprint_tells_batches_apart_by_content():
    from zsbench.data import batch_fingerprint, gaussian_batch

    a = gaussian_batch(8, 0, 8, 10)
    same = zsbench.Batch(a.inputs.clone(), a.targets.clone(), 10, source="another name")
    assert batch_fingerprint(a) == batch_fingerprint(same)  # the name is not the identity
    nudged = a.inputs.clone()
    nudged[0, 0, 0, 0] += 1e-6
    assert batch_fingerprint(zsbench.Batch(nudged, a.targets, 10)) != batch_fingerprint(a)
    relabelled = a.targets.clone()
    relabelled[0] = (relabelled[0] + 1) % 10
    assert batch_fingerprint(zsbench.Batch(a.inputs, relabelled, 10)) != batch_fingerprint(a)
    assert batch_fingerprint(a).startswith("sha256:") and len(batch_fingerprint(a)) == len("sha256:") + 16
