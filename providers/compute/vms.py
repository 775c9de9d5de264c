"""virtual_machine: a VM of the embedded platform, its disks, power state and guest hooks.

A VM is an inventory row (``Microsoft.Compute/virtualMachines``) whose properties hold every
argument plus ``vm_guid`` (a uuid made at create); its disks are managed disks. Always holds:
the id is ``.../providers/Microsoft.Compute/virtualMachines/{name}``, known at plan time; every
disk a VM names exists (planned in this run or on the platform) in the VM's location and
subscription, and is attached to no other VM unless it is shared; ``power_state`` and tags
update in place, so ``bcdr platform vm power`` or a tag set outside bcdr is drift that the
next apply undoes. ``vm_source`` is how restore points see a VM.

Encryption: ``encryption { key_vault_id, key_id }`` (disk encryption with a key vault in the
VM's region: at create the VM's volume key is wrapped by ``key_id`` and set as the secret
``bek-{vm_guid}`` in the vault, as the current user, and the restore point's source metadata
names vault, key and secret), ``encryption.disk_encryption_set_id`` (every disk of the VM is
under that set) and ``bitlocker_enabled`` (Windows only) are checked at plan time.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from engine.diagnostics import error
from engine.values import UNKNOWN
from providers.base import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from providers.compute.groups import (
    ID,
    SUBSCRIPTION,
    TAGS,
    arguments,
    known,
    name_attribute,
    one_of,
    plan_in_group,
    state_from,
    subscription_of,
)
from providers.resource import ResourceType, Session, where

if TYPE_CHECKING:
    from core.rpmodel import VmSource

VM_TYPE = "Microsoft.Compute/virtualMachines"
DISK_TYPE = "Microsoft.Compute/disks"


def vm_id(subscription: str, resource_group: str, name: str) -> str:
    from core.fabric import ResourceId

    return str(
        ResourceId(subscription, resource_group, "Microsoft.Compute", "virtualMachines", name)
    )


NETWORK = Schema(
    attributes={
        "subnet_id": Attribute(optional=True),
        "private_ip_address": Attribute(optional=True),
        "public_ip": Attribute(type="bool", optional=True, default=False),
        "hostname": Attribute(optional=True),
    }
)
HOOKS = Schema(
    attributes={
        "pre_snapshot": Attribute(optional=True, description="shell command that quiesces"),
        "post_snapshot": Attribute(optional=True, description="shell command that resumes"),
        "timeout_seconds": Attribute(type="number", optional=True, default=60),
    }
)
ENCRYPTION = Schema(
    attributes={
        "key_vault_id": Attribute(optional=True),
        "key_id": Attribute(optional=True),
        "disk_encryption_set_id": Attribute(optional=True),
    }
)


def disk_facts(s: Session, disk_id: str, planned_only: bool) -> dict[str, Any] | None:
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


def _other_vms(s: Session, me: str) -> dict[str, dict[str, Any]]:
    """Every other VM's attributes by id: planned in this run where known, else its row."""
    found = {
        r["id"].lower(): dict(r["properties"], id=r["id"]) for r in s.fabric.list_resources(VM_TYPE)
    }
    for id, attrs in s.planned.copy().items():  # a copy: apply steps run in threads
        if "/providers/microsoft.compute/virtualmachines/" in id.lower():
            found[id.lower()] = attrs
    found.pop(me.lower(), None)
    return found


def disk_problems(s: Session, vm: dict[str, Any], planned_only: bool) -> list[tuple[str, str, str]]:
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


def encryption_problems(s: Session, vm: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(attribute, summary, detail) for each way the VM's encryption cannot work: the key
    vault or key or disk encryption set it names is missing or elsewhere, a disk is not under
    the VM's encryption set, BitLocker on Linux."""
    from providers.keyvault import des_facts, keystore, vault_facts

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
            elif not planned_key and keystore(s).item_state(key) not in ("live", "disabled"):
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


def disk_encryption_secret(s: Session, vm: dict[str, Any]) -> str | None:
    """For a VM encrypted with a key vault: its disk encryption secret (a random volume key,
    wrapped by ``key_id`` when given), set in the vault as the current user; its id."""
    import base64
    import os

    from core.crypto import item_id

    enc = vm.get("encryption") or {}
    if not enc.get("key_vault_id"):
        return None
    ks = _keystore(s)
    me = ks.user_principal()
    volume_key = os.urandom(32)
    if enc.get("key_id"):
        volume_key = ks.wrap_key(enc["key_id"], volume_key, me)
    secret = item_id(enc["key_vault_id"], "secret", f"bek-{vm['vm_guid']}")
    ks.set_secret(secret, base64.b64encode(volume_key).decode(), me)
    return secret


def _keystore(s: Session) -> Any:
    from providers.keyvault import keystore

    return keystore(s)


class VirtualMachine(ResourceType):
    type_name = "virtual_machine"
    schema = Schema(
        attributes={
            "name": name_attribute("VM"),
            "resource_group": Attribute(
                required=True, force_new=True, description="the resource group's name"
            ),
            "location": Attribute(required=True, force_new=True, description="the region"),
            "subscription": SUBSCRIPTION,
            "size": Attribute(optional=True, default="Standard_D2s_v5"),
            "os_type": Attribute(
                optional=True,
                force_new=True,
                default="linux",
                validators=(one_of("linux", "windows"),),
            ),
            "os_distro": Attribute(optional=True, description="e.g. ubuntu-22.04, rhel-9"),
            "power_state": Attribute(
                optional=True, default="running", validators=(one_of("running", "stopped"),)
            ),
            "os_disk_id": Attribute(required=True, force_new=True),
            "ephemeral_os_disk": Attribute(
                type="bool", optional=True, force_new=True, default=False
            ),
            "data_disk_ids": Attribute(type="list(string)", optional=True),
            "network": Attribute(block=NETWORK, nesting="single", optional=True),
            "guest_hooks": Attribute(block=HOOKS, nesting="single", optional=True),
            "boot_image_modules": Attribute(type="list(string)", optional=True),
            "bitlocker_enabled": Attribute(type="bool", optional=True, default=False),
            "encryption": Attribute(
                block=ENCRYPTION, nesting="single", optional=True, force_new=True
            ),
            "tags": TAGS,
            "id": ID,
            "vm_guid": Attribute(computed=True, description="a uuid made at create"),
        },
        description="A virtual machine of the embedded platform.",
    )

    def complete_plan(self, s: Session, req: PlanRequest, resp: PlanResponse) -> None:
        planned = resp.planned_state
        assert planned is not None
        if not plan_in_group(s, req, resp):
            return
        names = (planned["subscription"], planned.get("resource_group"), planned.get("name"))
        if all(known(x) for x in names):
            planned["id"] = vm_id(
                planned["subscription"], planned["resource_group"], planned["name"]
            )
        for attr, summary, detail in disk_problems(s, planned, planned_only=True):
            resp.diagnostics.append(
                error(summary, f"{req.address}: {detail}", where(req, attr), address=req.address)
            )
        for attr, summary, detail in encryption_problems(s, planned):
            resp.diagnostics.append(
                error(summary, f"{req.address}: {detail}", where(req, attr), address=req.address)
            )

    def _put(self, s: Session, state: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
        from core.errors import CoreError

        problems = disk_problems(s, state, planned_only=False)
        if problems:
            raise CoreError(f"VM {state['name']}: {problems[0][2]}")
        region = s.fabric.check_region(state["location"])
        props = arguments(self.schema, state)
        props["vm_guid"] = state["vm_guid"]
        row = s.fabric.get_resource(state["id"])
        secret = secret or (row["properties"].get("encryption_secret_id") if row else None)
        if secret:
            props["encryption_secret_id"] = secret
        s.fabric.put_resource(state["id"], VM_TYPE, region, props)
        if state.get("ephemeral_os_disk"):
            s.disks.set_flags(state["os_disk_id"], ephemeral=True)
        return state_from(self.schema, props, id=state["id"])

    def create(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        state = dict(req.planned_state)
        state["vm_guid"] = str(uuid.uuid4())
        secret = disk_encryption_secret(s, state)
        return self._put(s, state, secret)

    def update(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        state = dict(req.planned_state)
        state["vm_guid"] = (req.prior_state or {}).get("vm_guid") or str(uuid.uuid4())
        return self._put(s, state)

    def read(self, s: Session, state: dict[str, Any]) -> dict[str, Any] | None:
        row = s.fabric.get_resource(state.get("id") or "")
        if row is None or row["type"] != VM_TYPE:
            return None
        return state_from(self.schema, row["properties"], id=row["id"])

    def delete(self, s: Session, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        if state.get("ephemeral_os_disk") and state.get("os_disk_id"):
            try:
                s.disks.set_flags(state["os_disk_id"], ephemeral=False)
            except NotFound:
                pass
        s.fabric.delete_resource(state["id"])


def vm_source(s: Session, vm_id: str) -> VmSource:
    """The core's view of a VM (``core.rpmodel.VmSource``) from its inventory row.

    Raises ``NotFound`` naming the VM when it does not exist.
    """
    from core.errors import NotFound
    from core.rpmodel import HookSpec, VmSource

    row = s.fabric.get_resource(vm_id)
    if row is None or row["type"] != VM_TYPE:
        raise NotFound(f"VM {vm_id} does not exist: check the id or create the VM first")
    p = row["properties"]
    hooks = p.get("guest_hooks") or None
    spec = None
    if hooks and (hooks.get("pre_snapshot") or hooks.get("post_snapshot")):
        timeout = hooks.get("timeout_seconds")
        spec = HookSpec(
            hooks.get("pre_snapshot"),
            hooks.get("post_snapshot"),
            float(60 if timeout is None else timeout),
        )
    return VmSource(
        vm_id=row["id"],
        name=p["name"],
        region=row["region"],
        subscription=p["subscription"],
        size=p.get("size") or "Standard_D2s_v5",
        os_type=p.get("os_type") or "linux",
        power_state=p.get("power_state") or "running",
        os_disk_id=p["os_disk_id"],
        data_disk_ids=list(p.get("data_disk_ids") or []),
        hooks=spec,
        network=dict(p.get("network") or {}),
        metadata={
            k: p.get(k)
            for k in (
                "vm_guid",
                "os_distro",
                "resource_group",
                "ephemeral_os_disk",
                "boot_image_modules",
                "bitlocker_enabled",
                "encryption",
                "encryption_secret_id",
                "tags",
            )
            if p.get(k) is not None
        },
    )


TYPES: list[ResourceType] = [VirtualMachine()]
