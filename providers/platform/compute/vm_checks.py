"""The checks a virtual machine's disks and encryption must pass, at plan time and again at
apply, and the disk encryption secret made at create.

Always holds: a check returns ``(attribute, summary, detail)`` for each problem and never
raises for a user mistake; ``planned_only`` (plan time) lets a disk planned in this run count
as existing, while apply checks against the platform only; every disk a VM names exists in
the VM's location and subscription and is attached to no other VM unless it is shared; the
key store is reached through ``providers.platform.keyvault`` (imported when first needed).
"""

from __future__ import annotations

from typing import Any

from providers.platform.compute.groups import VM_TYPE, subscription_of
from providers.platform.frame import PlatformSession, known
from sdk.values import UNKNOWN


def disk_facts(s: PlatformSession, disk_id: str, planned_only: bool) -> dict[str, Any] | None:
    """location, subscription, shared and name of a disk: planned in this run or on the platform."""
    from core.errors import NotFound

    planned = s.lookup(disk_id) if planned_only else None
    if planned is not None and "/providers/microsoft.compute/disks/" in disk_id.lower():
        return {
            "name": planned.get("name"),
            "location": planned.get("location"),
            "subscription": planned.get("subscription"),
            "shared": planned.get("shared"),
        }
    try:
        disk = s.disks.get(disk_id)
    except NotFound:
        return None
    row = s.fabric.get_resource(disk.id)
    location = row["properties"].get("location") if row else None
    return {
        "name": disk.name,
        "location": location or disk.region,
        "subscription": disk.subscription,
        "shared": disk.shared,
    }


def _other_vms(s: PlatformSession, me: str) -> dict[str, dict[str, Any]]:
    """Every other VM's attributes by id: planned in this run where known, else its row."""
    found = {
        r["id"].lower(): dict(r["properties"], id=r["id"]) for r in s.fabric.list_resources(VM_TYPE)
    }
    for id, attrs in s.planned.copy().items():  # a copy: apply steps run in threads
        if "/providers/microsoft.compute/virtualmachines/" in id.lower():
            found[id.lower()] = attrs
    found.pop(me.lower(), None)
    return found


def disk_problems(
    s: PlatformSession, vm: dict[str, Any], planned_only: bool
) -> list[tuple[str, str, str]]:
    """(attribute, summary, detail) for each disk the VM cannot have."""
    out: list[tuple[str, str, str]] = []
    name, location, sub = vm.get("name"), vm.get("location"), vm.get("subscription")
    attached: list[tuple[str, str]] = []
    if known(vm.get("os_disk_id")):
        attached.append(("os_disk_id", vm["os_disk_id"]))
    data = vm.get("data_disk_ids")
    if known(data):
        attached += [("data_disk_ids", d) for d in data if known(d)]
    seen: set[str] = set()
    others = None
    for attr, did in attached:
        if did.lower() in seen:
            out.append((attr, f"Disk {did} is attached twice", "list each disk once"))
            continue
        seen.add(did.lower())
        facts = disk_facts(s, did, planned_only)
        if facts is None:
            out.append(
                (
                    attr,
                    f"Disk {did} does not exist",
                    f"VM {name!r} names disk {did}, which is neither planned nor on the "
                    "platform: check the id, or declare the disk (managed_disk) and refer to "
                    "its id",
                )
            )
            continue
        region = facts["location"]
        if known(region) and known(location):
            if s.fabric.check_region(region) != s.fabric.check_region(location):
                out.append(
                    (
                        attr,
                        f"Disk {facts['name']!r} is in another region than VM {name!r}",
                        f"disk {did} is in {region}, VM {name!r} in {location}: a VM's disks "
                        f"must be in its location; create the disk in {location}",
                    )
                )
        dsub = facts["subscription"] if known(facts["subscription"]) else subscription_of(did)
        if known(dsub) and known(sub) and dsub.lower() != sub.lower():
            out.append(
                (
                    attr,
                    f"Disk {facts['name']!r} is in another subscription than VM {name!r}",
                    f"disk {did} is in subscription {dsub}, VM {name!r} in {sub}: a VM's disks "
                    f"must be in its subscription",
                )
            )
        if facts.get("shared") is True:
            continue
        others = _other_vms(s, str(vm.get("id") or "")) if others is None else others
        for other_id, other in others.items():
            ids = [other.get("os_disk_id"), *(other.get("data_disk_ids") or [])]
            if any(isinstance(x, str) and x.lower() == did.lower() for x in ids):
                out.append(
                    (
                        attr,
                        f"Disk {facts['name']!r} is attached to another VM",
                        f"disk {did} is attached to {other.get('id') or other_id} already; a "
                        "disk can be attached to one VM only unless it is shared (shared = "
                        "true on the managed_disk)",
                    )
                )
                break
    return out


def encryption_problems(s: PlatformSession, vm: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(attribute, summary, detail) for each way the VM's encryption cannot work: the key
    vault or key or disk encryption set it names is missing or elsewhere, a disk is not under
    the VM's encryption set, BitLocker on Linux."""
    from providers.platform.keyvault import des_facts, keystore, vault_facts

    out: list[tuple[str, str, str]] = []
    name, location = vm.get("name"), vm.get("location")
    if vm.get("bitlocker_enabled") is True and vm.get("os_type") == "linux":
        out.append(
            (
                "bitlocker_enabled",
                f"BitLocker on Linux VM {name!r}",
                "BitLocker encrypts Windows guests; for a Linux VM use encryption { key_vault_id "
                "} (disk encryption with a key vault) or disks under a disk_encryption_set",
            )
        )
    enc = vm.get("encryption")
    if not isinstance(enc, dict):
        return out
    vid, key, des = enc.get("key_vault_id"), enc.get("key_id"), enc.get("disk_encryption_set_id")
    if known(key) and not known(vid):
        out.append(("encryption", "encryption.key_id needs key_vault_id", "name the key's vault"))
    if known(vid):
        vault = vault_facts(s, vid)
        if vault is None:
            out.append(
                (
                    "encryption",
                    f"Key vault {vid} does not exist",
                    "encryption.key_vault_id names no key vault planned or on the platform",
                )
            )
        elif known(vault.get("location")) and known(location):
            if s.fabric.check_region(vault["location"]) != s.fabric.check_region(location):
                out.append(
                    (
                        "encryption",
                        f"Key vault {vault.get('name')} is in another region than VM {name!r}",
                        f"disk encryption uses a key vault in the VM's region ({location}); "
                        "use a vault there",
                    )
                )
        if known(key):
            planned_key = s.lookup(key) is not None
            if not key.lower().startswith(vid.lower() + "/keys/"):
                out.append(
                    ("encryption", f"Key {key} is not in key vault {vid}", "use a key of it")
                )
            elif not planned_key and keystore(s).items.state(key) not in ("live", "disabled"):
                out.append(("encryption", f"Key {key} does not exist", "check encryption.key_id"))
    if known(des):
        if des_facts(s, des) is None:
            out.append(
                (
                    "encryption",
                    f"Disk encryption set {des} does not exist",
                    "encryption.disk_encryption_set_id names no disk_encryption_set planned "
                    "or on the platform",
                )
            )
        ids = [vm.get("os_disk_id"), *(vm.get("data_disk_ids") or [])]
        for did in [d for d in ids if known(d)]:
            disk = s.lookup(did) or (s.fabric.get_resource(did) or {}).get("properties") or {}
            got = disk.get("disk_encryption_set_id")
            if got is UNKNOWN or str(got or "").lower() == des.lower():
                continue
            out.append(
                (
                    "encryption",
                    f"Disk {disk.get('name') or did} is not under disk encryption set {des}",
                    f"VM {name!r} says its disks are encrypted with {des}; set "
                    "disk_encryption_set_id on that managed_disk to it",
                )
            )
    return out


def disk_encryption_secret(s: PlatformSession, vm: dict[str, Any]) -> str | None:
    """For a VM encrypted with a key vault: its disk encryption secret (a random volume key,
    wrapped by ``key_id`` when given), set in the vault as the current user; its id."""
    import base64
    import os

    from core.keystore import item_id

    enc = vm.get("encryption") or {}
    if not enc.get("key_vault_id"):
        return None
    ks = _keystore(s)
    me = ks.principals.user()
    volume_key = os.urandom(32)
    if enc.get("key_id"):
        volume_key = ks.keys.wrap(enc["key_id"], volume_key, me)
    secret = item_id(enc["key_vault_id"], "secret", f"bek-{vm['vm_guid']}")
    ks.secrets.set(secret, base64.b64encode(volume_key).decode(), me)
    return secret


def _keystore(s: PlatformSession) -> Any:
    from providers.platform.keyvault import keystore

    return keystore(s)
