"""The score cache refuses files it would misread: another schema version, or not a cache."""

from __future__ import annotations

import sqlite3

import pytest

from zsbench.engine.cache import SCHEMA_VERSION, CacheSchemaError, ScoreCache, ScoreRecord


def test_a_cache_of_this_schema_reopens_with_its_scores(tmp_path):
    path = tmp_path / "c.sqlite"
    with ScoreCache(path) as cache:
        cache.put_scores("toy", "w2-d1", [ScoreRecord("p", "1", "{}", 2.5, None, 0.1)])
    with ScoreCache(path) as cache:
        assert cache.get_scores("toy", ["w2-d1"], "p", "1", "{}")["w2-d1"].value == 2.5
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)


def test_a_cache_of_another_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "c.sqlite"
    ScoreCache(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    before = path.read_bytes()
    with pytest.raises(CacheSchemaError, match=rf"has schema version {SCHEMA_VERSION + 1}, this zsbench reads version {SCHEMA_VERSION}"):
        ScoreCache(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_cache_is_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(CacheSchemaError, match="database of something else \\(tables users\\)"):
        ScoreCache(other)
    garbage = tmp_path / "notes.sqlite"
    garbage.write_text("these are my notes, not a database" * 100)
    with pytest.raises(CacheSchemaError, match="is not a zsbench score cache"):
        ScoreCache(garbage)
