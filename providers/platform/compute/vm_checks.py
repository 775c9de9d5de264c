"""The facts a virtual machine's disk rules need, the checks its encryption must pass at
plan time, and the disk encryption secret made at create.

The disk rules themselves (VM-1 to VM-5: every disk a VM names exists in the VM's location
and subscription, is named once and is attached to no other VM unless it is shared) are
``core.disks.rules.attachment_problems``; ``vm_disks`` gathers its facts. Always holds:
``planned_only`` (plan time) lets a disk planned in this run count as existing, while apply
checks against the platform only; an encryption check returns ``(attribute, summary,
detail)`` for each problem and never raises for a user mistake; the key store is reached
through ``providers.platform.keyvault`` (imported when first needed).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from providers.platform.compute.groups import VM_TYPE
from providers.platform.frame import PlatformSession, known
from sdk.values import UNKNOWN

if TYPE_CHECKING:
    from core.disks import DiskPlacement, VmDisks


def disk_placement(s: PlatformSession, disk_id: str, planned_only: bool) -> DiskPlacement | None:
    """Where a disk is and whether it is shared: planned in this run first (``planned_only``,
    plan time), else on the platform; None when it is neither. ``attached_to`` is left for
    ``vm_disks``."""
    from core.disks import DiskPlacement
    from providers.platform.compute.facts import disk_facts

    d = disk_facts(s, disk_id, "first" if planned_only else "never")
    if d is None:
        return None
    return DiskPlacement(d.id, d.name, d.location, d.subscription, d.shared)


def _attachments(s: PlatformSession, me: str) -> dict[str, str]:
    """lower-cased disk id -> the first other VM that attaches it: the VMs planned in this run
    as planned, the others as their inventory rows have them."""
    from providers.platform.registry import TypedId

    found = {
        r["id"].lower(): dict(r["properties"], id=r["id"]) for r in s.fabric.list_resources(VM_TYPE)
    }
    for key, attrs in s.planned.copy().items():  # a copy: apply steps run in threads
        if TypedId.of(key, VM_TYPE) is not None:
            found[key] = attrs
    found.pop(me.lower(), None)
    out: dict[str, str] = {}
    for other_id, other in found.items():
        for x in [other.get("os_disk_id"), *(other.get("data_disk_ids") or [])]:
            if isinstance(x, str):
                out.setdefault(x.lower(), other.get("id") or other_id)
    return out


def vm_disks(s: PlatformSession, vm: dict[str, Any], planned_only: bool) -> VmDisks:
    """The facts rules VM-1 to VM-5 (``core.disks.rules.attachment_problems``) need of a VM's
    attributes (planned or applied): its disks as ``disk_placement`` finds them, each not
    shared with the other VM that attaches it."""
    from core.disks import VmDisks

    name, location, sub = vm.get("name"), vm.get("location"), vm.get("subscription")
    os_id = vm["os_disk_id"] if known(vm.get("os_disk_id")) else None
    data = vm.get("data_disk_ids")
    data_ids = [d for d in data if known(d)] if known(data) else []
    disks: dict[str, DiskPlacement] = {}
    others: dict[str, str] | None = None
    for did in [d for d in [os_id, *data_ids] if d is not None]:
        placement = disk_placement(s, did, planned_only) if did.lower() not in disks else None
        if placement is None:
            continue
        if not placement.shared:
            others = _attachments(s, str(vm.get("id") or "")) if others is None else others
            placement = replace(placement, attached_to=others.get(did.lower()))
        disks[did.lower()] = placement
    return VmDisks(
        str(name) if known(name) else "",
        location if known(location) else None,
        sub if known(sub) else None,
        os_id,
        data_ids,
        disks,
    )


def encryption_problems(s: PlatformSession, vm: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(attribute, summary, detail) for each way the VM's encryption cannot work: the key
    vault or key or disk encryption set it names is missing or elsewhere, a disk is not under
    the VM's encryption set, BitLocker on Linux."""
    from providers.platform.keyvault.common import KEY_TYPE, des_facts, keystore, vault_facts
    from providers.platform.registry import TypedId

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
        elif vault.location is not None and known(location):
            if s.fabric.check_region(vault.location) != s.fabric.check_region(location):
                out.append(
                    (
                        "encryption",
                        f"Key vault {vault.name} is in another region than VM {name!r}",
                        f"disk encryption uses a key vault in the VM's region ({location}); "
                        "use a vault there",
                    )
                )
        if known(key):
            planned_key = s.lookup(key) is not None
            typed = TypedId.of(key, KEY_TYPE)
            if typed is None or typed.parent is None or typed.parent.key != vid.lower():
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
    from providers.platform.keyvault.common import keystore

    return keystore(s)
