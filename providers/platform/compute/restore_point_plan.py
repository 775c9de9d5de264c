"""What a restore point's plan checks and says, before anything is captured or copied.

A copy (``source_restore_point_id`` set) must go into a collection in another region of the
same subscription (rule RP-10) and says how many bytes it will move
(``core.restorepoints.estimate``); a
snapshot checks the source VM's disks with the core's own RP-5/RP-6 function, on existing or
planned descriptors, notes RP-11 (created in the collection's region) and a stopped VM
(crash-consistent), and says how many bytes it will store; ``check_snapshot_config`` runs the
same RP-5/RP-6 function at validate on what the configuration alone shows. Always holds:
planning writes nothing; every problem is a diagnostic on the restore point's address, never
an exception.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.fabric import region_key
from providers.platform.compute.facts import (
    CollectionFacts,
    ManagedDiskFacts,
    VmFacts,
    disk_facts,
    restore_point_facts,
    vm_facts,
)
from providers.platform.frame import PlatformSession, known, where
from providers.platform.rules import problem_diagnostic
from sdk import PlanRequest, PlanResponse, ValidateRequest
from sdk.diagnostics import Diagnostics, error
from sdk.units import human_bytes
from sdk.values import is_wholly_known


def _snapshot_disk(s: PlatformSession, disk_id: str, vm: VmFacts) -> ManagedDiskFacts | None:
    """A VM disk's facts for a snapshot: on the platform, else planned in this run; ephemeral
    when the core says so or it is the VM's ephemeral OS disk."""
    disk = disk_facts(s, disk_id, "fallback")
    is_os = disk_id.lower() == (vm.os_disk_id or "").lower()
    if disk is not None and vm.ephemeral_os_disk and is_os:
        disk = replace(disk, ephemeral=True)
    return disk


def plan_copy(
    s: PlatformSession, req: PlanRequest, resp: PlanResponse, coll: CollectionFacts
) -> None:
    """Plan a copy of ``source_restore_point_id`` into the collection ``coll`` (RP-10), and
    say how many bytes it will move."""
    from core.restorepoints import CopyFacts, copy_estimate, copy_problems

    planned = resp.planned_state
    assert planned is not None
    src_id = planned["source_restore_point_id"]
    src = restore_point_facts(s, src_id)
    at = where(req, "source_restore_point_id")
    if src is None:
        resp.diagnostics.append(
            error(
                f"Restore point {src_id} does not exist",
                f"{req.address}: source_restore_point_id names no restore point planned in "
                "this run or on the platform; check the id",
                at,
                address=req.address,
            )
        )
        return
    target, ssub = coll.location, src.subscription
    facts = CopyFacts(src_id, src.location, ssub, coll.id, target, coll.subscription)  # RP-10
    problems = copy_problems(facts)
    if problems:
        resp.diagnostics.extend(
            problem_diagnostic(req, p, "source_restore_point_id") for p in problems
        )
        return
    if src.exists and target is not None:
        n = copy_estimate(s.points, src_id, target, ssub)
        resp.cost["bytes_to_copy"] = n
        resp.notes.append(
            f"expects to copy {human_bytes(n)} to {target} (the blocks its store lacks)"
        )
    else:
        resp.notes.append("the bytes to copy are known once the source restore point exists")


def _disk_rule_errors(req: ValidateRequest | PlanRequest, problems: list[Any]) -> Diagnostics:
    return Diagnostics(problem_diagnostic(req, p, "exclude_disk_ids") for p in problems)


def check_snapshot_config(s: PlatformSession, req: ValidateRequest) -> Diagnostics:
    """RP-5/RP-6 where the configuration alone shows them (validate, before any plan): the
    collection, its VM and the VM's disks declared in the specs, as ``PlatformSession.configured``
    has them; what the configuration does not show is left to the plan."""
    from core.restorepoints import DiskFacts, disk_problems

    cfg = req.config
    coll = s.configured(cfg.get("collection_id"))
    vm = s.configured((coll or {}).get("source_vm_id"))
    if vm is None or cfg.get("source_restore_point_id") is not None:
        return Diagnostics()
    os_id, data = vm.get("os_disk_id"), vm.get("data_disk_ids") or []
    exclude = cfg.get("exclude_disk_ids") or []
    if not (known(os_id) and is_wholly_known(data) and is_wholly_known(exclude)):
        return Diagnostics()
    facts = {}
    for disk_id in [os_id, *data]:
        disk = s.configured(disk_id)
        if disk is None or not all(is_wholly_known(disk.get(a)) for a in ("name", "sku", "shared")):
            continue  # not declared here, or not known yet: the plan checks it
        ephemeral = disk_id.lower() == os_id.lower() and vm.get("ephemeral_os_disk") is True
        facts[disk_id.lower()] = DiskFacts(
            disk["address"],  # the id may hold a placeholder subscription: name the block
            disk["name"],
            disk.get("sku") or "Standard_LRS",
            disk.get("shared") is True,
            ephemeral,
        )
    problems = disk_problems(os_id, data, exclude, facts)
    if problems and _taken(s, coll, cfg.get("name")):
        return Diagnostics()  # taken already: the plan captures nothing unless it replaces it
    return _disk_rule_errors(req, problems)


def _taken(s: PlatformSession, coll: dict[str, Any], name: Any) -> bool:
    """Whether the restore point ``name`` of the configured collection ``coll`` is on the
    platform already. A platform not made yet is not opened."""
    from core.fabric import ResourceId

    if not (known(name) and s.home.exists()):
        return False
    sub = coll.get("subscription")
    rid = ResourceId.parse(coll["id"])
    real = ResourceId(
        sub if known(sub) else s.subscription, rid.resource_group, rid.provider, rid.type, rid.name
    )
    row = s.fabric.get_resource(f"{real}/restorePoints/{name}")
    return row is not None


def plan_snapshot(
    s: PlatformSession, req: PlanRequest, resp: PlanResponse, coll: CollectionFacts
) -> None:
    """Plan a snapshot of the collection's source VM: its disks checked with the core's RP-5/RP-6
    function, the RP-11 and crash-consistency notes, and the bytes it will store."""
    from core.restorepoints import DiskFacts, disk_problems

    planned = resp.planned_state
    assert planned is not None
    vm_id = coll.source_vm_id
    if vm_id is None:
        return
    vm = vm_facts(s, vm_id)
    if vm is None:
        resp.diagnostics.append(
            error(
                f"VM {vm_id} does not exist",
                f"{req.address}: the collection's source VM is neither planned nor on the "
                "platform; create the VM first",
                where(req, "collection_id"),
                address=req.address,
            )
        )
        return
    os_id, data = vm.os_disk_id, vm.data_disk_ids
    exclude = planned.get("exclude_disk_ids") or []
    if os_id is None or data is None or not known(exclude):
        return
    exclude = [e for e in exclude if known(e)]
    facts = {d: _snapshot_disk(s, d, vm) for d in [os_id, *data]}
    descriptors = {
        k.lower(): DiskFacts(f.id, f.name, f.sku, f.shared, f.ephemeral)
        for k, f in facts.items()
        if f is not None
    }
    problems = disk_problems(os_id, list(data), exclude, descriptors)
    resp.diagnostics.extend(_disk_rule_errors(req, problems))
    if problems:
        return
    region, vm_region = coll.location, vm.location
    if region is None:
        return
    if vm_region is not None and region_key(vm_region) != region_key(region):
        # RP-11 (the core creates it in the collection's region): say so in the plan
        resp.notes.append(f"RP-11: created directly in {region} from VM {vm.name} in {vm_region}")
    if planned.get("consistency_mode") == "ApplicationConsistent" and vm.power_state == "stopped":
        resp.notes.append(f"VM {vm.name} is stopped: the restore point will be crash-consistent")
    excluded = {e.lower() for e in exclude}
    included = [facts[d] for d in [os_id, *data] if d.lower() not in excluded]
    _cost(s, resp, included, region, coll.subscription)


def _cost(
    s: PlatformSession,
    resp: PlanResponse,
    disks: list[ManagedDiskFacts | None],
    region: str,
    subscription: str | None,
) -> None:
    from core.restorepoints import new_disk_estimate, snapshot_estimate

    if subscription is None or any(d is None for d in disks):
        return
    parts, total = [], 0
    for d in disks:
        assert d is not None
        if d.exists:
            est = snapshot_estimate(s.points, d.id, region, subscription)
        elif d.size_bytes is not None:
            est = new_disk_estimate(d.size_bytes)
        else:
            return
        total += est.bytes
        parts.append((d.name, est))
    resp.cost["bytes_to_snapshot"] = total
    hows = {e.how for _, e in parts}
    if len(hows) == 1:
        resp.notes.append(f"expects to snapshot {human_bytes(total)} ({hows.pop()})")
    else:
        each = "; ".join(f"{n}: {human_bytes(e.bytes)} ({e.how})" for n, e in parts)
        resp.notes.append(f"expects to snapshot {human_bytes(total)} — {each}")
