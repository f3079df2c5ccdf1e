"""The JSONL result store survives a write cut short by a kill."""

from __future__ import annotations

from zsbench.training.store import ResultStore


def test_append_read_and_truncated_line(tmp_path) -> None:
    store = ResultStore(tmp_path / "sub" / "r.jsonl")
    assert store.records() == []
    store.append({"key": "a", "status": "ok", "value": 1.5})
    store.append({"key": "b", "status": "failed", "error": "ValueError: boom"})
    # Simulate a kill in the middle of writing the third record.
    with open(store.path, "a", encoding="utf-8") as handle:
        handle.write('{"key": "c", "status": "o')
    assert [r["key"] for r in store.records()] == ["a", "b"]
    store.append({"key": "b", "status": "ok", "value": 2.0})
    assert [r["key"] for r in store.records()] == ["a", "b", "b"]
    assert set(store.finished()) == {"a", "b"}
    assert store.finished()["b"]["value"] == 2.0
    assert store.failures() == {}
    store.append({"key": "d", "status": "failed", "error": "x"})
    assert list(store.failures()) == ["d"]
