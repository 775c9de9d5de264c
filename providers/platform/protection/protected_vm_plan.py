"""The plan checks of a backup_protected_vm: its rules with its vault's settings, the
objects it names (vault, policy, VM and LUNs), and what its destroy does to the recovery
points.

Always holds: every refusal is a plan error at the argument's file:line (the resource's
when it is being destroyed) naming what to write instead; a check reads the platform and
what this run planned (``PlatformSession.lookup``) and writes nothing; a value not known at
plan time is not judged.
"""

from __future__ import annotations

from typing import Any

from providers.platform.frame import PlatformSession, known, where
from providers.platform.protection.common import count, missing, policy_facts, protection
from sdk import PlanRequest, PlanResponse
from sdk.diagnostics import error, warning


def luns(value: Any) -> tuple:
    """LUNs as ints (HCL numbers may arrive as 0.0)."""
    return tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in value or ())


def item_rule_problems(values: dict[str, Any], immutability: str) -> list[Any]:
    """``item_problems`` of the configured state and LUNs in a vault of ``immutability``."""
    from core.protection import VaultSettings, item_problems

    state = values.get("protection_state") or "Protected"
    excl, incl = values.get("exclude_disk_luns"), values.get("include_disk_luns")
    if not all(known(v) or v is None for v in (state, excl, incl)):
        return []
    vault = VaultSettings(immutability=immutability)
    return item_problems(state, vault, luns(excl), luns(incl))


def plan_destroy(
    s: PlatformSession, req: PlanRequest, resp: PlanResponse, prior: dict[str, Any]
) -> None:
    """What the destroy does to the recovery points: kept (a warning saying where), deleted
    (a warning), or refused by an immutable vault (an error)."""
    from core.errors import NotFound

    p = protection(s)
    try:
        points = p.recovery_points(prior["id"])
    except NotFound:
        return
    held = count(len(points), "recovery point")
    if prior.get("retain_data_on_destroy") is not False:
        if points:  # a delete's plan carries its diagnostics only
            resp.diagnostics.append(
                warning(
                    f"Destroying {req.address} keeps its {held}",
                    f"protection stops and the {held} "
                    f"{'is' if len(points) == 1 else 'are'} kept "
                    "(retain_data_on_destroy = true): "
                    f"restorable by id, also once the VM is gone; `bcdr backup list "
                    f"{prior['id']}` lists them",
                    address=req.address,
                )
            )
        return
    vault = p.vaults.find(prior.get("vault_id") or "")
    if vault is not None and vault.settings.immutable:
        resp.diagnostics.append(immutable_error(req, vault.name, vault.settings.immutability))
    elif points:
        soft = vault is not None and vault.settings.soft_delete
        resp.diagnostics.append(
            warning(
                f"Destroying {req.address} deletes its {held}",
                f"retain_data_on_destroy = false: the {held} of "
                f"{str(prior.get('source_vm_id')).rsplit('/', 1)[-1]} "
                + (
                    "are soft-deleted (`bcdr backup undelete` brings one back for 14 days)"
                    if soft
                    else "are deleted for good (the vault has no soft delete)"
                ),
                address=req.address,
            )
        )


def immutable_error(req: PlanRequest, vault: str, immutability: str) -> Any:
    """The plan error of retain_data_on_destroy = false in an immutable vault."""
    # VLT-12 (the core's refusal, said at plan): an immutable vault keeps its points
    fix = (
        "set the vault's immutability to Disabled first, or "
        if immutability == "Unlocked"
        else "Locked immutability cannot be undone: "
    )
    return error(
        f"Vault {vault} is immutable ({immutability}): its recovery points cannot be deleted",
        f"{req.address}: retain_data_on_destroy = false would delete the VM's recovery "
        f"points before their retention ends; {fix}set retain_data_on_destroy = true (the "
        "points stay until their retention ends)",
        where(req, "retain_data_on_destroy"),
        address=req.address,
    )


def check_policy(
    s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
) -> None:
    """The policy must exist (planned or on the platform) and be of the item's vault."""
    pid, vid = planned.get("backup_policy_id"), planned.get("vault_id")
    if not known(pid):
        return
    policy = policy_facts(s, pid)
    if policy is None:
        fix = "declare it (backup_policy_vm) and refer to its id"
        missing(req, resp, "backup_policy_id", "Backup policy", pid, fix)
    elif known(vid) and policy.vault_id.lower() != vid.lower():
        resp.diagnostics.append(
            error(
                "The backup policy belongs to another vault",
                f"{req.address}: backup policy {pid} is in vault {policy.vault_id}, not in "
                f"{vid}; use a backup_policy_vm whose vault_id is this vault's",
                where(req, "backup_policy_id"),
                address=req.address,
            )
        )


@staticmethod
def check_vm(
    s: PlatformSession,
    req: PlanRequest,
    resp: PlanResponse,
    planned: dict[str, Any],
    vault: Any,
) -> None:
    """The VM must exist, in the vault's region and subscription, with the LUNs named."""
    from providers.platform.compute.facts import vm_facts

    vm_id = planned["source_vm_id"]
    vm = vm_facts(s, vm_id)
    if vm is None:
        fix = "declare it (virtual_machine) and refer to its id"
        missing(req, resp, "source_vm_id", "VM", vm_id, fix)
        return
    for what, mine, theirs, fix in (
        ("region", vm.location, vault.location, "a vault in the VM's region"),
        ("subscription", vm.subscription, vault.subscription, "a vault of its subscription"),
    ):
        if mine and theirs and mine.lower() != theirs.lower():
            resp.diagnostics.append(
                error(
                    f"The VM is in another {what} than the vault",
                    f"{req.address}: VM {vm.name or vm_id} is in {mine}, vault "
                    f"{vault.name} in {theirs}; protect the VM with {fix}",
                    where(req, "source_vm_id"),
                    address=req.address,
                )
            )
    if vm.data_disk_ids is None:
        return
    n = len(vm.data_disk_ids)
    for attr in ("exclude_disk_luns", "include_disk_luns"):
        given = planned.get(attr)
        beyond = [x for x in luns(given) if isinstance(x, int) and x >= n] if known(given) else []
        if beyond:
            resp.diagnostics.append(
                error(
                    f"{attr} names LUNs the VM does not have",
                    f"{req.address}: VM {vm.name or vm_id} has {count(n, 'data disk')} "
                    f"(LUNs 0-{n - 1}); LUN(s) {beyond} name no disk: list LUNs of its "
                    "data disks",
                    where(req, attr),
                    address=req.address,
                )
            )
