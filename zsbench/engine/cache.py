"""The score cache: a SQLite database of every proxy score and architecture cost computed.

A score is stored under its full key: the search space, the canonical architecture, the
proxy's name and version, and the run contract (batch size and source, seed, device type
(CPU or CUDA, not the index), BN mode, dtype, classifier width, input size; see
:func:`zsbench.engine.harness.run_contract`). Any change of those computes anew; nothing else does.

Durability: the database runs in WAL mode and every architecture's results are committed
in one transaction as soon as they arrive, so a process killed at any moment (Ctrl-C,
``kill -9``) loses at most the architectures still being computed.

Failures are cached too, with their reason: rerunning does not retry a proxy that failed on
an architecture (most failures are deterministic: a disconnected cell, an unsupported op).
Pass ``retry_failed=True`` to :func:`zsbench.evaluate` (``--retry-failed``) to compute them
again, e.g. after an out-of-memory failure on a smaller device.

Schema: the database records its layout's version (:data:`SCHEMA_VERSION`); a cache written
with another layout is refused with a one-line error naming the file, never read or written.

Faults: several processes may share one cache file: a write waits for another process's
transaction (a 60 s busy timeout, then up to :data:`LOCKED_PATIENCE` seconds of retries), so a
run never fails with "database is locked". A damaged file (truncated, overwritten in part) is
found when the cache is opened (SQLite's ``quick_check``) or when a damaged page is read, and
refused with :class:`CacheDamagedError`; a cache that cannot be written (a read-only file or
folder, a full disk) stops the run with :class:`CacheWriteError`. Each is one line naming the
file and what to do; what was committed before stays in the file.

Sharing: :meth:`ScoreCache.export_records` writes every stored score and cost (optionally of
some spaces only) to a JSON-lines file, gzip-compressed when its name ends in ``.gz``, and
:meth:`ScoreCache.import_records` merges such a file into a cache (``zsbench cache export`` /
``import``): a colleague, a CI job or a later session then computes only what the file lacks,
and a long study can commit its records as it goes.

Location: ``--cache PATH``, else ``$ZSBENCH_CACHE``, else ``$XDG_CACHE_HOME/zsbench/scores.sqlite``,
else ``~/.cache/zsbench/scores.sqlite``.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from zsbench.errors import ZsbenchError, describe_error

#: The layout of the tables below; bump it whenever they change, so that a cache of another
#: layout is refused instead of misread.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scores (
    space TEXT NOT NULL,
    arch TEXT NOT NULL,
    proxy TEXT NOT NULL,
    proxy_version TEXT NOT NULL,
    contract TEXT NOT NULL,
    value REAL,
    error TEXT,
    seconds REAL NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (space, arch, proxy, proxy_version, contract)
);
CREATE TABLE IF NOT EXISTS costs (
    space TEXT NOT NULL,
    arch TEXT NOT NULL,
    num_classes INTEGER NOT NULL,
    input_size INTEGER NOT NULL,
    flops REAL,
    params REAL,
    depth REAL,
    error TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (space, arch, num_classes, input_size)
);
"""


def default_cache_path() -> Path:
    """Where the cache lives unless told otherwise (see the module docstring)."""
    explicit = os.environ.get("ZSBENCH_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base).expanduser() if base else Path.home() / ".cache"
    return root / "zsbench" / "scores.sqlite"


def contract_key(contract: dict[str, Any]) -> str:
    """The canonical text of a run contract, as stored in the key (sorted keys, no spaces)."""
    return json.dumps(contract, sort_keys=True, separators=(",", ":"), default=str)


class CacheSchemaError(ZsbenchError):
    """The cache file was written with another schema (or is not a score cache)."""


class CacheDamagedError(ZsbenchError):
    """The cache file is damaged (truncated, overwritten in part): SQLite cannot read it."""


class CacheWriteError(ZsbenchError):
    """The cache cannot be written (a read-only file or folder, a full disk) or stayed locked."""


#: Seconds a write keeps retrying while other processes hold the cache's write lock, on top
#: of SQLite's 60 s busy timeout per try.
LOCKED_PATIENCE = 600.0

_T = TypeVar("_T")


def _is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def cache_error(target: str | Path, exc: sqlite3.Error) -> ZsbenchError:
    """The one-line error for an SQLite error on the cache file ``target``."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    kept = "the scores stored so far are kept"
    if "malformed" in lowered or "corrupt" in lowered:
        return CacheDamagedError(
            f"score cache {target} is damaged ({text}); move it aside and rerun to compute its scores again "
            "(or restore it from a copy or a `zsbench cache export`); nothing was written to it"
        )
    if "not a database" in lowered or "encrypted" in lowered:
        return CacheSchemaError(f"{target} is not a zsbench score cache ({text}); pass another --cache file")
    if "full" in lowered:
        return CacheWriteError(
            f"cannot write the score cache {target} ({text}): free some disk space or pass --cache a file on another "
            f"disk, then rerun; {kept}"
        )
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered or "permission" in lowered:
        return CacheWriteError(
            f"cannot write the score cache {target} ({text}): pass --cache a file in a writable folder; {kept}"
        )
    if _is_locked(exc):
        return CacheWriteError(
            f"score cache {target} stayed locked by another process for more than {LOCKED_PATIENCE:g} s ({text}); "
            f"rerun when that process is done, or pass --cache another file; {kept}"
        )
    return CacheWriteError(f"score cache {target}: {text}; check the file and its disk, then rerun; {kept}")


@dataclass(frozen=True)
class CachedScore:
    """One stored score: ``value`` is ``None`` exactly when ``error`` says why it failed."""

    value: float | None
    error: str | None
    seconds: float


@dataclass(frozen=True)
class CachedCost:
    """Stored cost figures of one architecture (NaN where they could not be computed)."""

    flops: float
    params: float
    depth: float
    error: str | None


@dataclass(frozen=True)
class ScoreRecord:
    """One score to store."""

    proxy: str
    proxy_version: str
    contract: str
    value: float | None
    error: str | None
    seconds: float


class ScoreCache:
    """A SQLite score and cost cache (see the module docstring).

    Args:
        path: the database file (created with its folder), or ``":memory:"``.
    """

    def __init__(self, path: str | Path | None = None, *, check_batches: bool = True) -> None:
        self.path = Path(path) if path is not None and str(path) != ":memory:" else None
        if path is None:
            self.path = default_cache_path()
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CacheWriteError(
                    f"cannot create the folder of the score cache {self.path} ({exc.strerror or exc}); "
                    "pass --cache a file in a writable folder"
                ) from None
            if self.path.is_dir():
                raise CacheWriteError(f"the score cache {self.path} is a folder; pass --cache a file name")
        self._target = target = str(self.path) if self.path is not None else ":memory:"
        try:
            # 60 s busy timeout: several zsbench processes may share one cache
            self._db = sqlite3.connect(target, timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise cache_error(target, exc) from None
        try:
            self._retry_locked(lambda: self._open(target, check_batches))
        except BaseException:
            self._db.close()
            raise

    def _open(self, target: str, check_batches: bool) -> None:
        self._check_schema(target)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a killed process in WAL mode (only power loss can lose
        # the last commits), and much faster than FULL
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        if check_batches:
            self._check_batch_identity(target)

    def _retry_locked(self, action: Callable[[], _T]) -> _T:
        """``action()``, tried again while another process holds the write lock (see
        :data:`LOCKED_PATIENCE`); any SQLite error becomes the cache's one-line error."""
        deadline = time.monotonic() + LOCKED_PATIENCE
        pause = 0.05
        while True:
            try:
                return action()
            except sqlite3.Error as exc:
                if not _is_locked(exc) or time.monotonic() > deadline:
                    raise cache_error(self._target, exc) from None
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _check_batch_identity(self, target: str) -> None:
        """Refuse a cache holding scores whose contract names their batch by a string (before
        batch fingerprints): one name covered batches of other pixels, so they cannot be read as
        they are. Checked once: a cache found (or made) clean records it in ``meta``."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'batch_identity'").fetchone()
        if row is not None and row[0] == BATCH_IDENTITY:
            return
        old = self.count_old_batch_scores()
        if old:
            self._db.close()
            raise CacheSchemaError(
                f"score cache {target} holds {old:,} scores whose batch is named by a string, not by its content "
                f"(written before batch fingerprints); run `zsbench cache migrate --cache {target}` to rewrite them, "
                "or delete the file to compute them anew"
            )
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('batch_identity', ?)", (BATCH_IDENTITY,))

    def count_old_batch_scores(self) -> int:
        """Scores of batch-reading proxies whose contract has no batch fingerprint (see :meth:`old_batch_contracts`)."""
        return int(self._db.execute(f"SELECT COUNT(*) FROM scores WHERE {_OLD_BATCH_WHERE}").fetchone()[0])

    def old_batch_contracts(self) -> dict[str, int]:
        """The contracts of batch-reading proxies that name their batch by a string instead of a
        fingerprint (``"input_source": "cifar10:train:augmented:seed=0"``), with their score counts."""
        rows = self._db.execute(f"SELECT contract, COUNT(*) FROM scores WHERE {_OLD_BATCH_WHERE} GROUP BY contract")
        return {contract: int(n) for contract, n in rows}

    def rewrite_contracts(self, mapping: dict[str, str | None]) -> int:
        """Replace each old contract by its new text (``None``: delete its scores), in one
        transaction; a score already stored under the new contract is kept. Returns the scores moved."""
        moved = 0
        columns = "space, arch, proxy, proxy_version, contract, value, error, seconds, created"
        with self._transaction():
            for old, new in mapping.items():
                if new is not None:
                    moved += self._db.execute(
                        f"INSERT OR IGNORE INTO scores ({columns}) "
                        "SELECT space, arch, proxy, proxy_version, ?, value, error, seconds, created FROM scores WHERE contract=?",
                        (new, old),
                    ).rowcount
                self._db.execute("DELETE FROM scores WHERE contract=?", (old,))
            if self.count_old_batch_scores() == 0:
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('batch_identity', ?)", (BATCH_IDENTITY,))
        return moved

    def _check_schema(self, target: str) -> None:
        """Refuse a database that is not a cache of this layout, or is damaged, before anything is written."""
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            found = None
            if "meta" in tables:
                row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                found = row[0] if row else None
        except sqlite3.DatabaseError as exc:
            if _is_locked(exc):
                raise
            raise cache_error(target, exc) from None
        if found is None and tables - {"meta", "scores", "costs"}:
            raise CacheSchemaError(
                f"{target} is an SQLite database of something else (tables {', '.join(sorted(tables))}); "
                "pass another --cache file"
            )
        if found is not None and found != str(SCHEMA_VERSION):
            newer = found.isdigit() and int(found) > SCHEMA_VERSION
            fix = (
                "upgrade zsbench (pip install -U zsbench) to read it, or pass another --cache file"
                if newer
                else "pass another --cache file, or delete this one to compute the scores anew"
            )
            raise CacheSchemaError(
                f"score cache {target} has schema version {found}, this zsbench reads version {SCHEMA_VERSION}"
                f"{' (a newer zsbench wrote it)' if newer else ''}; {fix}"
            )
        if tables:
            # a truncated or partly overwritten file: refuse it before any score is read or written
            problem = self._db.execute("PRAGMA quick_check(1)").fetchone()
            if problem is not None and problem[0] != "ok":
                found_problem = " ".join(str(problem[0]).replace("*** in database main ***", "").split())
                raise CacheDamagedError(
                    f"score cache {target} is damaged ({found_problem}); move it aside and rerun to compute its scores "
                    "again (or restore it from a copy or a `zsbench cache export`); nothing was written to it"
                )

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scores ------------------------------------------------------------------------------

    def get_scores(
        self, space: str, archs: Sequence[str], proxy: str, proxy_version: str, contract: str
    ) -> dict[str, CachedScore]:
        """Stored scores of ``proxy`` for the given architectures, by architecture."""
        found: dict[str, CachedScore] = {}
        with self._reading():
            self._read_scores(found, space, archs, proxy, proxy_version, contract)
        return found

    def _read_scores(
        self, found: dict[str, CachedScore], space: str, archs: Sequence[str], proxy: str, proxy_version: str, contract: str
    ) -> None:
        for chunk in _chunks(list(dict.fromkeys(archs)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT arch, value, error, seconds FROM scores "
                f"WHERE space=? AND proxy=? AND proxy_version=? AND contract=? AND arch IN ({marks})",
                (space, proxy, proxy_version, contract, *chunk),
            )
            for arch, value, error, seconds in rows:
                found[arch] = CachedScore(value, error, seconds)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """An SQLite error while reading (a damaged page) becomes the cache's one-line error."""
        try:
            yield
        except sqlite3.Error as exc:
            raise cache_error(self._target, exc) from None

    def put_scores(self, space: str, arch: str, records: Iterable[ScoreRecord]) -> None:
        """Store the scores of one architecture in one transaction (replacing older ones)."""
        now = time.time()
        rows = [
            (space, arch, r.proxy, r.proxy_version, r.contract, _finite_or_none(r.value), r.error, r.seconds, now)
            for r in records
        ]

        def write() -> None:
            with self._transaction():
                self._db.executemany(
                    "INSERT OR REPLACE INTO scores "
                    "(space, arch, proxy, proxy_version, contract, value, error, seconds, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

        self._retry_locked(write)

    def count_scores(self) -> int:
        """Number of stored scores (failures included)."""
        return int(self._db.execute("SELECT COUNT(*) FROM scores").fetchone()[0])

    # -- costs -------------------------------------------------------------------------------

    def get_costs(self, space: str, archs: Sequence[str], num_classes: int, input_size: int) -> dict[str, CachedCost]:
        """Stored costs of the given architectures, by architecture."""
        found: dict[str, CachedCost] = {}
        with self._reading():
            for chunk in _chunks(list(dict.fromkeys(archs)), 500):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT arch, flops, params, depth, error FROM costs "
                    f"WHERE space=? AND num_classes=? AND input_size=? AND arch IN ({marks})",
                    (space, num_classes, input_size, *chunk),
                )
                for arch, flops, params, depth, error in rows:
                    found[arch] = CachedCost(_nan_if_none(flops), _nan_if_none(params), _nan_if_none(depth), error)
        return found

    def put_cost(self, space: str, arch: str, num_classes: int, input_size: int, cost: CachedCost) -> None:
        """Store the costs of one architecture."""
        row = (
            space,
            arch,
            num_classes,
            input_size,
            _finite_or_none(cost.flops),
            _finite_or_none(cost.params),
            _finite_or_none(cost.depth),
            cost.error,
            time.time(),
        )

        def write() -> None:
            with self._transaction():
                self._db.execute(
                    "INSERT OR REPLACE INTO costs "
                    "(space, arch, num_classes, input_size, flops, params, depth, error, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )

        self._retry_locked(write)

    # -- sharing -----------------------------------------------------------------------------

    def summary(self) -> list[tuple[str, str, str, str, int, int]]:
        """``(space, proxy, proxy_version, inputs, scores, failures)`` per stored proxy and input, sorted.

        ``inputs`` names the batch the scores were computed on (the contract's input source,
        classifier width and input size), so that scores of one proxy on other data are told apart.
        """
        counts: dict[tuple[str, str, str, str], list[int]] = {}
        rows = self._db.execute(
            "SELECT space, proxy, proxy_version, contract, COUNT(*), SUM(error IS NOT NULL) FROM scores "
            "GROUP BY space, proxy, proxy_version, contract"
        )
        for space, proxy, version, contract, n, failed in rows:
            key = (space, proxy, version, _describe_inputs(contract))
            total = counts.setdefault(key, [0, 0])
            total[0] += int(n)
            total[1] += int(failed)
        return [(*key, n, failed) for key, (n, failed) in sorted(counts.items())]

    def export_records(self, path: str | Path, spaces: Sequence[str] | None = None) -> tuple[int, int]:
        """Write the stored scores and costs (of ``spaces`` only, if given) to a JSON-lines file.

        The first line is a header naming the format and :data:`SCHEMA_VERSION`; then one
        object per score (``"kind": "score"``) and per cost (``"kind": "cost"``), in key order,
        so that two exports of the same cache are identical. A name ending in ``.gz`` is
        gzip-compressed (with a fixed timestamp, for the same reason).

        Returns:
            ``(scores, costs)``: how many records were written.
        """
        from zsbench.engine.outputs import check_output

        check_output(path, "the export file")
        where, args = "", ()
        if spaces:
            where = f" WHERE space IN ({','.join('?' * len(spaces))})"
            args = tuple(spaces)
        written = dict.fromkeys(_RECORD_TABLES, 0)
        with _open_records(path, "w") as out:
            out.write(json.dumps({"kind": "header", "format": _EXPORT_FORMAT, "schema_version": SCHEMA_VERSION}) + "\n")
            for kind, (table, columns, order) in _RECORD_TABLES.items():
                for row in self._db.execute(f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY {order}", args):
                    out.write(json.dumps({"kind": kind, **dict(zip(columns, row, strict=True))}) + "\n")
                    written[kind] += 1
        return written["score"], written["cost"]

    def import_records(self, path: str | Path, *, replace: bool = False) -> tuple[int, int]:
        """Merge a file written by :meth:`export_records` into this cache, in one transaction.

        A record whose key is already stored is kept as it is unless ``replace``. A file of
        another format or schema version is refused with a one-line error before anything is
        written.

        Returns:
            ``(scores, costs)``: how many records were new (or replaced).
        """
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        statements = {
            kind: f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for kind, (table, columns, _) in _RECORD_TABLES.items()
        }
        stored = dict.fromkeys(_RECORD_TABLES, 0)
        try:
            self._import_lines(path, statements, stored)
        except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
            # one transaction: a damaged file adds nothing
            raise CacheSchemaError(
                f"{path} is damaged ({describe_error(exc)}); nothing was imported: export it again with "
                "`zsbench cache export`"
            ) from None
        except sqlite3.Error as exc:
            raise cache_error(self._target, exc) from None
        return stored["score"], stored["cost"]

    def _import_lines(self, path: str | Path, statements: dict[str, str], stored: dict[str, int]) -> None:
        with _open_records(path, "r") as lines, self._transaction():
            # records of old contracts make the cache check itself again on its next opening
            self._db.execute("DELETE FROM meta WHERE key = 'batch_identity'")
            _check_header(path, next(lines, ""))
            for number, line in enumerate(lines, start=2):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    kind = record.pop("kind")
                    columns = _RECORD_TABLES[kind][1]
                    # rowcount: 1 when the row was written, 0 when INSERT OR IGNORE kept the stored one
                    stored[kind] += self._db.execute(statements[kind], tuple(record[c] for c in columns)).rowcount
                except (ValueError, KeyError) as exc:
                    raise CacheSchemaError(f"{path}, line {number}: not a cache record ({exc})") from None

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:  # SQLite may have rolled back itself (a full disk)
            self._db.execute("ROLLBACK")


_EXPORT_FORMAT = "zsbench-score-cache"
#: ``meta.batch_identity`` of a cache whose every batch-reading score names its batch by content.
BATCH_IDENTITY = "fingerprint"
# a batch-reading proxy's contract (sorted keys, no spaces: contract_key) without a fingerprint
_OLD_BATCH_WHERE = """contract LIKE '%"input_kind":"batch"%' AND contract NOT LIKE '%"input_source":"sha256:%'"""
#: The exported record kinds: table, columns (the file's keys) and the key order they are written in.
_RECORD_TABLES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "score": (
        "scores",
        ("space", "arch", "proxy", "proxy_version", "contract", "value", "error", "seconds", "created"),
        "space, arch, proxy, proxy_version, contract",
    ),
    "cost": (
        "costs",
        ("space", "arch", "num_classes", "input_size", "flops", "params", "depth", "error", "created"),
        "space, arch, num_classes, input_size",
    ),
}


@contextmanager
def _open_records(path: str | Path, mode: str) -> Iterator[IO[str]]:
    """A text stream of the records file, through gzip when its name ends in ``.gz``."""
    path = Path(path)
    if mode == "r" and not path.is_file():
        raise ZsbenchError(f"no such cache export: {path}; write one with `zsbench cache export FILE`")
    if mode == "w":
        path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix != ".gz":
        with open(path, mode, encoding="utf-8") as text:
            yield text
        return
    # mtime=0 and the bare file name in the gzip header: the same records give the same bytes
    with (
        open(path, mode + "b") as raw,
        gzip.GzipFile(filename=path.name, fileobj=raw, mode=mode + "b", mtime=0) as packed,
        io.TextIOWrapper(packed, encoding="utf-8") as text,
    ):
        yield text


def _describe_inputs(contract: str) -> str:
    try:
        fields = json.loads(contract)
    except ValueError:
        return contract
    if not isinstance(fields, dict):
        return contract
    source = fields.get("input_source", "?")
    return f"{source}, {fields.get('num_classes', '?')} classes, {fields.get('input_size', '?')} px"


def _check_header(path: str | Path, line: str) -> None:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != _EXPORT_FORMAT:
        raise CacheSchemaError(f"{path} is not a zsbench cache export (no header line); write one with `zsbench cache export`")
    if header.get("schema_version") != SCHEMA_VERSION:
        raise CacheSchemaError(
            f"{path} was exported with cache schema version {header.get('schema_version')}, "
            f"this zsbench reads version {SCHEMA_VERSION}"
        )


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else float(value)
