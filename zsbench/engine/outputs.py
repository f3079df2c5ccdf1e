"""Output files checked before any work starts, so a run of hours does not end in an unwritable path.

:func:`check_output` is called by the commands that write a file (``evaluate --output``,
``packs build --output``, ``cache export FILE``) before they score anything: a missing folder
is created, and a folder that cannot be created, a file where a folder should be, a folder
where the file should be or a place without write permission is a one-line
:class:`OutputPathError` naming the path and what to do.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from zsbench.errors import UsageError


class OutputPathError(UsageError):
    """An output path that cannot be written."""


def check_output(path: str | Path, option: str = "--output") -> Path:
    """Make sure ``path`` can be written, creating its missing folders; return it.

    Nothing is written to ``path`` itself: an existing file is opened for appending (which
    changes neither its bytes nor its times) and closed again, a new one is probed with a
    temporary file beside it that is deleted at once.

    Raises:
        OutputPathError: the path cannot be written (the message names it, the reason and the fix).
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputPathError(f"{option} {target} is a folder; give a file name inside it")
    folder = target.parent
    blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputPathError(
            f"{option} {target}: {blocker} is a file, not a folder; move it away or choose another {option}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(
            f"{option} {target}: cannot create the folder {folder} ({exc.strerror or exc}); choose a writable place"
        ) from None
    try:
        if target.exists():
            with open(target, "ab"):
                pass
        else:
            probe, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".probe")
            os.close(probe)
            os.unlink(name)
    except OSError as exc:
        raise OutputPathError(
            f"{option} {target}: cannot write there ({exc.strerror or exc}); choose a writable place or fix the "
            "permissions"
        ) from None
    return target
