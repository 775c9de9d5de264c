"""vm_restore: a new VM and its disks, created from a VM restore point (rule RP-9).

Each disk restore point becomes a managed disk (``{name}-osdisk``, ``{name}-datadisk-{n}``)
through the core's ``restore_disk``, in the target subscription, group and location; the VM
gets an inventory row (``Microsoft.Compute/virtualMachines``) rebuilt from the restore point's
source metadata (RP-2: size, OS, network), so it can itself be protected. Always holds: every
argument but ``tags`` forces a new VM; the target location is the restore point's region or
its pair (rule RP-9: ``core.restorepoints.rules.restore_region_problems``, at plan and in
the core's ``restore_disk``); ids are known at plan time; a restore cut short
leaves no disk behind; a replace deletes the old VM first (its plan says how many bytes of
its disks that destroys); deleting removes the VM row and its disks (and soft-deletes a key
vault the restore made). An encrypted source VM follows rules KV-1, KV-2, KV-3 and DES-1
(``providers.platform.compute.encrypted_restore``): the restored disks get
``disk_encryption_set_id``
when given, else the source disk's set when the restore stays in its region and subscription
and is not a streaming one.

It passes 400 lines by a little: the restore's plan and apply share the target's naming and
the leftover-object handling; the encryption part is already in ``encrypted_restore``.
"""

from __future__ import annotations

import uuid
from typing import Any

from providers.platform.attributes import location_attribute, name_attribute, tags_and_id
from providers.platform.compute import examples
from providers.platform.compute.disks import disk_id
from providers.platform.compute.encrypted_restore import (
    check_kv1,
    plan_encryption,
    restore_key_vault,
    restored_des,
    source_encryption,
)
from providers.platform.compute.facts import restore_point_facts
from providers.platform.compute.groups import DISK_TYPE, VM_TYPE, subscription_of
from providers.platform.compute.vms import vm_id
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.registry import group_id
from providers.platform.rules import problem_diagnostic
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error
from sdk.units import human_bytes
from sdk.values import UNKNOWN

KINDS = ("snapshot", "streaming")
_ARGS = (
    "restore_point_id",
    "name",
    "target_resource_group",
    "target_location",
    "target_subscription",
    "source_kind",
    "disk_encryption_set_id",
)


def disk_names(name: str, n_data: int) -> tuple[str, list[str]]:
    return f"{name}-osdisk", [f"{name}-datadisk-{i}" for i in range(n_data)]


class VmRestore(ResourceType):
    type_name = "vm_restore"
    schema = Schema(
        attributes={
            "restore_point_id": Attribute(required=True, force_new=True),
            "name": name_attribute("restored VM"),
            "target_resource_group": Attribute(
                required=True, force_new=True, description="the resource group's name"
            ),
            "target_location": location_attribute(
                "the restore point's region (default) or its pair", required=False, computed=True
            ),
            "target_subscription": Attribute(
                optional=True,
                computed=True,
                force_new=True,
                description="default: the restore point's subscription",
            ),
            "source_kind": Attribute(
                optional=True, force_new=True, default="snapshot", allowed=KINDS
            ),
            "disk_encryption_set_id": Attribute(optional=True, force_new=True),
            **tags_and_id(Attribute(computed=True, description="the new VM's id")),
            "os_disk_id": Attribute(computed=True),
            "data_disk_ids": Attribute(type="list(string)", computed=True),
            "key_vault_id": Attribute(computed=True, description="a key vault made by the restore"),
        },
        description="A VM and its disks restored from a VM restore point.",
        rules=("RP-9", "KV-1", "KV-2", "KV-3", "DES-1"),
        example=examples.VM_RESTORE,
    )

    # -------------------------------------------------------------------- plan
    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from core.errors import CoreError
        from core.restorepoints import RestoreRegionFacts, restore_region_problems

        if req.prior_state is not None and not resp.requires_replace:
            planned["key_vault_id"] = req.prior_state.get("key_vault_id")
            return  # tags only
        planned["key_vault_id"] = None  # unless a cross-region restore makes one (KV-2)
        rp_id = planned.get("restore_point_id")
        if not known(rp_id):
            return
        src = restore_point_facts(s, rp_id)
        if src is None:
            resp.diagnostics.append(
                error(
                    f"Restore point {rp_id} does not exist",
                    f"{req.address}: restore_point_id names no restore point planned in this "
                    "run or on the platform; check the id",
                    where(req, "restore_point_id"),
                    address=req.address,
                )
            )
            return
        region = src.location
        if planned.get("target_location") is None or (
            planned.get("target_location") is UNKNOWN
            and req.proposed.get("target_location") is None
        ):
            planned["target_location"] = UNKNOWN if region is None else region
        target = planned["target_location"]
        if known(target) and region is not None:
            try:  # an unknown region name: say which
                s.fabric.check_region(target)
                r = s.fabric.check_region(region)
            except CoreError as err:
                resp.diagnostics.append(
                    error(str(err), req.address, where(req, "target_location"), address=req.address)
                )
                return
            problems = restore_region_problems(RestoreRegionFacts(rp_id, r, target))  # RP-9
            if problems:
                resp.diagnostics.extend(
                    problem_diagnostic(req, p, "target_location") for p in problems
                )
                return
        if (req.proposed or {}).get("target_subscription") is None:
            planned["target_subscription"] = src.subscription or subscription_of(rp_id)
        sub, rg, name = (
            planned["target_subscription"],
            planned.get("target_resource_group"),
            planned.get("name"),
        )
        if not all(known(x) for x in (sub, rg, name)):
            return
        try:
            s.fabric.check_subscription(sub)
        except CoreError as err:
            resp.diagnostics.append(
                error(
                    f"Subscription {sub!r} does not exist",
                    f"{req.address}: {err}",
                    where(req, "target_subscription"),
                    address=req.address,
                )
            )
            check_kv1(req, resp, src, source_encryption(s, src))  # every problem at once
            return
        gid = group_id(sub, rg)
        if s.lookup(gid) is None and s.fabric.get_resource(gid) is None:
            resp.diagnostics.append(
                error(
                    f"Resource group {rg!r} does not exist",
                    f"{req.address}: no resource group {rg!r} in subscription {sub} is planned "
                    "or exists; declare it with a resource_group block",
                    where(req, "target_resource_group"),
                    address=req.address,
                )
            )
        planned["id"] = vm_id(sub, rg, name)
        os_name, _ = disk_names(name, 0)
        planned["os_disk_id"] = disk_id(sub, rg, os_name)
        if src.record is not None:
            drps = src.record.disk_restore_points
            _, data_names = disk_names(name, len(drps) - 1)
            planned["data_disk_ids"] = [disk_id(sub, rg, n) for n in data_names]
            blocks = sum(d.blocks_total for d in drps)
            resp.cost["blocks_to_restore"] = blocks
        replaced = self.replaced_prior(s, req)
        replacing = (
            replaced is not None and str(replaced.get("id")).lower() == planned["id"].lower()
        )
        if (
            req.prior_state is None
            and not replacing  # a replace deletes the VM first
            and s.fabric.get_resource(planned["id"]) is not None
        ):
            resp.diagnostics.append(
                error(
                    f"VM {planned['id']} exists already",
                    f"{req.address}: choose another name or target_resource_group",
                    where(req, "name"),
                    address=req.address,
                )
            )
        if known(target) and region is not None:
            plan_encryption(s, req, resp, src)

    # -------------------------------------------------------------------- apply
    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        from core.errors import AlreadyExists, NotFound

        p = dict(req.planned_state)
        rp = s.points.get(p["restore_point_id"])
        sub, rg, region = p["target_subscription"], p["target_resource_group"], p["target_location"]
        if s.fabric.get_resource(group_id(sub, rg)) is None:
            raise NotFound(f"resource group {rg} does not exist in subscription {sub}: create it")
        if s.fabric.get_resource(p["id"]) is not None:
            raise AlreadyExists(f"VM {p['id']} exists already: choose another name")
        meta = rp.source_metadata
        os_ids = {d["id"].lower() for d in meta.get("disks", []) if d.get("os_disk")}
        skus = {d["id"].lower(): d.get("sku") for d in meta.get("disks", [])}
        src_des = {d["id"].lower(): d.get("disk_encryption_set_id") for d in meta.get("disks", [])}
        check = s.fabric.check_region
        source_region = meta.get("region") or rp.region  # a copy's source VM is elsewhere
        carry = check(region) == check(source_region) and sub.lower() == rp.subscription.lower()
        kind, given = p.get("source_kind") or "snapshot", p.get("disk_encryption_set_id")
        used_des: list[str | None] = []
        ordered = sorted(rp.disk_restore_points, key=lambda d: d.disk_id.lower() not in os_ids)
        os_name, data_names = disk_names(p["name"], len(ordered) - 1)
        for dname in [os_name, *data_names]:
            _drop_leftover(s, disk_id(sub, rg, dname), {d.id.lower() for d in ordered})
        made: list[str] = []
        try:
            for drp, dname in zip(ordered, [os_name, *data_names], strict=True):
                disk = s.points.restore_disk(
                    drp.id,
                    subscription=sub,
                    resource_group=rg,
                    region=region,
                    name=dname,
                    progress=req.progress,
                )
                made.append(disk.id)
                sku = skus.get(drp.disk_id.lower()) or "Standard_LRS"
                if sku == "UltraSSD_LRS":  # never in a restore point (RP-6); keep the default
                    sku = "Standard_LRS"
                des = restored_des(kind, given, src_des.get(drp.disk_id.lower()), carry)
                used_des.append(des)
                s.disks.set_flags(disk.id, sku=sku, encryption_set_id=des)
                row = _disk_row(disk, drp, sku, des)
                s.fabric.put_resource(disk.id, DISK_TYPE, disk.region, row)
            encryption, secret = _encryption(s, p, meta, region, used_des)
        except BaseException:
            for id in made:
                try:
                    s.disks.delete(id)
                except NotFound:
                    pass
                s.fabric.delete_resource(id)
            raise
        extra = meta.get("metadata") or {}
        props = {
            "name": p["name"],
            "resource_group": rg,
            "location": region,
            "subscription": sub,
            "size": meta.get("size"),
            "os_type": meta.get("os_type"),
            "os_distro": extra.get("os_distro"),
            "power_state": "running",
            "os_disk_id": made[0],
            "ephemeral_os_disk": False,
            "data_disk_ids": made[1:],
            "network": meta.get("network") or None,
            "guest_hooks": None,
            "boot_image_modules": extra.get("boot_image_modules"),
            "bitlocker_enabled": bool(extra.get("bitlocker_enabled")),
            "encryption": encryption,
            "tags": p.get("tags"),
            "vm_guid": str(uuid.uuid4()),
            "restored_from": {k: p.get(k) for k in _ARGS},
            "source_metadata": meta,
            "restore_key_vault_id": p.get("key_vault_id"),
            **({"encryption_secret_id": secret} if secret else {}),
        }
        s.fabric.put_resource(p["id"], VM_TYPE, region, props)
        return self._state(p["id"], props)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        row = s.fabric.get_resource(p["id"])
        if row is None:
            from core.errors import NotFound

            raise NotFound(f"VM {p['id']} is gone: plan again to restore it anew")
        props = dict(row["properties"], tags=p.get("tags"))
        s.fabric.put_resource(row["id"], row["type"], row["region"], props)
        return self._state(row["id"], props)

    @staticmethod
    def _state(id: str, props: dict[str, Any]) -> dict[str, Any]:
        restored = props.get("restored_from") or {}
        out = {k: restored.get(k) for k in _ARGS}
        out.update(
            tags=props.get("tags"),
            id=id,
            os_disk_id=props.get("os_disk_id"),
            data_disk_ids=list(props.get("data_disk_ids") or []),
            key_vault_id=props.get("restore_key_vault_id"),
        )
        return out

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        row = s.fabric.get_resource(state.get("id") or "")
        if row is None or row["type"] != VM_TYPE or "restored_from" not in row["properties"]:
            return None
        return self._state(row["id"], row["properties"])

    def destroys(self, s: PlatformSession, prior: dict[str, Any]) -> str | None:
        from core.errors import CoreError

        held, n = 0, 0
        for id in [prior.get("os_disk_id"), *(prior.get("data_disk_ids") or [])]:
            try:
                held += s.disks.file_info(id).allocated_bytes
                n += 1
            except CoreError:
                continue
        if n == 0:
            return None
        return (
            f"its {n} restored disk{'s' * (n != 1)} and the {human_bytes(held)} of data they "
            "hold (the new VM's disks start from the restore point)"
        )

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        row = s.fabric.get_resource(state["id"])
        props = row["properties"] if row else state
        for id in [props.get("os_disk_id"), *(props.get("data_disk_ids") or [])]:
            if not isinstance(id, str):
                continue
            s.fabric.delete_resource(id)  # the row first: see ManagedDisk.delete
            try:
                s.disks.delete(id)
            except NotFound:
                pass
        kv_id = props.get("restore_key_vault_id") or state.get("key_vault_id")
        if isinstance(kv_id, str):
            from providers.platform.keyvault.common import keystore

            ks = keystore(s)
            vault = ks.vaults.find(kv_id)
            if vault is not None and vault.deleted_at is None:
                ks.vaults.delete(kv_id)  # soft delete: recoverable for its retention
            s.fabric.delete_resource(kv_id)
        s.fabric.delete_resource(state["id"])


def _drop_leftover(s: PlatformSession, id: str, drp_ids: set[str]) -> None:
    """Delete a disk an earlier restore from this restore point left when its VM was lost."""
    from core.errors import NotFound

    row = s.fabric.get_resource(id)
    if row is None or row["type"] != DISK_TYPE:
        return
    source = str(row["properties"].get("source_resource_id") or "").lower()
    if row["properties"].get("create_option") != "Restore" or source not in drp_ids:
        return
    for vm in s.fabric.list_resources(VM_TYPE):
        p = vm["properties"]
        if id.lower() in [
            str(x).lower() for x in [p.get("os_disk_id"), *(p.get("data_disk_ids") or [])]
        ]:
            return
    try:
        s.disks.delete(id)
    except NotFound:
        pass
    s.fabric.delete_resource(id)


def _encryption(
    s: PlatformSession, p: dict[str, Any], meta: dict[str, Any], region: str, used: list[str | None]
) -> tuple[dict[str, Any] | None, str | None]:
    """The restored VM's ``encryption`` block and disk encryption secret: the source's key
    vault, or the one this restore makes (KV-2), and the disks' encryption set."""
    extra = meta.get("metadata") or {}
    src = extra.get("encryption") or {}
    secret = extra.get("encryption_secret_id")
    vault, key = src.get("key_vault_id"), src.get("key_id")
    if vault and p.get("key_vault_id"):
        key, secret = restore_key_vault(s, p, meta, region)
        vault = p["key_vault_id"]
    des = used[0] if used and all(d == used[0] for d in used) else None
    if not vault and not des:
        return None, None
    return {"key_vault_id": vault, "key_id": key, "disk_encryption_set_id": des}, secret


def _disk_row(disk: Any, drp: Any, sku: str, des: str | None) -> dict[str, Any]:
    """The inventory row of a restored disk, in managed_disk's form (so it reads and imports)."""
    return {
        "name": disk.name,
        "resource_group": disk.resource_group,
        "location": disk.region,
        "subscription": disk.subscription,
        "size_gb": None,
        "sku": sku,
        "create_option": "Restore",
        "source_uri": None,
        "source_resource_id": drp.id,
        "disk_encryption_set_id": des,
        "shared": False,
        "tags": None,
    }


TYPES: list[ResourceType] = [VmRestore()]
