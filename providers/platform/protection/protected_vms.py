"""backup_protected_vm: a VM protected by a vault with a backup policy, and its recovery points
(``core.protection.items``; Terraform's ``azurerm_backup_protected_vm``).

Always holds: the id is azurerm's protected item id of the vault and the VM, known at plan
time; the vault, the policy (of that vault) and the VM (in the vault's region and
subscription, with the data disks its LUNs name) must be planned in this run or exist, else
a plan error at the argument; ``item_problems`` (VLT-8 to VLT-11) is checked at validate and,
with the vault's settings, at plan (VLT-9: suspending backups needs an immutable vault), and
enforced by the core at apply. A new ``backup_policy_id``, LUN selection or
``protection_state`` is an update in place (a new policy applies from the next scheduled
slot); a new vault or VM replaces it. ``recovery_points`` is read from the vault on every
refresh, newest first (so ``recovery_points[0].id`` is the latest backup, the restore point
id a ``vm_restore`` or a ``managed_disk`` takes); it lists points taken by ``bcdr schedule``
and ``bcdr backup now``, never made by apply. Destroying the resource stops protection and
keeps its recovery points (restorable by id, after the VM is gone too) unless
``retain_data_on_destroy = false``, which deletes them (soft-deleted where the vault has soft
delete) and which an immutable vault refuses (VLT-12): a plan error.
"""

from __future__ import annotations

from typing import Any

from providers.platform.attributes import arguments, state_from
from providers.platform.frame import (
    PlatformSession,
    ResourceType,
    known,
)
from providers.platform.protection import examples
from providers.platform.protection.common import (
    ITEM_TYPE,
    count,
    missing,
    problem_errors,
    protection,
    vault_facts,
)
from providers.platform.protection.protected_vm_plan import (
    check_policy,
    check_vm,
    immutable_error,
    item_rule_problems,
    luns,
    plan_destroy,
)
from providers.platform.registry import Core, Declaration, Listed
from sdk import (
    ApplyRequest,
    Attribute,
    Diagnostics,
    PlanRequest,
    PlanResponse,
    Progress,
    Schema,
    ValidateRequest,
)

POINT_KEYS = "[{ id, time, consistency, tier, bytes_stored, expires_at }]"


def point_json(info: Any) -> dict[str, Any]:
    """A recovery point as the computed ``recovery_points`` holds it."""
    from providers.platform.backups import rfc3339

    return {
        "id": info.id,
        "time": rfc3339(info.time),
        "consistency": info.consistency,
        "tier": info.tier,
        "bytes_stored": info.bytes_stored,
        "expires_at": rfc3339(info.expires_at),
    }


def _service(c: Core) -> Any:
    from core.protection import Protection

    return Protection(c.fabric, c.disks, c.points)


def _listed(c: Core) -> list[Listed]:
    p = _service(c)
    regions = {v.id.lower(): v.region for v in p.list_vaults()}
    return [
        (
            i.id,
            regions.get(i.vault_id.lower(), ""),
            {"state": i.state, "points": len(p.points.of_item(i.id))},
        )
        for i in p.list_items()
    ]


def _summary(facts: dict[str, Any]) -> str:
    if "state" not in facts:
        return ""
    return f"{facts['state']}, {count(facts['points'], 'recovery point')}"


def _show(c: Core, id: str) -> dict[str, Any]:
    p = _service(c)
    i = p.get_item(id)
    return {
        "protected_item": {
            "vault_id": i.vault_id,
            "vm_id": i.vm_id,
            "policy_id": i.policy_id,
            "state": i.state,
            "recovery_points": [point_json(r) for r in p.recovery_points(i.id)],
        }
    }


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    keep = (row or {}).get("properties", {}).get("retain_data_on_destroy")
    _service(c).unprotect(id, retain_data=keep is not False)
    return [], 0


# the parents a protected item's id sits in (azurerm's form: the vault's Azure fabric and the
# VM's container); they have no resource type and are not selected on their own
BACKUP_FABRIC = Declaration("backup_fabric", ITEM_TYPE.rsplit("/", 2)[0], selectable=False)
PROTECTION_CONTAINER = Declaration(
    "protection_container", ITEM_TYPE.rsplit("/", 1)[0], selectable=False
)

BACKUP_PROTECTED_VM = Declaration(
    "backup_protected_vm",
    ITEM_TYPE,
    ("protected_vm",),
    find=lambda c, id: _service(c).get_item(id).id,
    listed=_listed,
    summary=_summary,
    show=_show,
    delete=_delete,
)


class BackupProtectedVm(ResourceType):
    type_name = BACKUP_PROTECTED_VM.type_name
    declaration = BACKUP_PROTECTED_VM
    schema = Schema(
        attributes={
            "vault_id": Attribute(
                required=True, force_new=True, description="the recovery_services_vault's id"
            ),
            "source_vm_id": Attribute(
                required=True,
                force_new=True,
                description="the VM's id (in the vault's region and subscription)",
            ),
            "backup_policy_id": Attribute(
                required=True,
                description="a backup_policy_vm of the vault; a new one applies from the next "
                "scheduled backup",
            ),
            "exclude_disk_luns": Attribute(
                type="list(number)",
                optional=True,
                description="data disks left out, by LUN (a data disk's place in the VM's "
                "data_disk_ids, from 0)",
            ),
            "include_disk_luns": Attribute(
                type="list(number)",
                optional=True,
                description="the only data disks backed up, by LUN (not with exclude_disk_luns)",
            ),
            "protection_state": Attribute(
                optional=True,
                default="Protected",
                description="Protected, ProtectionStopped (no backups; the points kept) or "
                "BackupsSuspended (immutable vaults only: the points kept by their retention)",
            ),
            "retain_data_on_destroy": Attribute(
                type="bool",
                optional=True,
                default=True,
                description="destroying keeps the recovery points (true) or deletes them "
                "(false; refused by an immutable vault)",
            ),
            "id": Attribute(computed=True, description="the protected item's id"),
            "recovery_points": Attribute(
                type="list(any)",
                computed=True,
                observed=True,  # every backup adds one: not drift
                description=f"{POINT_KEYS}, newest first: recovery_points[0].id is the latest "
                "backup (a restore point id, for vm_restore or managed_disk)",
            ),
        },
        description="A VM protected by a vault with a backup policy; `bcdr schedule tick` "
        "takes its backups, `bcdr backup list` lists them.",
        rules=("VLT-8", "VLT-9", "VLT-10", "VLT-11", "VLT-12"),
        example=examples.PROTECTED_VM,
    )

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        # the rules of the item alone (VLT-8, 10, 11): VLT-9 needs the vault, checked at plan
        return Diagnostics(problem_errors(req, item_rule_problems(req.config, "Locked")))

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        resp = super().plan(s, req)
        prior = req.prior_state
        if req.proposed is None and prior is not None and prior.get("id"):
            plan_destroy(s, req, resp, prior)
        return resp

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from core.protection import protected_item_id

        vid, vm_id = planned.get("vault_id"), planned.get("source_vm_id")
        if known(vid) and known(vm_id):
            planned["id"] = protected_item_id(vid, vm_id)
        if req.prior_state is None or resp.requires_replace:
            planned["recovery_points"] = []
        vault = vault_facts(s, vid) if known(vid) else None
        if known(vid) and vault is None:
            fix = "declare it (recovery_services_vault) and refer to its id"
            missing(req, resp, "vault_id", "Vault", vid, fix)
        check_policy(s, req, resp, planned)
        if vault is not None and vault.settings is not None:
            immutability = vault.settings.immutability
            reported = set(item_rule_problems(planned, "Locked"))  # at validate already
            found = [p for p in item_rule_problems(planned, immutability) if p not in reported]
            resp.diagnostics.extend(problem_errors(req, found))
            if planned.get("retain_data_on_destroy") is False and vault.settings.immutable:
                resp.diagnostics.append(immutable_error(req, vault.name or vid, immutability))
        if vault is not None and known(vm_id):
            check_vm(s, req, resp, planned, vault)

    # -------------------------------------------------------------------- apply
    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        item = protection(s).protect(
            p["vault_id"],
            p["source_vm_id"],
            p["backup_policy_id"],
            exclude_disk_luns=luns(p.get("exclude_disk_luns")),
            include_disk_luns=luns(p.get("include_disk_luns")),
            state=p.get("protection_state") or "Protected",
        )
        return self._put(s, item, p)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        item = protection(s).update_item(
            p["id"],
            policy_id=p["backup_policy_id"],
            exclude_disk_luns=luns(p.get("exclude_disk_luns")),
            include_disk_luns=luns(p.get("include_disk_luns")),
            state=p.get("protection_state") or "Protected",
        )
        return self._put(s, item, p)

    def _put(self, s: PlatformSession, item: Any, p: dict[str, Any]) -> dict[str, Any]:
        vault = protection(s).get_vault(item.vault_id)
        s.fabric.put_resource(item.id, ITEM_TYPE, vault.region, arguments(self.schema, p))
        return self._state(s, item.id)  # type: ignore[return-value]

    def _state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        p = protection(s)
        item = p.items.find(id)
        if item is None:
            return None
        row = s.fabric.get_resource(item.id)
        props = row["properties"] if row is not None and row["type"] == ITEM_TYPE else {}
        return state_from(
            self.schema,
            props,
            id=item.id,
            vault_id=item.vault_id,
            source_vm_id=item.vm_id,
            backup_policy_id=item.policy_id,
            exclude_disk_luns=list(item.exclude_disk_luns) or props.get("exclude_disk_luns"),
            include_disk_luns=list(item.include_disk_luns) or props.get("include_disk_luns"),
            protection_state=item.state,
            retain_data_on_destroy=props.get("retain_data_on_destroy") is not False,
            recovery_points=[point_json(r) for r in p.recovery_points(item.id)],
        )

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        id = state.get("id")
        return self._state(s, id) if isinstance(id, str) else None

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        p = protection(s)
        if p.items.find(state["id"]) is not None:  # the core first: it may refuse (VLT-12)
            p.unprotect(state["id"], retain_data=state.get("retain_data_on_destroy") is not False)
        s.fabric.delete_resource(state["id"])


TYPES: list[ResourceType] = [BackupProtectedVm()]
DECLARATIONS = [BACKUP_FABRIC, PROTECTION_CONTAINER, BACKUP_PROTECTED_VM]
