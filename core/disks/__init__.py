"""Managed disks: sparse raw images with changed-block tracking and per-disk write locks.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
    from core.disks.cbt import ChangeSet
    from core.disks.fileio import BLOCK_SIZE, fsync_path
    from core.disks.managed import Disks
    from core.disks.records import Disk
    from core.disks.rules import (
        SKUS,
        DiskCopyFacts,
        DiskPlacement,
        SkuFacts,
        VmDisks,
        attachment_problems,
        disk_copy_problems,
        listed_once_problems,
        sku_problems,
    )

_WHERE = {
    "BLOCK_SIZE": "core.disks.fileio",
    "ChangeSet": "core.disks.cbt",
    "Disk": "core.disks.records",
    "Disks": "core.disks.managed",
    "DiskCopyFacts": "core.disks.rules",
    "DiskPlacement": "core.disks.rules",
    "SKUS": "core.disks.rules",
    "SkuFacts": "core.disks.rules",
    "VmDisks": "core.disks.rules",
    "attachment_problems": "core.disks.rules",
    "disk_copy_problems": "core.disks.rules",
    "listed_once_problems": "core.disks.rules",
    "sku_problems": "core.disks.rules",
    "fsync_path": "core.disks.fileio",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "BLOCK_SIZE",
    "ChangeSet",
    "Disk",
    "Disks",
    "DiskCopyFacts",
    "DiskPlacement",
    "SKUS",
    "SkuFacts",
    "VmDisks",
    "attachment_problems",
    "disk_copy_problems",
    "listed_once_problems",
    "sku_problems",
    "fsync_path",
]
