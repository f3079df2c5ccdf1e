"""Damaged or foreign files: each is refused with one line naming the file and what to do, and
nothing is written to it; a cache that cannot be written stops the run keeping what was stored."""

from __future__ import annotations

import gzip
import os
import sqlite3

import pytest
from cli_helpers import one_line_error
from toy_plugins import evaluate_with, toy_batch, toy_host

from zsbench.engine.cache import (
    SCHEMA_VERSION,
    CacheDamagedError,
    CacheSchemaError,
    CacheWriteError,
    ScoreCache,
    ScoreRecord,
)
from zsbench.engine.packs import PackError, load_pack, write_pack
from zsbench.training.store import DamagedRecordsError, ResultStore

TOY = ["-p", "toy_params,toy_output", "-b", "toy-bench", "-m", "kendall"]


def _filled_cache(path, archs: int = 3000) -> None:
    with ScoreCache(path) as cache:
        for i in range(archs):
            cache.put_scores("toy", f"arch{i}", [ScoreRecord("p", "1", "c" * 40, float(i), None, 0.1)])


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_cache_is_one_line_naming_it_and_is_left_as_it_is(cli, tmp_path, damage):
    path = tmp_path / "damaged.sqlite"
    _filled_cache(path)
    data = path.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        middle = len(data) // 2
        data = data[:middle] + bytes(range(256)) * 16 + data[middle + 4096 :]
    path.write_bytes(data)
    result = cli(*TOY, "--cache", str(path))
    assert result.exit_code == 1
    line = one_line_error(result)
    assert f"score cache {path} is damaged" in line and "move it aside and rerun" in line
    assert path.read_bytes() == data


def test_a_cache_from_a_newer_zsbench_says_to_upgrade_and_is_left_as_it_is(cli, tmp_path):
    path = tmp_path / "newer.sqlite"
    ScoreCache(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    before = path.read_bytes()
    result = cli(*TOY, "--cache", str(path))
    assert result.exit_code == 1
    line = one_line_error(result)
    assert str(path) in line and "(a newer zsbench wrote it); upgrade zsbench" in line
    assert path.read_bytes() == before


def test_a_damaged_pack_is_one_line_and_a_failed_write_keeps_the_old_pack(tmp_path):
    pack = tmp_path / "p.jsonl.gz"
    scores = [{"space": "toy", "arch": f"w{i}-d1", "proxy": "p", "proxy_version": "1", "contract": f'{{"k":{k}}}',
               "value": float(i * k), "error": None, "seconds": 0.1, "prov": 0} for i in range(2, 10) for k in range(200)]
    write_pack(pack, {"name": "p", "space": "toy"}, scores)
    assert load_pack(pack).records() == 1600
    whole = pack.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    flipped = tmp_path / "flipped.jsonl.gz"
    flipped.write_bytes(whole[:40] + bytes(b ^ 0xFF for b in whole[40:80]) + whole[80:])
    for damaged in (cut, flipped):
        before = damaged.read_bytes()
        with pytest.raises(PackError) as caught:
            load_pack(damaged)
        message = str(caught.value)
        assert "\n" not in message and f"score pack {damaged} is damaged" in message and "rebuild it" in message
        assert damaged.read_bytes() == before
    # a write that fails half-way (here: a value JSON cannot hold) leaves the old pack whole
    with pytest.raises(TypeError):
        write_pack(pack, {"name": "p"}, [*scores, {**scores[0], "arch": "w9-d4", "value": object()}])
    assert pack.read_bytes() == whole
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("w2-d1,50\nw3-d1,51\nw2-d1,52\n", "architecture 'w2-d1' appears more than once (1 duplicate rows)"),
        ("w2-d1,50\n,51\nw4-d1,52\n", "1 row(s) have no architecture key (first: data row 2)"),
    ],
)
def test_a_table_with_duplicated_or_missing_keys_is_one_line(cli, tmp_path, rows, expected):
    table = tmp_path / "table.csv"
    table.write_text("arch,accuracy\n" + rows, encoding="utf-8")
    result = cli("-p", "toy_params", "-b", str(table), "--space", "toy", "-m", "kendall")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert str(table) in line and expected in line


def test_build_records_cut_mid_line(tmp_path):
    store = ResultStore(tmp_path / "build.jsonl")
    store.append({"key": "a", "status": "ok"})
    store.append({"key": "b", "status": "ok"})
    with open(store.path, "ab") as handle:  # a kill in the middle of the third record
        handle.write(b'{"key": "c", "sta')
    assert [r["key"] for r in store.records()] == ["a", "b"]
    store.append({"key": "c", "status": "ok"})  # the cut line is cut off, the file stays whole
    assert store.path.read_text().splitlines()[-1] == '{"key": "c", "status": "ok"}'
    assert [r["key"] for r in store.records()] == ["a", "b", "c"]
    # a line damaged elsewhere is refused, naming the file and the line, and nothing is written
    lines = store.path.read_text().splitlines(keepends=True)
    store.path.write_text(lines[0] + '{"key": "b", "sta\n' + lines[2], encoding="utf-8")
    before = store.path.read_bytes()
    with pytest.raises(DamagedRecordsError, match=rf"{store.path}, line 2: not a training record .* delete that line"):
        store.records()
    assert store.path.read_bytes() == before


def test_a_cache_in_a_folder_that_cannot_be_made_is_one_line(cli):
    result = cli(*TOY, "--cache", "/proc/zsbench-no-such/scores.sqlite")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "cannot create the folder of the score cache /proc/zsbench-no-such/scores.sqlite" in line


@pytest.mark.parametrize("fault", ["full disk", "read-only"])
def test_a_cache_that_stops_taking_writes_ends_the_run_keeping_what_was_stored(tmp_path, fault):
    path = tmp_path / "scores.sqlite"
    options = {"seed": 0, "bootstrap": 0, "metrics": "kendall", "batch": toy_batch()}
    first = evaluate_with("toy_params,toy_output", "toy-bench", host=toy_host(), cache=path, limit=4, **options)
    assert first.computed == 8
    with ScoreCache(path) as store:
        if fault == "full disk":  # SQLite's own out-of-space error: no page may be added
            pages = store._db.execute("PRAGMA page_count").fetchone()[0]
            store._db.execute(f"PRAGMA max_page_count={pages}")
        else:  # what SQLite says on read-only media (chmod does not stop root, who runs some CI)
            store._db.execute("PRAGMA query_only=ON")
        with pytest.raises(CacheWriteError) as caught:
            evaluate_with("toy_params,toy_output", "toy-bench", host=toy_host(), cache=store, limit=32, **options)
    message = str(caught.value)
    assert "\n" not in message and f"cannot write the score cache {path}" in message
    assert "the scores stored so far are kept" in message
    assert ("free some disk space" if fault == "full disk" else "a writable folder") in message
    with ScoreCache(path) as store:
        assert store.count_scores() >= 8  # nothing stored before was lost
    if os.geteuid() != 0:  # a real read-only file, where permissions bind
        path.chmod(0o444)
        (tmp_path).chmod(0o555)
        try:
            with pytest.raises((CacheWriteError, CacheSchemaError, CacheDamagedError)):
                evaluate_with("toy_params", "toy-bench", host=toy_host(), cache=path, limit=32, **options)
        finally:
            tmp_path.chmod(0o755)
            path.chmod(0o644)


def test_a_damaged_cache_export_imports_nothing(tmp_path):
    source = tmp_path / "src.sqlite"
    _filled_cache(source, 500)
    export = tmp_path / "records.jsonl.gz"
    with ScoreCache(source) as cache:
        cache.export_records(export)
    export.write_bytes(export.read_bytes()[:-200])
    with ScoreCache(tmp_path / "dst.sqlite") as target:
        with pytest.raises(CacheSchemaError, match=rf"{export} is damaged .* nothing was imported"):
            target.import_records(export)
        assert target.count_scores() == 0
    with gzip.open(export, "rb") as handle:  # the file itself was only read
        with pytest.raises(EOFError):
            handle.read()
