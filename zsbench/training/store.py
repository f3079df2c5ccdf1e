"""Append-only JSONL store of training results, safe against being killed at any moment.

Each finished network is one JSON line, written with a single ``write`` call, flushed and
fsynced before the next network is looked at. A process killed in the middle of a write
leaves at most one truncated last line: readers skip lines that do not parse, and the
next writer starts on a fresh line, so nothing finished is ever lost or corrupted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class ResultStore:
    """Results of one build, one JSON object per line.

    Args:
        path: the ``.jsonl`` file (created with its folder on first append).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records())

    def records(self) -> list[dict[str, Any]]:
        """Every readable record, in file order (a truncated or corrupt line is skipped)."""
        if not self.path.exists():
            return []
        records = []
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a write cut short by a kill
                if isinstance(record, dict) and "key" in record:
                    records.append(record)
        return records

    def finished(self) -> dict[str, dict[str, Any]]:
        """Successful records by key (the first one wins if a key appears twice)."""
        done: dict[str, dict[str, Any]] = {}
        for record in self.records():
            if record.get("status") == "ok":
                done.setdefault(record["key"], record)
        return done

    def failures(self) -> dict[str, dict[str, Any]]:
        """The latest failure record of every key that has no successful record."""
        finished = self.finished()
        failed: dict[str, dict[str, Any]] = {}
        for record in self.records():
            if record.get("status") == "failed" and record["key"] not in finished:
                failed[record["key"]] = record
        return failed

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line and make it durable before returning."""
        if "key" not in record:
            raise ValueError("a result record needs a 'key'")
        line = json.dumps(record, sort_keys=True, allow_nan=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            # A kill mid-write leaves a partial last line: start a new one after it.
            handle.seek(0, os.SEEK_END)
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
