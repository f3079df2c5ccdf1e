"""Write the shipped CIFAR-10 proxy batch (``zsbench/batches/cifar10-train-augmented-seed0-b64.npz``).

The seeded augmented draw of ``zsbench.data.proxy_batch`` (seed 0, 64 images) at 32 and 16 px, taken
from the CIFAR-10 images under the data root before ToTensor (uint8 after crop and flip), with the
labels and the indices of the images drawn. It checks that the floats rebuilt from the file are
bit-identical (``torch.equal``) to what ``proxy_batch`` decodes from the data root, then writes it.

    ZSBENCH_DATA=<data-root> python benchmarks/packs/make_shipped_batch.py
"""

from __future__ import annotations

import io
import sys

import numpy as np
import torch

from zsbench.data import (
    SHIPPED_BATCH_FILE,
    SHIPPED_BATCHES,
    _uint8_to_inputs,
    augmented_uint8,
    batch_fingerprint,
    proxy_batch,
    resolve_data_root,
)


def main() -> int:
    root = resolve_data_root(None)
    arrays: dict[str, np.ndarray] = {}
    labels = None
    for dataset, seed, size, input_size in SHIPPED_BATCHES:
        images, drawn_labels, indices = augmented_uint8(dataset, size, seed, root, input_size)
        reference = proxy_batch(dataset, size, seed, root, input_size, batch_source="data")
        rebuilt = _uint8_to_inputs(images, dataset)
        if not torch.equal(rebuilt, reference.inputs) or not torch.equal(torch.from_numpy(drawn_labels), reference.targets):
            print(f"{input_size} px: the uint8 images do not rebuild the batch exactly", file=sys.stderr)
            return 1
        if labels is not None and not np.array_equal(labels, drawn_labels):
            print("the draws at 32 and 16 px picked other images", file=sys.stderr)
            return 1
        labels = drawn_labels
        arrays[f"images_{input_size}"] = images
        arrays["indices"] = indices
        print(f"{input_size} px: {images.shape}, {batch_fingerprint(reference)}, bit-identical")
    assert labels is not None
    arrays["labels"] = labels
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    SHIPPED_BATCH_FILE.parent.mkdir(parents=True, exist_ok=True)
    SHIPPED_BATCH_FILE.write_bytes(buffer.getvalue())
    print(f"wrote {SHIPPED_BATCH_FILE.name}: {len(buffer.getvalue()):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
