"""Writing output files safely: whole or not at all, never through a symlink.

Every output edscan writes (reports, converted captures, bundles, batch pages, personas,
declaration templates, letters) goes through ``write_atomic``: the bytes go to a temporary file
in the target's own folder, are flushed to disk, and the temporary file is renamed over the
target. A kill or a full disk mid-write leaves the old file or the new one, never half of one,
and a target that is a symlink is replaced by the new file rather than written through (so a
link planted at ``-o report.html`` cannot redirect the write elsewhere).

Files holding unredacted values (``--reveal`` output, captures, personas) are ``private``:
created 0600, whatever the umask; a folder edscan creates for them is 0700.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from edscan.errors import EdscanError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def public_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file."""
    return 0o666 & ~_umask()


def make_dir(path: str | os.PathLike[str], *, private: bool = False) -> Path:
    """Create ``path`` (and its parents) if missing; 0700 when it is to hold private files.

    Only folders created here get the private mode: an existing folder is the user's choice.
    """
    folder = Path(path)
    try:
        missing = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if private and missing:
            os.chmod(folder, PRIVATE_DIR)
    except OSError as exc:
        raise EdscanError(f"cannot create {folder}: {exc.strerror or exc}") from None
    return folder


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, private: bool = False) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` when the block ends without an exception.

    On any exception (including ``KeyboardInterrupt``) the temporary file is removed and the
    old ``path``, if any, is left as it was. ``OSError`` is raised as is: callers word it.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600; a public output gets the mode open() would have given it
        os.fchmod(fd, PRIVATE_FILE if private else public_mode())
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)  # replaces a symlink itself, never its target
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, private: bool = False) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` whole or not at all.

    Raises ``EdscanError`` naming the file when it cannot be written.
    """
    target = Path(path)
    if target.is_dir() and not target.is_symlink():
        raise EdscanError(f"{target}: is a directory; give a file name")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with atomic_writer(target, private=private) as fh:
            fh.write(raw)
    except OSError as exc:
        raise EdscanError(f"cannot write {target}: {exc.strerror or exc}") from None


def open_private_stream(path: str | os.PathLike[str]) -> IO[bytes]:
    """Create (or truncate) ``path`` 0600 for a file written as it goes (a live capture).

    A capture is appended flow by flow, so it cannot be renamed into place at the end; a
    symlink at ``path`` is removed first and the file is opened with ``O_NOFOLLOW`` so the
    write never goes through a link.
    """
    target = Path(path)
    if target.is_symlink():
        target.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(fd, "wb")
