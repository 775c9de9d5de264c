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
    where,
)
from providers.platform.protection import examples
from providers.platform.protection.common import (
    ITEM_TYPE,
    count,
    missing,
    policy_facts,
    problem_errors,
    protection,
    vault_facts,
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
from sdk.diagnostics import error, warning

POINT_KEYS = "[{ id, time, consistency, tier, bytes_stored, expires_at }]"


def _luns(value: Any) -> tuple:
    return tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in value or ())


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
                description=f"{POINT_KEYS}, newest first: recovery_points[0].id is the latest "
                "backup (a restore point id, for vm_restore or managed_disk)",
            ),
        },
        description="A VM protected by a vault with a backup policy; `bcdr schedule tick` "
        "takes its backups, `bcdr backup list` lists them.",
        rules=("VLT-8", "VLT-9", "VLT-10", "VLT-11", "VLT-12"),
        example=examples.PROTECTED_VM,
    )

    @staticmethod
    def _problems(values: dict[str, Any], immutability: str) -> list[Any]:
        from core.protection import VaultSettings, item_problems

        state = values.get("protection_state") or "Protected"
        excl, incl = values.get("exclude_disk_luns"), values.get("include_disk_luns")
        if not all(known(v) or v is None for v in (state, excl, incl)):
            return []
        vault = VaultSettings(immutability=immutability)
        return item_problems(state, vault, _luns(excl), _luns(incl))

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        # the rules of the item alone (VLT-8, 10, 11): VLT-9 needs the vault, checked at plan
        return Diagnostics(problem_errors(req, self._problems(req.config, "Locked")))

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        resp = super().plan(s, req)
        prior = req.prior_state
        if req.proposed is None and prior is not None and prior.get("id"):
            self._plan_destroy(s, req, resp, prior)
        return resp

    def _plan_destroy(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, prior: dict[str, Any]
    ) -> None:
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
            resp.diagnostics.append(self._immutable(req, vault.name, vault.settings.immutability))
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

    @staticmethod
    def _immutable(req: PlanRequest, vault: str, immutability: str) -> Any:
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
        self._check_policy(s, req, resp, planned)
        if vault is not None and vault.settings is not None:
            immutability = vault.settings.immutability
            reported = set(self._problems(planned, "Locked"))  # at validate already
            found = [p for p in self._problems(planned, immutability) if p not in reported]
            resp.diagnostics.extend(problem_errors(req, found))
            if planned.get("retain_data_on_destroy") is False and vault.settings.immutable:
                resp.diagnostics.append(self._immutable(req, vault.name or vid, immutability))
        if vault is not None and known(vm_id):
            self._check_vm(s, req, resp, planned, vault)

    @staticmethod
    def _check_policy(
        s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
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
    def _check_vm(
        s: PlatformSession,
        req: PlanRequest,
        resp: PlanResponse,
        planned: dict[str, Any],
        vault: Any,
    ) -> None:
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
            luns = planned.get(attr)
            beyond = (
                [x for x in _luns(luns) if isinstance(x, int) and x >= n] if known(luns) else []
            )
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

    # -------------------------------------------------------------------- apply
    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        item = protection(s).protect(
            p["vault_id"],
            p["source_vm_id"],
            p["backup_policy_id"],
            exclude_disk_luns=_luns(p.get("exclude_disk_luns")),
            include_disk_luns=_luns(p.get("include_disk_luns")),
            state=p.get("protection_state") or "Protected",
        )
        return self._put(s, item, p)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        item = protection(s).update_item(
            p["id"],
            policy_id=p["backup_policy_id"],
            exclude_disk_luns=_luns(p.get("exclude_disk_luns")),
            include_disk_luns=_luns(p.get("include_disk_luns")),
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
