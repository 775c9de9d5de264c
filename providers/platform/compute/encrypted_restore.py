"""The encrypted-VM rules of ``vm_restore`` (KV-1, KV-2, KV-3, DES-1), in one place each.

``source_encryption`` tells how the VM a restore point captured was encrypted: from the
restore point's source metadata (RP-2) when it exists, else from the VM and disks planned
in this run. ``plan_encryption`` checks and plans a restore (plan errors and warnings, the
key vault a cross-region restore creates, the encryption set each restored disk gets);
``restore_key_vault`` makes that vault at apply time. Always holds: what the plan says (the
new vault's id, its keys and secrets, each disk's encryption set) is what apply does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from providers.platform.frame import PlatformSession, known, rule_error, rule_warning, where
from sdk import PlanRequest, PlanResponse
from sdk.diagnostics import error, warning

if TYPE_CHECKING:
    from providers.platform.compute.facts import RestorePointFacts

ALL_KEY = ["get", "list", "wrapKey", "unwrapKey", "encrypt", "decrypt", "sign"]
ALL_SECRET = ["get", "list", "set", "delete"]


@dataclass
class SourceEncryption:
    key_vault_id: str | None = None
    key_id: str | None = None
    secret_id: str | None = None  # None at plan time when the VM is not made yet
    disk_des: dict[str, str] = field(default_factory=dict)  # source disk id (lower) -> DES
    vm_des: str | None = None
    region: str | None = None  # the source VM's region (a copied restore point is elsewhere)

    @property
    def des(self) -> set[str]:
        out = set(self.disk_des.values())
        if self.vm_des:
            out.add(self.vm_des)
        return out


def _from_vm(s: PlatformSession, vm: dict[str, Any], disk_ids: list[str]) -> SourceEncryption:
    enc = vm.get("encryption") if isinstance(vm.get("encryption"), dict) else {}
    out = SourceEncryption(
        key_vault_id=enc.get("key_vault_id") if known(enc.get("key_vault_id")) else None,
        key_id=enc.get("key_id") if known(enc.get("key_id")) else None,
        secret_id=vm.get("encryption_secret_id"),
        vm_des=enc.get("disk_encryption_set_id")
        if known(enc.get("disk_encryption_set_id"))
        else None,
    )
    location = vm.get("location")
    out.region = location if known(location) else None
    for did in disk_ids:
        disk = s.lookup(did) or (s.fabric.get_resource(did) or {}).get("properties") or {}
        des = disk.get("disk_encryption_set_id")
        if known(des) and des:
            out.disk_des[did.lower()] = des
    return out


def source_encryption(s: PlatformSession, src: RestorePointFacts) -> SourceEncryption:
    """How the restore point's VM was encrypted."""
    from providers.platform.compute.facts import collection_facts

    if src.record is not None:
        meta = src.record.source_metadata
        extra = meta.get("metadata") or {}
        enc = extra.get("encryption") or {}
        return SourceEncryption(
            key_vault_id=enc.get("key_vault_id"),
            key_id=enc.get("key_id"),
            secret_id=extra.get("encryption_secret_id"),
            disk_des={
                d["id"].lower(): d["disk_encryption_set_id"]
                for d in meta.get("disks", [])
                if d.get("disk_encryption_set_id")
            },
            vm_des=enc.get("disk_encryption_set_id"),
            region=meta.get("region") or src.record.region,
        )
    coll = collection_facts(s, src.collection_id) if src.collection_id is not None else None
    vm_id = coll.source_vm_id if coll is not None else None
    if vm_id is None:
        return SourceEncryption()
    vm = s.lookup(vm_id) or (s.fabric.get_resource(vm_id) or {}).get("properties") or {}
    excluded = {x.lower() for x in src.exclude_disk_ids}
    disks = [vm.get("os_disk_id"), *(vm.get("data_disk_ids") or [])]
    return _from_vm(s, vm, [d for d in disks if known(d) and d.lower() not in excluded])


def restored_vault_name(vm_id: str, name: str) -> str:
    """The name of the key vault a cross-region restore creates: valid and unique per VM."""
    base = re.sub(r"[^A-Za-z0-9-]+", "-", name)[:13].strip("-") or "vm"
    base = re.sub(r"-{2,}", "-", base)
    return f"kv-{base}-{hashlib.sha1(vm_id.lower().encode()).hexdigest()[:6]}"


def check_kv1(
    req: PlanRequest, resp: PlanResponse, src: RestorePointFacts, enc: SourceEncryption
) -> bool:
    """Rule KV-1: a key-vault-encrypted VM is restored in its own subscription only; False
    (and the error in ``resp``) when the plan restores it into another one. ``enc`` is the
    source's ``source_encryption``."""
    planned = resp.planned_state
    assert planned is not None
    sub, src_sub = planned["target_subscription"], src.subscription
    if enc.key_vault_id and src_sub is not None and known(sub) and sub.lower() != src_sub.lower():
        # rule KV-1: a key-vault-encrypted VM is restored in its own subscription only
        resp.diagnostics.append(
            rule_error(
                "KV-1",
                "a VM encrypted with a key vault cannot be restored into another subscription",
                f"{req.address}: the VM of restore point {planned['restore_point_id']} is "
                f"encrypted with key vault {enc.key_vault_id} in subscription {src_sub}; key "
                f"vaults cannot be restored across subscriptions, so restore into {src_sub} "
                "(leave target_subscription out)",
                where(req, "target_subscription"),
                req.address,
            )
        )
        return False
    return True


def plan_encryption(
    s: PlatformSession,
    req: PlanRequest,
    resp: PlanResponse,
    src: RestorePointFacts,
) -> bool:
    """Check and plan the encryption of a restore; False when it cannot be planned."""
    from providers.platform.keyvault.common import des_facts, keystore, vault_facts, vault_id

    planned = resp.planned_state
    assert planned is not None
    enc = source_encryption(s, src)
    sub, rg, name, target = (
        planned["target_subscription"],
        planned["target_resource_group"],
        planned["name"],
        planned["target_location"],
    )
    src_sub = src.subscription
    region = s.fabric.check_region
    source_region = enc.region or src.location
    same_region = source_region is not None and region(target) == region(source_region)
    if enc.key_vault_id:  # KV-2 compares with the vault's region
        vault = vault_facts(s, enc.key_vault_id)
        if vault is not None and vault.location is not None:
            same_region = region(target) == region(vault.location)
    if not check_kv1(req, resp, src, enc):
        return False
    if enc.key_vault_id and not same_region:
        # rule KV-2: into another region of the subscription, the restore makes a key vault
        vname = restored_vault_name(planned["id"], name)
        planned["key_vault_id"] = vault_id(sub, rg, vname)
        keys = 1 if enc.key_id else 0
        resp.notes.append(
            f"creates key vault {vname} in {target} with {keys} key{'s' if keys != 1 else ''}, "
            f"1 secret, copied from {enc.key_vault_id.rsplit('/', 1)[-1]} (KV-2); only the "
            f"restore service principal {keystore(s).principals.service()} may read them (KV-3)"
        )
    given = planned.get("disk_encryption_set_id")
    if known(given) and given:
        des = des_facts(s, given)
        if des is None:
            resp.diagnostics.append(
                error(
                    f"Disk encryption set {given} does not exist",
                    f"{req.address}: disk_encryption_set_id names no disk_encryption_set "
                    "planned in this run or on the platform",
                    where(req, "disk_encryption_set_id"),
                    address=req.address,
                )
            )
            return False
        loc = des.location
        if loc is not None and s.fabric.check_region(loc) != s.fabric.check_region(target):
            resp.diagnostics.append(
                error(
                    f"Disk encryption set {given} is in {loc}, not {target}",
                    f"{req.address}: restored disks in {target} need a disk encryption set "
                    f"of {target}",
                    where(req, "disk_encryption_set_id"),
                    address=req.address,
                )
            )
            return False
    kind = planned.get("source_kind")
    carry = (
        source_region is not None
        and region(target) == region(source_region)
        and src_sub is not None
        and sub.lower() == src_sub.lower()
    )
    note = des_warning(kind, given if known(given) else None, enc.des, carry, target)
    if note is not None:
        rule, summary, detail = note
        rng, text = where(req, "source_kind"), f"{req.address}: {detail}"
        if rule:
            resp.diagnostics.append(rule_warning(rule, summary, text, rng, req.address))
        else:
            resp.diagnostics.append(warning(summary, text, rng, address=req.address))
    return True


def des_warning(
    kind: str, given: str | None, source_des: set[str], carry: bool, target: str
) -> tuple[str, str, str] | None:
    """(rule, summary, detail) when the restored disks will not carry the source's DES."""
    if not source_des:
        return None
    names = ", ".join(sorted(d.rsplit("/", 1)[-1] for d in source_des))
    then = (
        f"the restore applies disk_encryption_set_id {given.rsplit('/', 1)[-1]} to the restored "
        "disks"
        if given
        else "the restored disks get platform-managed keys; set disk_encryption_set_id to a "
        f"disk_encryption_set in {target} to encrypt them with your key"
    )
    if kind == "streaming":
        return (
            "DES-1",
            "a restore from a streaming backup does not apply the disk encryption set",
            f"the source VM's disks are under {names}; {then}",
        )
    if not carry and not given:
        return (
            "",
            f"the source disk encryption set {names} does not reach {target}",
            f"a disk encryption set serves its own region and subscription; {then}",
        )
    return None


def restored_des(kind: str, given: str | None, source: str | None, carry: bool) -> str | None:
    """The encryption set a restored disk gets (the source disk's set is ``source``)."""
    if given:
        return given
    # rule DES-1: a streaming restore does not carry the disk encryption set
    if kind == "streaming" or not carry:
        return None
    return source


def restore_key_vault(
    s: PlatformSession, p: dict[str, Any], meta: dict[str, Any], region: str
) -> tuple[str | None, str | None]:
    """Make the vault a KV-2 restore planned (``p["key_vault_id"]``) with copies of the
    source's key and disk encryption secret; (new key id, new secret id)."""
    from core.errors import AlreadyExists
    from providers.platform.keyvault.common import KEY_TYPE, VAULT_TYPE, keystore
    from providers.platform.registry import TypedId

    extra = meta.get("metadata") or {}
    enc = extra.get("encryption") or {}
    ks = keystore(s)
    kv_id = p["key_vault_id"]
    source = ks.vaults.get(enc["key_vault_id"])
    # rule KV-3: the restored vault's access policy holds only the restore service principal
    policies = [
        {
            "object_id": ks.principals.service(),
            "key_permissions": list(ALL_KEY),
            "secret_permissions": list(ALL_SECRET),
        }
    ]
    name = kv_id.rsplit("/", 1)[-1]
    found = ks.vaults.find(kv_id)
    if found is not None and found.deleted_at is not None:
        ks.vaults.recover(kv_id)
    if found is None:
        ks.vaults.create(
            kv_id,
            name=name,
            region=region,
            subscription=p["target_subscription"],
            retention_days=source.retention_days,
            purge_protection=source.purge_protection,
            policies=policies,
        )
    out: list[str | None] = []
    for item in (enc.get("key_id"), extra.get("encryption_secret_id")):
        if not item:
            out.append(None)
            continue
        try:
            out.append(ks.items.copy(item, kv_id))
        except AlreadyExists:  # a restore cut short made it already
            kind = "keys" if TypedId.of(item, KEY_TYPE) is not None else "secrets"
            out.append(f"{kv_id}/{kind}/{item.rsplit('/', 1)[-1]}")
    s.fabric.put_resource(
        kv_id,
        VAULT_TYPE,
        region,
        {
            "name": name,
            "resource_group": p["target_resource_group"],
            "location": region,
            "subscription": p["target_subscription"],
            "soft_delete_retention_days": source.retention_days,
            "purge_protection": source.purge_protection,
            "access_policy": policies,
            "tags": None,
            "restored_for": p["id"],
        },
    )
    return out[0], out[1]
