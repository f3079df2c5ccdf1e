"""Append-only JSONL store of training results, safe against being killed at any moment.

Each finished network is one JSON line, written with a single ``write`` call, flushed and
fsynced before the next network is looked at. A process killed in the middle of a write
leaves at most one truncated last line (no newline at its end): readers skip it, and the
next writer cuts it off before appending, so nothing finished is ever lost or corrupted.
A line that does not parse anywhere else means the file was damaged (edited, overwritten
in part): it is refused with a one-line error naming the file and the line, and nothing is
written to it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zsbench.errors import ZsbenchError


class DamagedRecordsError(ZsbenchError):
    """A build's records file holds a line that is not a record (other than a cut last line)."""


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
        """Every record, in file order; a last line cut short by a kill (no newline) is skipped.

        Raises:
            DamagedRecordsError: any other line is not a JSON record.
        """
        if not self.path.exists():
            return []
        records = []
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    if not raw.endswith("\n"):
                        continue  # a write cut short by a kill: the next append cuts it off
                    raise DamagedRecordsError(
                        f"{self.path}, line {number}: not a training record (the file is damaged); restore it from a "
                        "copy, or delete that line to train its network again"
                    ) from None
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
        with open(self.path, "r+b" if self.path.exists() else "w+b") as handle:
            # A kill mid-write leaves a partial last line (no newline): cut it off, it holds no record
            # (one that parses whole, cut just before its newline, is kept and ended instead).
            end = handle.seek(0, os.SEEK_END)
            if end > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.seek(0)
                    data = handle.read()  # rare (after a kill) and small: a build's records
                    start = data.rfind(b"\n") + 1
                    if _parses(data[start:]):
                        handle.write(b"\n")
                        end += 1
                    else:
                        handle.truncate(start)
                        end = start
                handle.seek(end)
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
