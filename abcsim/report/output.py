"""Report files on disk: checked before the work, then whole or not at all.

``abcsim report week.results.parquet --html week.html --png charts/`` reads
50 million rows before it draws anything, so a mistyped path is caught first
(:func:`check_file`, :func:`check_folder`), and a report is written to a
hidden temporary file beside its target and renamed into place
(:func:`write_whole`, the same :func:`~abcsim.parquet_stream.publish` the
Parquet and CSV writers use): a crash or Ctrl-C halfway never leaves half a
page where yesterday's whole one was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from abcsim.errors import AbcsimError
from abcsim.parquet_stream import publish


def check_file(path: str | Path) -> Path:
    """``path`` as a file that can be written: its folder exists and it is no folder."""
    out = Path(path)
    if out.is_dir():
        raise AbcsimError(f"{out}: is a folder, not a file to write")
    folder = out.parent
    if not folder.is_dir():
        raise AbcsimError(f"{out}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise AbcsimError(f"{out}: folder {str(folder)!r} is not writable")
    return out


def check_folder(path: str | Path, *, make: bool = True) -> Path:
    """``path`` as a folder to write into, made (with its parents) if missing.

    ``make=False`` only checks that it could be made, leaving nothing on disk
    (the CLI checks before the work and makes it after).
    """
    folder = Path(path)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        what = "" if existing == folder else f" ({str(existing)!r} is a file)"
        raise AbcsimError(f"{folder}: is a file, not a folder{what}")
    if not os.access(existing, os.W_OK):
        raise AbcsimError(f"{folder}: folder {str(existing)!r} is not writable")
    if make:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AbcsimError(f"{folder}: cannot make the folder: {exc.strerror}") from None
    return folder


def write_whole(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    out = check_file(path)
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    except OSError as exc:
        raise AbcsimError(f"{out}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        publish(temp, out)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise AbcsimError(f"{out}: cannot write: {exc.strerror or exc}") from None
        raise
    return out
