"""Score packs: precomputed scores that plugins ship, read as a read-only layer under the cache.

A pack is a JSON-lines file, gzip-compressed with a fixed header timestamp and written in key
order, so the same records always give the same bytes. Its first line is the header
(:data:`PACK_FORMAT`, the pack's name, benchmark, space, the input batches' fingerprints and a
list of provenances: the zsbench, torch and Python versions and the machine that computed the
records, and where they came from); then one line per score, in the score cache's export layout
plus ``prov`` (the index of its provenance), and one per cost.

The engine (:func:`zsbench.evaluate`) looks a score up in the user's cache first, then in the
packs (:class:`PackLayer`), by its full key: space, canonical architecture, proxy name and
version, and run contract text. A pack's failure is a failure with its reason, like a cached
one. A proxy whose ``version`` was bumped no longer matches its old pack entries: they are unused
(stale, ``zsbench packs list`` counts them) until the pack is rebuilt.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import platform
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from zsbench.engine.cache import CachedCost, CachedScore
from zsbench.errors import ZsbenchError, describe_error

PACK_FORMAT = "zsbench-score-pack"
PACK_FORMAT_VERSION = 1
SCORE_FIELDS = ("space", "arch", "proxy", "proxy_version", "contract", "value", "error", "seconds", "prov")
COST_FIELDS = ("space", "arch", "num_classes", "input_size", "flops", "params", "depth", "error")


class PackError(ZsbenchError):
    """A pack file that cannot be read (missing, not a pack, another format version)."""


@dataclass
class Pack:
    """One pack file's content: ``header``, and its scores and costs by key."""

    name: str
    path: Path
    header: dict[str, Any]
    # (space, proxy, proxy_version, contract) -> arch -> score
    scores: dict[tuple[str, str, str, str], dict[str, CachedScore]] = field(default_factory=dict)
    costs: dict[tuple[str, int, int], dict[str, CachedCost]] = field(default_factory=dict)
    provenance: dict[tuple[str, str, str, str, str], int] = field(default_factory=dict)  # score key -> prov index

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self.path.stat().st_size

    def records(self) -> int:
        """Number of scores."""
        return sum(len(v) for v in self.scores.values())


def read_header(path: str | Path) -> dict[str, Any]:
    """The header line of a pack file.

    Raises:
        PackError: the file is missing or is not a pack of this format version.
    """
    with _open(path) as lines:
        return _check_header(path, next(lines, ""))


def load_pack(path: str | Path, name: str | None = None) -> Pack:
    """Read a whole pack file (see the module docstring)."""
    path = Path(path)
    with _open(path) as lines:
        header = _check_header(path, next(lines, ""))
        pack = Pack(name or str(header.get("name") or path.name), path, header)
        for number, line in enumerate(lines, start=2):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                kind = record["kind"]
                if kind == "score":
                    key = (record["space"], record["proxy"], str(record["proxy_version"]), record["contract"])
                    value = record["value"]
                    pack.scores.setdefault(key, {})[record["arch"]] = CachedScore(
                        None if value is None else float(value), record["error"], float(record["seconds"])
                    )
                    pack.provenance[(*key, record["arch"])] = int(record.get("prov", 0))
                elif kind == "cost":
                    ckey = (record["space"], int(record["num_classes"]), int(record["input_size"]))
                    pack.costs.setdefault(ckey, {})[record["arch"]] = CachedCost(
                        *(float("nan") if record[c] is None else float(record[c]) for c in ("flops", "params", "depth")),
                        record["error"],
                    )
            except (ValueError, KeyError, TypeError) as exc:
                raise PackError(f"{path}, line {number}: not a pack record ({exc}); rebuild it with `zsbench packs build`") from None
    return pack


def write_pack(
    path: str | Path,
    header: Mapping[str, Any],
    scores: Iterable[Mapping[str, Any]],
    costs: Iterable[Mapping[str, Any]] = (),
) -> tuple[int, int]:
    """Write a pack: the header, then the scores and costs in key order (byte-stable).

    Returns:
        ``(scores, costs)`` written.
    """
    score_rows = sorted(
        ({f: r.get(f) for f in SCORE_FIELDS} for r in scores),
        key=lambda r: (r["space"], r["arch"], r["proxy"], str(r["proxy_version"]), r["contract"]),
    )
    cost_rows = sorted(
        ({f: r.get(f) for f in COST_FIELDS} for r in costs), key=lambda r: (r["space"], r["arch"], r["num_classes"], r["input_size"])
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    full = {"kind": "header", "format": PACK_FORMAT, "pack_format": PACK_FORMAT_VERSION, **header}
    # written beside the target and renamed over it: a kill or a full disk mid-write leaves the old pack whole
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with (
            open(partial, "wb") as raw,
            gzip.GzipFile(filename=target.name, fileobj=raw, mode="wb", mtime=0) as packed,
            io.TextIOWrapper(packed, encoding="utf-8") as text,
        ):
            text.write(json.dumps(full, sort_keys=True) + "\n")
            for row in score_rows:
                text.write(json.dumps({"kind": "score", **row}) + "\n")
            for row in cost_rows:
                text.write(json.dumps({"kind": "cost", **row}) + "\n")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return len(score_rows), len(cost_rows)


def this_machine() -> dict[str, str]:
    """The provenance of scores computed here: zsbench, torch and Python versions and the machine."""
    import torch

    from zsbench import __version__

    return {
        "zsbench": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {_cpu_name()}",
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# -- the layer the engine reads ---------------------------------------------------------------------


_LOADED: dict[tuple[str, float, int], Pack] = {}  # (path, mtime, size) -> pack: one read per process


def cached_load(path: Path, name: str) -> Pack:
    """:func:`load_pack`, read once per process for an unchanged file."""
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _LOADED:
        _LOADED[key] = load_pack(path, name)
    return _LOADED[key]


class PackLayer:
    """The registered packs as one read-only lookup (see the module docstring).

    Args:
        packs: ``(name, path)`` of each pack, looked up in this order (the first pack holding
            a key answers).
    """

    def __init__(self, packs: Sequence[tuple[str, Path]]) -> None:
        self.packs = list(packs)
        self._spaces: dict[str, list[Pack]] = {}

    def _for_space(self, space: str) -> list[Pack]:
        if space not in self._spaces:
            found = []
            for name, path in self.packs:
                try:
                    header = read_header(path)
                except PackError as exc:
                    import warnings

                    warnings.warn(f"score pack {name!r} skipped: {exc}", stacklevel=3)
                    continue
                if space in (header.get("spaces") or [header.get("space")]):
                    found.append(cached_load(Path(path), name))
            self._spaces[space] = found
        return self._spaces[space]

    def get_scores(
        self, space: str, archs: Iterable[str], proxy: str, proxy_version: str, contract: str
    ) -> dict[str, tuple[CachedScore, str]]:
        """``arch -> (score, pack name)`` for the architectures some pack holds under this exact key."""
        found: dict[str, tuple[CachedScore, str]] = {}
        wanted = list(archs)
        for pack in self._for_space(space):
            stored = pack.scores.get((space, proxy, str(proxy_version), contract))
            if not stored:
                continue
            for arch in wanted:
                if arch not in found and arch in stored:
                    found[arch] = (stored[arch], pack.name)
        return found

    def median_seconds(self, space: str, proxy: str, proxy_version: str) -> float | None:
        """The median scoring time the packs record for ``proxy`` on ``space`` (any run contract),
        ``None`` when they hold none: a prior for the ETA of what is still computed."""
        import statistics

        times = [
            record.seconds
            for pack in self._for_space(space)
            for (s, p, v, _), by_arch in pack.scores.items()
            if (s, p, v) == (space, proxy, str(proxy_version))
            for record in by_arch.values()
        ]
        return statistics.median(times) if times else None

    def get_costs(self, space: str, archs: Iterable[str], num_classes: int, input_size: int) -> dict[str, CachedCost]:
        """Costs some pack holds for these architectures."""
        found: dict[str, CachedCost] = {}
        wanted = list(archs)
        for pack in self._for_space(space):
            stored = pack.costs.get((space, int(num_classes), int(input_size)))
            if stored:
                for arch in wanted:
                    if arch not in found and arch in stored:
                        found[arch] = stored[arch]
        return found


def layer_of(host: Any) -> PackLayer:
    """The packs every loaded plugin registered (``register_packs``), in name order."""
    return PackLayer([(entry.name, Path(entry.obj.path)) for entry in host.packs])


@contextmanager
def _open(path: str | Path) -> Iterator[IO[str]]:
    """A text stream of a pack file (gzip when its name ends in ``.gz``)."""
    path = Path(path)
    if not path.is_file():
        raise PackError(f"no such score pack: {path}; build it with `zsbench packs build`")
    if path.suffix != ".gz":
        with open(path, encoding="utf-8") as text:
            yield text
        return
    try:
        with gzip.open(path, "rt", encoding="utf-8") as text:
            yield text
    except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        # a pack cut short (an interrupted copy or download) or overwritten in part
        raise PackError(
            f"score pack {path} is damaged ({describe_error(exc)}); reinstall the package that ships it, "
            "or rebuild it with `zsbench packs build`"
        ) from None


def _check_header(path: str | Path, line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != PACK_FORMAT:
        raise PackError(f"{path} is not a zsbench score pack (no pack header); write one with `zsbench packs build`")
    if header.get("pack_format") != PACK_FORMAT_VERSION:
        raise PackError(
            f"{path} is a score pack of format {header.get('pack_format')}, this zsbench reads format {PACK_FORMAT_VERSION}; "
            "update zsbench or rebuild the pack"
        )
    return header


__all__ = ["Pack", "PackError", "PackLayer", "load_pack", "read_header", "write_pack"]
