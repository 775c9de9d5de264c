"""The rules of a managed disk and of a VM's disks, as pure functions of typed facts.

``../shared/RULES.md`` gives these no id; they are the platform's own, named here: DISK-1
(the SKU list), DISK-2 (a disk is copied within its region) and VM-1 to VM-5 (what disks a
VM may attach). Each function returns the ``Problem`` list, empty when the rule holds; the
provider turns the problems into plan diagnostics (``providers.platform.rules``) and the
apply-time code raises on them (``core.problems.enforce``) before it writes anything.
Always holds: no function here does I/O; a value the caller does not know yet (planned in
this run, known only at apply) is None and is not checked; region names compare by
``region_key`` and ids and subscriptions without case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.fabric.regions import region_key
from core.problems import Problem

SKUS = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "PremiumV2_LRS", "UltraSSD_LRS")


@dataclass(frozen=True)
class SkuFacts:
    """A disk's name and the SKU asked for it."""

    name: str
    sku: object


def sku_problems(facts: SkuFacts) -> list[Problem]:
    """DISK-1: a disk's SKU is one of ``SKUS`` (pure)."""
    # rule DISK-1: a managed disk's sku is one of SKUS
    if facts.sku in SKUS:
        return []
    return [
        Problem(
            "DISK-1",
            f"disk {facts.name!r}: sku {facts.sku!r} is not one of {', '.join(SKUS)}",
            "give one of them",
            about="sku",
            cited=False,
        )
    ]


@dataclass(frozen=True)
class DiskCopyFacts:
    """A disk copied from another: the source's id and region, and the copy's region."""

    source_id: str
    region: str | None  # the source's; None when not known yet
    target_region: str


def disk_copy_problems(facts: DiskCopyFacts) -> list[Problem]:
    """DISK-2: a disk is copied within its region (pure)."""
    region, target = facts.region, facts.target_region
    # rule DISK-2: a disk is copied within its region; elsewhere, restore a copied restore point
    if region is None or region_key(region) == region_key(target):
        return []
    return [
        Problem(
            "DISK-2",
            f"disk {facts.source_id} is in {region}, the copy in {target}",
            "copy a disk within its region, or restore it elsewhere from a copied restore point",
            about=facts.source_id,
            cited=False,
        )
    ]


@dataclass(frozen=True)
class DiskPlacement:
    """What the VM rules need of one disk a VM names; None where not known yet."""

    id: str
    name: str
    region: str | None
    subscription: str | None
    shared: bool
    attached_to: str | None = None  # the first other VM that attaches it, if any


@dataclass(frozen=True)
class VmDisks:
    """The disks a VM names, where it is, and what each disk is (by lower-cased id).

    A disk missing from ``disks`` exists neither planned nor on the platform; ``os_disk_id``
    is None when it is not known yet, and ``data_disk_ids`` holds only the known ones.
    """

    vm_name: str
    region: str | None
    subscription: str | None
    os_disk_id: str | None
    data_disk_ids: Sequence[str]
    disks: Mapping[str, DiskPlacement]


def listed_once_problems(os_disk_id: str | None, data_disk_ids: Sequence[str]) -> list[Problem]:
    """VM-2: a VM names each disk once, its OS disk and data disks together (pure).

    ``about`` is the disk id; the repeat is always among the data disks.
    """
    out: list[Problem] = []
    seen: set[str] = set()
    for disk_id in [d for d in [os_disk_id, *data_disk_ids] if d is not None]:
        # rule VM-2: a VM names each disk once (OS disk and data disks together)
        if disk_id.lower() in seen:
            out.append(
                Problem(
                    "VM-2",
                    f"Disk {disk_id} is attached twice",
                    "list each disk once",
                    about=disk_id,
                    cited=False,
                )
            )
        seen.add(disk_id.lower())
    return out


def attachment_problems(vm: VmDisks) -> list[Problem]:
    """VM-1 to VM-5: every problem of the disks ``vm`` names (pure).

    A disk exists (VM-1), is named once (VM-2), is in the VM's region (VM-3) and subscription
    (VM-4), and is attached to no other VM unless it is shared (VM-5). ``about`` is the disk id.
    """
    out: list[Problem] = []
    repeats = {p.about.lower(): p for p in listed_once_problems(vm.os_disk_id, vm.data_disk_ids)}
    seen: set[str] = set()
    name = vm.vm_name
    for disk_id in [d for d in [vm.os_disk_id, *vm.data_disk_ids] if d is not None]:
        if disk_id.lower() in seen:
            out.append(repeats[disk_id.lower()])
            continue
        seen.add(disk_id.lower())
        disk = vm.disks.get(disk_id.lower())
        # rule VM-1: every disk a VM names exists (planned in this run or on the platform)
        if disk is None:
            out.append(
                Problem(
                    "VM-1",
                    f"Disk {disk_id} does not exist",
                    f"VM {name!r} names disk {disk_id}, which is neither planned nor on the "
                    "platform: check the id, or declare the disk (managed_disk) and refer to "
                    "its id",
                    about=disk_id,
                    cited=False,
                )
            )
            continue
        region, location = disk.region, vm.region
        # rule VM-3: a VM's disks are in its region
        if region is not None and location is not None:
            if region_key(region) != region_key(location):
                out.append(
                    Problem(
                        "VM-3",
                        f"Disk {disk.name!r} is in another region than VM {name!r}",
                        f"disk {disk_id} is in {region}, VM {name!r} in {location}: a VM's "
                        f"disks must be in its location; create the disk in {location}",
                        about=disk_id,
                        cited=False,
                    )
                )
        dsub, sub = disk.subscription, vm.subscription
        # rule VM-4: a VM's disks are in its subscription
        if dsub is not None and sub is not None and dsub.lower() != sub.lower():
            out.append(
                Problem(
                    "VM-4",
                    f"Disk {disk.name!r} is in another subscription than VM {name!r}",
                    f"disk {disk_id} is in subscription {dsub}, VM {name!r} in {sub}: a VM's "
                    "disks must be in its subscription",
                    about=disk_id,
                    cited=False,
                )
            )
        # rule VM-5: a disk is attached to one VM only unless it is shared
        if not disk.shared and disk.attached_to is not None:
            out.append(
                Problem(
                    "VM-5",
                    f"Disk {disk.name!r} is attached to another VM",
                    f"disk {disk_id} is attached to {disk.attached_to} already; a disk can be "
                    "attached to one VM only unless it is shared (shared = true on the "
                    "managed_disk)",
                    about=disk_id,
                    cited=False,
                )
            )
    return out
