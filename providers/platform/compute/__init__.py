"""The compute resource types of the embedded platform (issue: compute provider).

One module per resource type family; each exposes ``TYPES``, a list of ``ResourceType``
instances, gathered here for ``providers.platform.provider``.
"""

from __future__ import annotations

from providers.platform.compute import (
    access,
    collections,
    disks,
    groups,
    restore_points,
    vm_restore,
    vms,
)
from providers.platform.frame import ResourceType

TYPES: list[ResourceType] = [
    *groups.TYPES,
    *disks.TYPES,
    *vms.TYPES,
    *collections.TYPES,
    *restore_points.TYPES,
    *access.TYPES,
    *vm_restore.TYPES,
]
