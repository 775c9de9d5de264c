"""The platform rules as pure functions: each test names its rule id and calls the function on
typed facts alone (no fabric, no files), and the core's apply-time check raises the same text."""

from __future__ import annotations

import pytest

from core.access import MAX_DURATION_SECONDS, GrantFacts, grant_problems
from core.errors import CoreError
from core.problems import enforce
from core.restorepoints import (
    CopyFacts,
    DiskFacts,
    RestoreRegionFacts,
    copy_problems,
    disk_problems,
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
