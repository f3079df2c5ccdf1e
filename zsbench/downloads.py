"""Benchmark files that may not ship inside a package: where to fetch them, and fetching them safely.

A benchmark whose table has no licence that allows redistribution declares its files as
:class:`DataFile` entries (``Benchmark.data_files``): the path under the data root, the
public URL (pinned to a commit) and the sha256 of the exact bytes. ``zsbench data download
GROUP`` fetches every file of that group with :func:`fetch_data_files`:

- each file is streamed into a temporary file next to its target and its sha256 computed on
  the way; only a file whose checksum matches is moved into place (``os.replace``, atomic),
  so a failed, interrupted or corrupted download never leaves a partial file under the data
  root (nor a folder it created for it);
- a file already there with the right checksum is not fetched again; one with another
  checksum is replaced;
- ``source`` fetches the same file names from another place (a mirror, a local copy: an
  ``http(s)://`` or ``file://`` URL or a folder), still checked against the pinned sha256.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zsbench.errors import ZsbenchError

__all__ = ["DataFile", "DownloadError", "fetch_data_files", "file_sha256"]

CHUNK = 1 << 20


class DownloadError(ZsbenchError):
    """A file could not be fetched, or its bytes are not the pinned ones."""

    exit_code = 1


@dataclass(frozen=True)
class DataFile:
    """A file a benchmark reads from the data root, and where it comes from.

    Attributes:
        group: the name ``zsbench data download`` takes (several files, several benchmarks
            may share one).
        path: where it lives under the data root, ``/``-separated (``channel_bench_macro/Results_ResNet.json``).
        url: the public URL of the exact bytes (pinned to a commit).
        sha256: hex digest of those bytes.
    """

    group: str
    path: str
    url: str
    sha256: str

    @property
    def name(self) -> str:
        """The file's name (the last part of :attr:`path`)."""
        return PurePosixPath(self.path).name

    def target(self, data_root: Path) -> Path:
        """Its path under ``data_root``."""
        return data_root.joinpath(*PurePosixPath(self.path).parts)

    def source_url(self, source: str | None) -> str:
        """:attr:`url`, or the file's name under ``source`` (a URL or a local folder)."""
        if not source:
            return self.url
        if "://" not in source:
            return Path(source).expanduser().resolve().joinpath(self.name).as_uri()
        return source.rstrip("/") + "/" + urllib.parse.quote(self.name)


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_data_files(
    files: Iterable[DataFile],
    data_root: Path,
    *,
    source: str | None = None,
    report: Callable[[str], None] | None = None,
    timeout: float = 60.0,
) -> list[Path]:
    """Fetch ``files`` under ``data_root`` (see the module docstring), one after the other.

    Args:
        files: what to fetch.
        data_root: the data root.
        source: fetch the files' names from here instead of their URLs (mirror, local copy).
        report: called with one line per file (what was done).
        timeout: seconds to wait for a server's answer.

    Returns:
        The paths of the files, all present and verified.

    Raises:
        DownloadError: a file could not be fetched (the URL and the reason) or its sha256 is not
            the pinned one (both digests); the files fetched before it stay, verified.
    """
    say = report or (lambda line: None)
    done: list[Path] = []
    for item in files:
        target = item.target(data_root)
        if target.is_file() and file_sha256(target) == item.sha256:
            say(f"{item.path}: already there (sha256 verified)")
            done.append(target)
            continue
        replacing = target.is_file()
        url = item.source_url(source)
        created = _missing_parents(target.parent, data_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            size = _fetch_verified(url, target, item.sha256, timeout)
        except BaseException:
            for folder in created:  # deepest first: only the folders this call made, and only if empty
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
        say(f"{item.path}: {'replaced' if replacing else 'fetched'} from {url} ({size:,} bytes, sha256 verified)")
        done.append(target)
    return done


def _missing_parents(folder: Path, data_root: Path) -> list[Path]:
    """The folders from ``folder`` up to (not including) ``data_root``'s parent that do not exist, deepest first."""
    missing = []
    for candidate in [folder, *folder.parents]:
        if candidate.exists():
            break
        missing.append(candidate)
        if candidate == data_root:
            break
    return missing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fetch_verified(url: str, target: Path, sha256: str, timeout: float) -> int:
    """Stream ``url`` into a temporary file beside ``target``; move it into place only if its sha256 is ``sha256``."""
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".partial", delete=False)
    partial = Path(handle.name)
    try:
        with handle:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for chunk in iter(lambda: response.read(CHUNK), b""):
                        digest.update(chunk)
                        handle.write(chunk)
                        size += len(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise DownloadError(f"could not fetch {url}: {reason}; check the address or the connection and try again") from None
        if digest.hexdigest() != sha256:
            raise DownloadError(
                f"{url}: sha256 {digest.hexdigest()} is not the pinned {sha256} ({size:,} bytes); "
                f"not written: fetch it from the pinned source, or check the mirror's copy"
            )
        os.chmod(partial, 0o666 & ~_umask())  # the temporary file is private; the data file is not
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return size
