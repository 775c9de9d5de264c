"""The parse cache: each spec file's decoded ``FileParts``, pickled, keyed by its bytes.

Entries live under ``<dir>/.bcdr/cache/hcl``, named by an xxh3-128 of ``CACHE_VERSION``,
the file name and the file's bytes, so an edited file, a renamed one or a new format
never meets an old entry. Always holds: the cache only saves time, never changes a
result: an unreadable, corrupt or foreign entry reads as a miss, a failed write (a
read-only directory) is ignored, and writes are atomic (temp file, then rename).
"""

from __future__ import annotations

import gc
import os
import pickle
import tempfile
import time
from pathlib import Path

import xxhash

from engine.configmodel import FileParts

# Bump whenever a cached class moves or changes, so old entries are never unpickled into
# the new classes: the version is part of every key, and unused entries are pruned.
CACHE_VERSION = "bcdr-hcl-17"


def cache_key(data: bytes, filename: str) -> str:
    """The entry name's hash for a file's bytes under its name and this cache version."""
    h = xxhash.xxh3_128()
    h.update(CACHE_VERSION.encode())
    h.update(b"\0" + filename.encode() + b"\0")
    h.update(data)
    return h.hexdigest()


def read_cache(path: Path) -> FileParts | None:
    """The entry at ``path``, or None for a miss (absent, corrupt or foreign)."""
    # Unpickling builds many small long-lived objects; the cyclic GC would scan them again
    # and again (two thirds of the load time). Pause it, then freeze what was built so
    # later collections skip it (refcounting still frees it).
    enabled = gc.isenabled()
    gc.disable()
    try:
        with path.open("rb") as f:
            value = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception:  # a corrupt or foreign entry: parse again  # noqa: BLE001
        return None
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return value if isinstance(value, FileParts) else None


def write_cache(path: Path, parts: FileParts) -> None:
    """Store ``parts`` at ``path`` atomically; a failure only loses the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(parts, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only directory only loses the cache


def cache_dir(directory: Path) -> Path:
    """Where a spec directory's parse cache lives."""
    return Path(directory) / ".bcdr" / "cache" / "hcl"


def prune_cache(cache: Path, keep: set[str], min_age: float = 60.0) -> None:
    """Remove entries no current file uses (old versions), once they are a minute old."""
    now = time.time()
    try:
        entries = list(os.scandir(cache))
    except OSError:
        return
    for entry in entries:
        if entry.name in keep:
            continue
        try:
            if now - entry.stat().st_mtime >= min_age:
                os.unlink(entry.path)
        except OSError:
            pass  # another process got there first
