"""Sharing a cache: export to a file, import elsewhere, and the second run computes nothing."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from toy_plugins import evaluate_with, toy_batch, toy_host
from typer.testing import CliRunner

from zsbench.engine.cache import SCHEMA_VERSION, CacheSchemaError, ScoreCache, ScoreRecord

PROXIES = "toy_params,toy_output,toy_flaky"


def _run(cache: Path, **kwargs):
    return evaluate_with(
        PROXIES, "toy-bench", host=toy_host(), cache=cache, batch=toy_batch(), bootstrap=0, metrics="kendall", **kwargs
    )


@pytest.mark.parametrize("name", ["records.jsonl", "records.jsonl.gz"])
def test_an_imported_export_scores_nothing_again_and_gives_the_same_table(tmp_path, monkeypatch, name):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("TOY_CALL_LOG", str(log))
    first = _run(tmp_path / "a.sqlite")
    assert first.computed == 3 * 32
    with ScoreCache(tmp_path / "a.sqlite") as store:
        assert store.export_records(tmp_path / name) == (3 * 32, 32)
    log.unlink()
    with ScoreCache(tmp_path / "b.sqlite") as store:
        assert store.import_records(tmp_path / name) == (3 * 32, 32)
        assert store.import_records(tmp_path / name) == (0, 0)  # already there: kept, not duplicated
    second = _run(tmp_path / "b.sqlite")
    assert second.computed == 0 and second.cached == 3 * 32
    assert not log.exists()  # no proxy ran
    pd.testing.assert_frame_equal(first.scores, second.scores)
    failures = second.scores["toy_flaky"].isna().sum()
    assert failures == 8  # the cached failures came along, with their reasons


def test_export_is_byte_stable_and_filters_by_space(tmp_path):
    with ScoreCache(tmp_path / "c.sqlite") as store:
        store.put_scores("toy", "w2-d1", [ScoreRecord("p", "1", "{}", 2.5, None, 0.1)])
        store.put_scores("other", "x", [ScoreRecord("p", "1", "{}", 1.0, None, 0.1)])
        store.export_records(tmp_path / "one" / "all.jsonl.gz")
        store.export_records(tmp_path / "two" / "all.jsonl.gz")
        assert (tmp_path / "one" / "all.jsonl.gz").read_bytes() == (tmp_path / "two" / "all.jsonl.gz").read_bytes()
        assert store.export_records(tmp_path / "toy.jsonl", spaces=["toy"]) == (1, 0)
    lines = [json.loads(line) for line in (tmp_path / "toy.jsonl").read_text().splitlines()]
    assert lines[0] == {"kind": "header", "format": "zsbench-score-cache", "schema_version": SCHEMA_VERSION}
    assert [(r["space"], r["arch"], r["value"]) for r in lines[1:]] == [("toy", "w2-d1", 2.5)]


def test_replace_overwrites_and_default_keeps(tmp_path):
    with ScoreCache(tmp_path / "src.sqlite") as src:
        src.put_scores("toy", "w2-d1", [ScoreRecord("p", "1", "{}", 9.0, None, 0.1)])
        src.export_records(tmp_path / "r.jsonl")
    with ScoreCache(tmp_path / "dst.sqlite") as dst:
        dst.put_scores("toy", "w2-d1", [ScoreRecord("p", "1", "{}", 1.0, None, 0.1)])
        assert dst.import_records(tmp_path / "r.jsonl") == (0, 0)
        assert dst.get_scores("toy", ["w2-d1"], "p", "1", "{}")["w2-d1"].value == 1.0
        assert dst.import_records(tmp_path / "r.jsonl", replace=True) == (1, 0)
        assert dst.get_scores("toy", ["w2-d1"], "p", "1", "{}")["w2-d1"].value == 9.0


def test_foreign_files_are_refused_before_anything_is_written(tmp_path):
    not_export = tmp_path / "notes.jsonl"
    not_export.write_text('{"hello": 1}\n')
    other_schema = tmp_path / "old.jsonl.gz"
    with gzip.open(other_schema, "wt") as out:
        out.write(json.dumps({"kind": "header", "format": "zsbench-score-cache", "schema_version": SCHEMA_VERSION + 1}) + "\n")
        out.write(json.dumps({"kind": "score", "space": "toy"}) + "\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        json.dumps({"kind": "header", "format": "zsbench-score-cache", "schema_version": SCHEMA_VERSION})
        + "\n"
        + json.dumps({"kind": "score", "space": "toy", "arch": "w2-d1"})
        + "\n"
    )
    with ScoreCache(tmp_path / "c.sqlite") as store:
        with pytest.raises(CacheSchemaError, match="is not a zsbench cache export"):
            store.import_records(not_export)
        with pytest.raises(CacheSchemaError, match=f"schema version {SCHEMA_VERSION + 1}"):
            store.import_records(other_schema)
        with pytest.raises(CacheSchemaError, match="line 2: not a cache record"):
            store.import_records(broken)
        assert store.count_scores() == 0


def test_cli_info_export_import(tmp_path):
    from zsbench.cli import build_app

    with ScoreCache(tmp_path / "c.sqlite") as store:
        store.put_scores("toy", "w2-d1", [ScoreRecord("p", "1", "{}", 2.5, None, 0.1)])
        store.put_scores("toy", "w3-d1", [ScoreRecord("p", "1", "{}", None, "boom", 0.1)])
    runner = CliRunner()
    app = build_app(plugins=False)
    info = runner.invoke(app, ["cache", "info", "--cache", str(tmp_path / "c.sqlite")])
    assert info.exit_code == 0, info.output
    row = next(line for line in info.output.splitlines() if " toy " in line)
    assert Counter(row.split()) >= Counter(["toy", "p", "1", "2", "1"])
    out = tmp_path / "e.jsonl.gz"
    done = runner.invoke(app, ["cache", "export", str(out), "--cache", str(tmp_path / "c.sqlite")])
    assert done.exit_code == 0 and "exported 2 scores and 0 costs" in done.output
    done = runner.invoke(app, ["cache", "import", str(out), "--cache", str(tmp_path / "d.sqlite")])
    assert done.exit_code == 0 and "imported 2 scores and 0 costs" in done.output
    missing = runner.invoke(app, ["cache", "import", str(tmp_path / "nope.jsonl"), "--cache", str(tmp_path / "d.sqlite")])
    assert missing.exit_code != 0 and "no such cache export" in missing.output


def test_cli_info_names_the_inputs_as_text(tmp_path):
    from zsbench.cli import build_app

    contract = json.dumps({"input_source": "cifar10:train:augmented:seed=0", "num_classes": 100, "input_size": 32})
    with ScoreCache(tmp_path / "c.sqlite") as store:
        store.put_scores("nb201", "a", [ScoreRecord("snip", "1", contract, 1.0, None, 0.1)])
    info = CliRunner().invoke(build_app(plugins=False), ["cache", "info", "--cache", str(tmp_path / "c.sqlite")])
    assert info.exit_code == 0, info.output
    assert "cifar10:train:augmented:seed=0, 100 classes, 32 px" in info.output  # not an emoji, not markup
