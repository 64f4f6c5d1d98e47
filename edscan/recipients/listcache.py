"""A compiled cache of the bundled lists and the PSL, parsed, keyed by their content hash.

Parsing the three bundled TOML files is most of what loading the attribution database costs a
one-request scan (~50 ms); the parsed data, written with ``marshal``, loads in about a
millisecond. The key is the sha256 of the file's bytes with the marshal format and Python
version, so a changed list (an edscan upgrade, an edited checkout) gets a new entry and a stale
one is never read. The cache lives in ``<data dir>/cache/`` (0700, files 0600, written to a
temporary name and renamed so a reader never sees half a file). Anything unreadable, corrupt or
of the wrong shape is ignored and rebuilt: the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
import tempfile
from hashlib import sha256
from pathlib import Path
from typing import Any

CACHE_DIR = "cache"
_FORMAT = f"edscan-lists-2/marshal-{marshal.version}/py{sys.version_info[0]}.{sys.version_info[1]}"


def cache_key(raw: bytes) -> str:
    return sha256(_FORMAT.encode() + b"\0" + raw).hexdigest()


def cache_path(base: Path, raw: bytes) -> Path:
    return base / CACHE_DIR / f"list-{cache_key(raw)[:40]}.marshal"


def read_cached(base: Path, raw: bytes) -> dict[str, Any] | None:
    """The parsed data stored for ``raw``, or None (missing, unreadable, corrupt, other key)."""
    path = cache_path(base, raw)
    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if (
        not isinstance(stored, tuple)
        or len(stored) != 2
        or stored[0] != cache_key(raw)
        or not isinstance(stored[1], dict)
    ):
        return None
    return stored[1]


def write_cached(base: Path, raw: bytes, data: dict[str, Any]) -> None:
    """Store ``data`` for ``raw``; any failure (read-only data dir, odd types) is ignored."""
    try:
        payload = marshal.dumps((cache_key(raw), data))
    except ValueError:  # a TOML date or time: marshal cannot hold it, so no cache for that file
        return
    folder = base / CACHE_DIR
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".list-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:  # mkstemp creates the file 0600
                out.write(payload)
            os.replace(tmp, cache_path(base, raw))
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
