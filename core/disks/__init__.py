"""Managed disks: sparse raw images with changed-block tracking and per-disk write locks.

The names below are this package's API, the names callers outside it use; they are
imported from their modules on first use (PEP 562), so importing one module of the
package does not import them all. Modules of this package import from their sibling
modules, never from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.disks.cbt import ChangeSet
    from core.disks.fileio import BLOCK_SIZE, fsync_path
    from core.disks.managed import Disks
    from core.disks.records import SKUS, Disk

_WHERE = {
    "BLOCK_SIZE": "core.disks.fileio",
    "ChangeSet": "core.disks.cbt",
    "Disk": "core.disks.records",
    "Disks": "core.disks.managed",
    "SKUS": "core.disks.records",
    "fsync_path": "core.disks.fileio",
}


def __getattr__(name: str) -> Any:
    """The API's names, from their modules on first use (then cached in this module)."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "BLOCK_SIZE",
    "ChangeSet",
    "Disk",
    "Disks",
    "SKUS",
    "fsync_path",
]
