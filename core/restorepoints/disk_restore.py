"""A managed disk created from a disk restore point (``create_option = "Restore"``, rule RP-8).

Unlike a VM restore, which may restore disks in the restore point's paired region (RP-9), a
managed disk comes from a disk restore point of its own subscription, in the restore point's
region; a disk elsewhere comes from a restore point copied there first (RP-10). Always holds:
the rule is the plan's own function (``rules.disk_restore_problems``), enforced before
anything is written; the disk itself is made by ``RestorePoints.restore_disk``.
"""

from __future__ import annotations

from core.disks.records import Disk
from core.errors import CoreError, NotFound
from core.fabric.home import ResourceId
from core.problems import enforce
from core.progress import Progress
from core.restorepoints.rules import DiskRestoreFacts, disk_restore_problems
from core.restorepoints.service import RestorePoints

# the types of a disk restore point id, from its collection down (compared lower-cased)
DRP_FORM = ["restorepointcollections", "restorepoints", "diskrestorepoints"]


def disk_restore_facts(
    points: RestorePoints, disk_restore_point_id: str, subscription: str, region: str
) -> DiskRestoreFacts:
    """What rule RP-8 needs, from the core: the id's form and subscription, whether the disk
    restore point exists and its restore point's region."""
    try:
        rid: ResourceId | None = ResourceId.parse(disk_restore_point_id)
    except CoreError:
        rid = None
    kinds = [rid.type, *(k for k, _ in rid.children)] if rid is not None else []
    sub = rid.subscription if rid and [k.lower() for k in kinds] == DRP_FORM else None
    try:
        drp = points.get_disk_restore_point(disk_restore_point_id)
        rp_region: str | None = points.get(drp.restore_point_id).region
    except NotFound:
        rp_region = None
    return DiskRestoreFacts(
        disk_restore_point_id,
        sub,
        rp_region is not None,
        rp_region,
        subscription,
        points.fabric.check_region(region),
    )


def restore_managed_disk(
    points: RestorePoints,
    disk_restore_point_id: str,
    *,
    subscription: str,
    resource_group: str,
    region: str,
    name: str,
    progress: Progress | None = None,
) -> Disk:
    """The new disk, byte-identical to the disk restore point, once RP-8 holds."""
    facts = disk_restore_facts(points, disk_restore_point_id, subscription, region)
    enforce(disk_restore_problems(facts))  # RP-8, the function plans call too
    return points.restore_disk(
        disk_restore_point_id,
        subscription=subscription,
        resource_group=resource_group,
        region=region,
        name=name,
        progress=progress,
    )
