"""The managed disks' records: the ``disks`` table of ``fabric.db`` and the ``Disk`` row.

Used by ``core/disks/managed.py``. Always holds: a disk's path is stored relative to the fabric's
home (so a home can be moved) and made absolute on reading; a new disk's record is checked
before anything is written (its name and resource group, region, subscription, sku by rule
DISK-1 of ``core/disks/rules.py``, and a positive size in bytes), and its file is
``disks_dir/<resource group>/<name>.img``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from core.disks.fileio import BLOCK_SIZE
from core.disks.rules import SkuFacts, sku_problems
from core.errors import CoreError
from core.fabric.home import Fabric, ResourceId, check_name
from core.problems import enforce


@dataclass
class Disk:
    id: str
    name: str
    region: str
    subscription: str
    resource_group: str
    path: Path
    size_bytes: int
    sku: str
    shared: bool
    ephemeral: bool
    encryption_set_id: str | None = None

    @property
    def blocks(self) -> int:
        return -(-self.size_bytes // BLOCK_SIZE)


@dataclass(frozen=True)
class DiskFile:
    """What the disk's file says now: its size, the bytes it really occupies, its mtime."""

    size_bytes: int
    allocated_bytes: int
    modified_ns: int


def new_disk(
    fabric: Fabric,
    subscription: str,
    resource_group: str,
    region: str,
    name: str,
    size: int,
    sku: str,
) -> Disk:
    """The record of a new disk, its name, region, subscription, sku and size checked."""
    check_name(name, "disk")
    check_name(resource_group, "resource group")
    region = fabric.check_region(region)
    subscription = fabric.check_subscription(subscription)
    enforce(sku_problems(SkuFacts(name, sku)))  # DISK-1, the function plans use too
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise CoreError(f"disk {name!r}: size {size!r} must be a positive number of bytes")
    rid = ResourceId(subscription, resource_group, "Microsoft.Compute", "disks", name)
    path = fabric.disks_dir(region, subscription) / resource_group / f"{name}.img"
    return Disk(str(rid), name, region, subscription, resource_group, path, size, sku, False, False)


def disk_from_row(row: sqlite3.Row, home: Path) -> Disk:
    return Disk(
        id=row["id"],
        name=row["name"],
        region=row["region"],
        subscription=row["subscription"],
        resource_group=row["resource_group"],
        path=home / row["path"],
        size_bytes=row["size_bytes"],
        sku=row["sku"],
        shared=bool(row["shared"]),
        ephemeral=bool(row["ephemeral"]),
        encryption_set_id=row["encryption_set_id"],
    )
