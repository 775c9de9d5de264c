"""Restore points: capture across disks, incremental manifests, restore, copy and estimates.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
    from core.restorepoints.copy import (
        CopyResult,
        MoveResult,
        copy_restore_point,
        move_restore_point,
    )
    from core.restorepoints.disk_restore import restore_managed_disk
    from core.restorepoints.estimate import (
        CBT,
        REKEYED,
        Estimate,
        copy_estimate,
        new_disk_estimate,
        snapshot_estimate,
    )
    from core.restorepoints.model import (
        Collection,
        DiskRestorePoint,
        HookSpec,
        RestorePoint,
        VmSource,
        vm_source_from_row,
    )
    from core.restorepoints.rules import (
        CopyFacts,
        DiskFacts,
        DiskRestoreFacts,
        RestoreRegionFacts,
        copy_problems,
        disk_problems,
        disk_restore_problems,
        restore_region_problems,
    )
    from core.restorepoints.service import RestorePoints

_WHERE = {
    "CBT": "core.restorepoints.estimate",
    "Collection": "core.restorepoints.model",
    "CopyFacts": "core.restorepoints.rules",
    "CopyResult": "core.restorepoints.copy",
    "MoveResult": "core.restorepoints.copy",
    "DiskFacts": "core.restorepoints.rules",
    "DiskRestoreFacts": "core.restorepoints.rules",
    "DiskRestorePoint": "core.restorepoints.model",
    "Estimate": "core.restorepoints.estimate",
    "HookSpec": "core.restorepoints.model",
    "REKEYED": "core.restorepoints.estimate",
    "RestorePoint": "core.restorepoints.model",
    "RestorePoints": "core.restorepoints.service",
    "RestoreRegionFacts": "core.restorepoints.rules",
    "VmSource": "core.restorepoints.model",
    "copy_estimate": "core.restorepoints.estimate",
    "copy_problems": "core.restorepoints.rules",
    "copy_restore_point": "core.restorepoints.copy",
    "disk_problems": "core.restorepoints.rules",
    "disk_restore_problems": "core.restorepoints.rules",
    "move_restore_point": "core.restorepoints.copy",
    "new_disk_estimate": "core.restorepoints.estimate",
    "restore_managed_disk": "core.restorepoints.disk_restore",
    "restore_region_problems": "core.restorepoints.rules",
    "snapshot_estimate": "core.restorepoints.estimate",
    "vm_source_from_row": "core.restorepoints.model",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "CBT",
    "Collection",
    "CopyFacts",
    "CopyResult",
    "MoveResult",
    "DiskFacts",
    "DiskRestoreFacts",
    "DiskRestorePoint",
    "Estimate",
    "HookSpec",
    "REKEYED",
    "RestorePoint",
    "RestorePoints",
    "RestoreRegionFacts",
    "VmSource",
    "copy_estimate",
    "copy_problems",
    "copy_restore_point",
    "disk_problems",
    "disk_restore_problems",
    "move_restore_point",
    "new_disk_estimate",
    "restore_managed_disk",
    "restore_region_problems",
    "snapshot_estimate",
    "vm_source_from_row",
]
