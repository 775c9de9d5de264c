"""The restore point rules as pure functions of typed facts: which disks a restore point may
capture (RP-5, RP-6), which disk restore point a managed disk may be created from (RP-8),
where a VM may be restored (RP-9), where a restore point may be copied (RP-10).

Each function takes plain values (planned ones at plan time, the platform's at apply) and
returns the ``Problem`` list, empty when the rule holds; the provider turns the problems into
plan diagnostics, the core raises on them (``core.problems.enforce``) before it writes
anything. Always holds: no function here does I/O; region names are compared by
``core.fabric.regions.region_key`` (case and spaces ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.fabric.regions import paired_region, region_key
from core.problems import Problem


@dataclass(frozen=True)
class DiskFacts:
    """What the RP-5/RP-6 checks need of a disk: plain values, so a plan can pass planned ones."""

    id: str
    name: str
    sku: str = "Standard_LRS"
    shared: bool = False
    ephemeral: bool = False


_UNSUPPORTED = {
    "ultra": ("an ultra disk", "ultra disks"),
    "ephemeral": ("an ephemeral OS disk", "ephemeral OS disks"),
    "shared": ("a shared disk", "shared disks"),
}


def disk_problems(
    os_disk_id: str,
    data_disk_ids: list[str],
    exclude: tuple[str, ...] | list[str],
    facts: dict[str, DiskFacts],
) -> list[Problem]:
    """Every RP-5/RP-6 problem of capturing a VM's disks minus ``exclude`` (pure: no I/O).

    ``facts`` maps a lower-cased disk id to its descriptor; a disk missing from it is not
    checked for RP-6 (the caller reports it as missing).
    """
    out: list[Problem] = []
    attached = {d.lower() for d in [os_disk_id, *data_disk_ids]}
    excluded = {e.lower() for e in exclude}  # rule RP-5
    for e in exclude:
        if e.lower() not in attached:
            out.append(
                Problem(
                    "RP-5",
                    f"exclude_disk_ids names {e}, which is not a disk of the VM",
                    "list only the VM's data disks in exclude_disk_ids",
                    about=e,
                )
            )
    if os_disk_id.lower() in excluded:
        out.append(
            Problem(
                "RP-5",
                f"the OS disk {os_disk_id} cannot be excluded from a restore point",
                "remove it from exclude_disk_ids",
                about=os_disk_id,
            )
        )
    ids = [os_disk_id] + [d for d in data_disk_ids if d.lower() not in excluded]
    for disk_id in ids:  # rule RP-6
        disk = facts.get(disk_id.lower())
        if disk is None:
            continue
        kind = (
            "ultra"
            if disk.sku == "UltraSSD_LRS"
            else "ephemeral"
            if disk.ephemeral
            else "shared"
            if disk.shared
            else None
        )
        if kind:
            why, plural = _UNSUPPORTED[kind]
            fix = (
                "the OS disk cannot be excluded, so this VM cannot have restore points"
                if disk_id.lower() == os_disk_id.lower()
                else "add it to exclude_disk_ids"
            )
            out.append(
                Problem(
                    "RP-6",
                    f"disk {disk.name} is {why}",
                    f"restore points do not support {plural} (disk {disk.id}): {fix}",
                    about=disk.id,
                )
            )
    return out


@dataclass(frozen=True)
class DiskRestoreFacts:
    """A managed disk created from a disk restore point; None where a value is not known."""

    disk_restore_point_id: str
    subscription: str | None  # from the id; None when the id is no disk restore point's
    exists: bool  # on the platform (or, at plan time, planned in this run)
    region: str | None  # the restore point's
    target_subscription: str  # the new disk's
    target_region: str


def disk_restore_problems(facts: DiskRestoreFacts) -> list[Problem]:
    """RP-8: a managed disk is created from an existing disk restore point of its own
    subscription, in the restore point's region (pure).

    At most one problem: each check needs the one before it to hold. A summary and its fix
    read as one sentence joined by a colon.
    """
    drp, sub, target = facts.disk_restore_point_id, facts.subscription, facts.target_subscription
    # rule RP-8: a managed disk is created from a disk restore point of its own subscription
    # in its own region; a disk in another region comes from a restore point copied there
    if sub is None:
        return [
            Problem(
                "RP-8",
                f"{drp!r} is not a disk restore point id",
                "use the id of a restore point's disk_restore_points entry "
                "({restore point id}/diskRestorePoints/{disk name})",
                about=drp,
                cited=False,
            )
        ]
    if sub.lower() != target.lower():
        return [
            Problem(
                "RP-8",
                f"disk restore point {drp} belongs to subscription {sub}, the disk to {target}",
                "a disk can be restored only within the restore point's subscription; set the "
                f"disk's subscription to {sub}",
                about=drp,
                cited=False,
            )
        ]
    if not facts.exists:
        return [
            Problem(
                "RP-8",
                f"disk restore point {drp} does not exist",
                "check the id, or create the restore point first",
                about=drp,
                cited=False,
            )
        ]
    region, where = facts.region, facts.target_region
    if region is not None and region_key(region) != region_key(where):
        return [
            Problem(
                "RP-8",
                f"disk restore point {drp} is in {region}, the disk in {where}",
                f"copy the restore point to a collection in {where} (restore_point with "
                "source_restore_point_id) and restore from the copy's disk restore point",
                about=drp,
                cited=False,
            )
        ]
    return []


@dataclass(frozen=True)
class RestoreRegionFacts:
    """Where a VM restore from a restore point would put the VM."""

    restore_point_id: str
    region: str  # the restore point's
    target_region: str  # as given


def restore_region_problems(facts: RestoreRegionFacts) -> list[Problem]:
    """RP-9: a VM is restored in the restore point's region or in its pair (pure)."""
    r, target = region_key(facts.region), facts.target_region
    pair = paired_region(r)
    # rule RP-9: a VM is restored in the restore point's region or in its pair
    if region_key(target) in (r, pair):
        return []
    where = f"{r} or {pair}" if pair else r
    return [
        Problem(
            "RP-9",
            f"target_location {target} is neither {r} nor its paired region",
            f"restore point {facts.restore_point_id} is in {r}; restore the VM in {where}, or "
            f"copy the restore point to a collection in {target} (restore_point with "
            "source_restore_point_id) and restore from the copy",
            about=target,
        )
    ]


@dataclass(frozen=True)
class CopyFacts:
    """A copy of a restore point into a collection; None where a value is not known yet."""

    restore_point_id: str
    region: str | None  # the source restore point's
    subscription: str | None
    collection_id: str
    target_region: str | None  # the target collection's
    target_subscription: str | None


def copy_problems(facts: CopyFacts) -> list[Problem]:
    """RP-10: a copy goes into a collection in another region, of the same subscription
    (the stores key block ids with the subscription's seed) (pure)."""
    out: list[Problem] = []
    region, target = facts.region, facts.target_region
    # rule RP-10: a copy goes into a collection in another region of the same subscription
    if region is not None and target is not None and region_key(region) == region_key(target):
        out.append(
            Problem(
                "RP-10",
                f"restore point {facts.restore_point_id} is in {region} already",
                f"a copy goes into a collection in another region; collection "
                f"{facts.collection_id} is in {target}: use a collection in the target region "
                "(for example the paired region)",
                about="region",
            )
        )
    ssub, tsub = facts.subscription, facts.target_subscription
    if ssub is not None and tsub is not None and ssub.lower() != tsub.lower():
        out.append(
            Problem(
                "RP-10",
                "The copy's collection is in another subscription",
                f"restore point {facts.restore_point_id} is in subscription {ssub}, the "
                f"collection in {tsub}: copy within one subscription",
                about="subscription",
                cited=False,  # not in RP-10's text: a plain error, as before
            )
        )
    return out
