"""The platform rules as pure functions: each test names its rule id and calls the function on
typed facts alone (no fabric, no files), and the core's apply-time check raises the same text."""

from __future__ import annotations

import pytest

from core.access import MAX_DURATION_SECONDS, GrantFacts, grant_problems
from core.disks import (
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
from core.errors import CoreError
from core.problems import enforce
from core.restorepoints import (
    CopyFacts,
    DiskFacts,
    DiskRestoreFacts,
    RestoreRegionFacts,
    copy_problems,
    disk_problems,
    disk_restore_problems,
    restore_region_problems,
)

RP = (
    "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/restorePointCollections/c"
    "/restorePoints/rp1"
)


def test_rp5_rp6_disk_problems_name_the_rule_and_the_disk() -> None:
    facts = {"d": DiskFacts("d", "scratch", sku="UltraSSD_LRS")}
    got = disk_problems("os", ["d"], ["nope"], facts)
    assert [(p.rule, p.about) for p in got] == [("RP-5", "nope"), ("RP-6", "d")]
    assert got[1].summary == "disk scratch is an ultra disk"
    assert disk_problems("os", ["d"], ["d"], facts) == []  # excluded: captured without it


def test_rp8_disk_restore_point_of_the_disks_subscription_and_region() -> None:
    drp = RP + "/diskRestorePoints/os"
    ok = DiskRestoreFacts(drp, "s", True, "eastus", "S", "East US")
    assert disk_restore_problems(ok) == []
    cases = [
        (DiskRestoreFacts("/nope", None, False, None, "s", "eastus"), "is not a disk restore"),
        (DiskRestoreFacts(drp, "s", True, "eastus", "t", "eastus"), "belongs to subscription s"),
        (DiskRestoreFacts(drp, "s", False, None, "s", "eastus"), "does not exist"),
        (DiskRestoreFacts(drp, "s", True, "eastus", "s", "westus"), "the disk in westus"),
    ]
    for facts, summary in cases:
        (p,) = disk_restore_problems(facts)  # one at a time: each needs the one before
        assert p.rule == "RP-8" and summary in p.summary and not p.cited
    (p,) = disk_restore_problems(cases[3][0])
    assert "copy the restore point to a collection in westus" in p.fix
    # a planned restore point whose region is not known yet is not checked for it
    assert disk_restore_problems(DiskRestoreFacts(drp, "s", True, None, "s", "westus")) == []


def test_disk1_sku_is_one_of_the_list() -> None:
    assert all(sku_problems(SkuFacts("d", sku)) == [] for sku in SKUS)
    (p,) = sku_problems(SkuFacts("d", "Fast"))
    assert p.rule == "DISK-1" and p.summary.startswith("disk 'd': sku 'Fast' is not one of")
    with pytest.raises(CoreError, match="is not one of Standard_LRS"):
        enforce([p])


def test_disk2_a_disk_is_copied_within_its_region() -> None:
    assert disk_copy_problems(DiskCopyFacts("d", "eastus", "East US")) == []
    assert disk_copy_problems(DiskCopyFacts("d", None, "westus")) == []  # not known yet
    (p,) = disk_copy_problems(DiskCopyFacts("d", "eastus", "westus"))
    assert p.rule == "DISK-2" and p.summary == "disk d is in eastus, the copy in westus"


def _vm(*disks: DiskPlacement, os: str = "os", data: tuple[str, ...] = ("data",)) -> VmDisks:
    return VmDisks("web", "eastus", "s", os, data, {d.id.lower(): d for d in disks})


def test_vm1_vm2_a_vms_disks_exist_and_are_named_once() -> None:
    os = DiskPlacement("os", "web-os", "eastus", "s", False)
    (p,) = attachment_problems(_vm(os))
    assert (p.rule, p.about, p.summary) == ("VM-1", "data", "Disk data does not exist")
    (p,) = attachment_problems(_vm(os, data=("OS",)))
    assert (p.rule, p.summary, p.fix) == (
        "VM-2",
        "Disk OS is attached twice",
        "list each disk once",
    )
    assert [p.rule for p in listed_once_problems("a", ["b", "A", "b"])] == ["VM-2", "VM-2"]
    assert listed_once_problems(None, ["a", "b"]) == []


def test_vm3_vm4_a_vms_disks_are_in_its_region_and_subscription() -> None:
    os = DiskPlacement("os", "web-os", "East US", "S", False)
    data = DiskPlacement("data", "web-data", "westus", "t", False)
    got = attachment_problems(_vm(os, data))
    assert [(p.rule, p.about) for p in got] == [("VM-3", "data"), ("VM-4", "data")]
    assert got[0].summary == "Disk 'web-data' is in another region than VM 'web'"
    assert "VM 'web' in eastus: a VM's disks must be in its location" in got[0].fix
    assert got[1].summary == "Disk 'web-data' is in another subscription than VM 'web'"
    # values not known yet (a planned disk's location) are not checked
    unknown = DiskPlacement("data", "web-data", None, None, False)
    assert attachment_problems(_vm(os, unknown)) == []


def test_vm5_a_disk_is_attached_to_one_vm_unless_shared() -> None:
    os = DiskPlacement("os", "web-os", "eastus", "s", False, attached_to="/vms/other")
    (p,) = attachment_problems(_vm(os, data=()))
    assert p.rule == "VM-5" and p.summary == "Disk 'web-os' is attached to another VM"
    assert "attached to /vms/other already" in p.fix and "unless it is shared" in p.fix
    shared = DiskPlacement("os", "web-os", "eastus", "s", True, attached_to="/vms/other")
    assert attachment_problems(_vm(shared, data=())) == []
    with pytest.raises(CoreError, match="^VM web: Disk 'web-os' is attached to another VM; "):
        enforce(attachment_problems(_vm(os, data=())), "VM web")


def test_rp9_restore_region_is_the_restore_points_or_its_pair() -> None:
    assert restore_region_problems(RestoreRegionFacts(RP, "eastus", "eastus")) == []
    assert restore_region_problems(RestoreRegionFacts(RP, "eastus", "West US")) == []
    (p,) = restore_region_problems(RestoreRegionFacts(RP, "eastus", "northeurope"))
    assert p.rule == "RP-9" and p.cited
    assert p.summary == "target_location northeurope is neither eastus nor its paired region"
    assert "restore the VM in eastus or westus, or copy the restore point" in p.fix


def test_rp10_copy_goes_to_another_region_of_the_same_subscription() -> None:
    ok = CopyFacts(RP, "eastus", "s", "c2", "westus", "s")
    assert copy_problems(ok) == []
    (same,) = copy_problems(CopyFacts(RP, "eastus", "s", "c2", "East US", "S"))
    assert same.rule == "RP-10" and same.summary == f"restore point {RP} is in eastus already"
    (sub,) = copy_problems(CopyFacts(RP, "eastus", "s", "c2", "westus", "t"))
    assert sub.rule == "RP-10" and not sub.cited and "copy within one subscription" in sub.fix
    # a value not known yet (a planned collection) is not checked
    assert copy_problems(CopyFacts(RP, None, None, "c2", "eastus", None)) == []


@pytest.mark.parametrize(
    "duration, why",
    [(0, "must be positive"), (1.5, "whole number"), (True, "whole number"), ("60", "whole")],
)
def test_rp12_grant_duration_is_a_whole_number_of_seconds(duration: object, why: str) -> None:
    (p,) = grant_problems(GrantFacts(duration))
    assert p.rule == "RP-12" and why in p.fix


def test_rp12_grant_duration_is_at_most_one_day() -> None:
    assert grant_problems(GrantFacts(MAX_DURATION_SECONDS)) == []
    assert grant_problems(GrantFacts(600.0)) == []
    (p,) = grant_problems(GrantFacts(MAX_DURATION_SECONDS + 1))
    assert p.summary == "duration_seconds = 86401 is not allowed" and "86400" in p.fix


def test_enforce_raises_the_first_problem_in_the_cores_words() -> None:
    enforce([])
    problems = restore_region_problems(RestoreRegionFacts(RP, "eastus", "northeurope"))
    with pytest.raises(CoreError, match="^VM web: target_location northeurope is neither"):
        enforce(problems, "VM web")
