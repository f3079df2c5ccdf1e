"""A cache written before batch fingerprints is refused on opening, and `zsbench cache migrate` rewrites it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from zsbench.data import batch_fingerprint, gaussian_batch, shipped_batch
from zsbench.engine.cache import CacheSchemaError, ScoreCache, ScoreRecord, contract_key


def _old(source: str, *, size: int = 64, input_size: int = 32, classes: int = 10, proxy: str = "snip") -> str:
    return contract_key(
        {"batch_size": size, "bn_mode": "train", "device": "cpu", "dtype": "float32", "input_kind": "batch",
         "input_size": input_size, "input_source": source, "num_classes": classes, "proxy": proxy,
         "proxy_version": "1", "seed": 0}
    )


def _write_old_cache(path, contracts):
    # a cache as the code before fingerprints wrote it: the check is skipped only to write it
    with ScoreCache(path, check_batches=False) as store:
        for i, contract in enumerate(contracts):
            store.put_scores("nb201", f"a{i}", [ScoreRecord("snip", "1", contract, float(i), None, 0.1)])
        store._db.execute("DELETE FROM meta WHERE key = 'batch_identity'")


def test_old_cache_is_refused_with_the_command_that_migrates_it(tmp_path):
    path = tmp_path / "old.sqlite"
    _write_old_cache(path, [_old("cifar10:train:augmented:seed=0")])
    with pytest.raises(CacheSchemaError, match=r"holds 1 scores whose batch is named by a string.*zsbench cache migrate"):
        ScoreCache(path)
    # a cache without such records opens, and contracts of batch-shape proxies never needed a fingerprint
    clean = tmp_path / "clean.sqlite"
    _write_old_cache(clean, [_old("batch-shape").replace('"input_kind":"batch"', '"input_kind":"batch-shape"')])
    ScoreCache(clean).close()


def test_migrate_rewrites_shipped_and_gaussian_batches_and_refuses_the_rest(tmp_path, monkeypatch):
    from zsbench.cli import build_app

    monkeypatch.delenv("ZSBENCH_DATA", raising=False)
    path = tmp_path / "old.sqlite"
    contracts = [
        _old("cifar10:train:augmented:seed=0"),
        _old("cifar10:train:augmented:seed=0", input_size=16),
        _old("gaussian:seed=3", size=8, input_size=8, classes=100),
        _old("cifar10:train:augmented:seed=1"),  # not shipped: needs the images
    ]
    _write_old_cache(path, contracts)
    runner = CliRunner()
    app = build_app(plugins=False)
    done = runner.invoke(app, ["cache", "migrate", "--cache", str(path)])
    assert done.exit_code == 1, done.output
    assert "1 scores left unmigrated (cifar10:train:augmented:seed=1: needs the images" in " ".join(done.output.split())
    with ScoreCache(path, check_batches=False) as store:
        sources = {json.loads(c)["input_source"]: c for c in _contracts(store)}
    assert set(sources) == {
        batch_fingerprint(shipped_batch(32)),
        batch_fingerprint(shipped_batch(16)),
        batch_fingerprint(gaussian_batch(8, 3, 8, 100)),
        "cifar10:train:augmented:seed=1",
    }
    with pytest.raises(CacheSchemaError):
        ScoreCache(path)
    done = runner.invoke(app, ["cache", "migrate", "--cache", str(path), "--drop-unmigrated"])
    assert done.exit_code == 0 and "deleted 1 scores" in done.output
    with ScoreCache(path) as store:  # now it opens, with the values kept
        fingerprint = batch_fingerprint(shipped_batch(32))
        new = json.loads(_old("cifar10:train:augmented:seed=0"))
        new["input_source"] = fingerprint
        assert store.get_scores("nb201", ["a0"], "snip", "1", contract_key(new))["a0"].value == 0.0
        assert store.count_scores() == 3


def _contracts(store):
    return [row[0] for row in store._db.execute("SELECT contract FROM scores")]
