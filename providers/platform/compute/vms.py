"""virtual_machine: a VM of the embedded platform, its disks, power state and guest hooks.

A VM is an inventory row (``Microsoft.Compute/virtualMachines``) whose properties hold every
argument plus ``vm_guid`` (a uuid made at create); its disks are managed disks. Always holds:
the id is ``.../providers/Microsoft.Compute/virtualMachines/{name}``, known at plan time; every
disk a VM names exists (planned in this run or on the platform) in the VM's location and
subscription, is named once, and is attached to no other VM unless it is shared (rules
VM-1 to VM-5, ``core.disks.attachment_problems``, at plan and again at apply);
``power_state`` and tags update in place, so ``bcdr platform vm power`` or a tag set outside
bcdr is drift that the next apply undoes. ``vm_source`` is how restore points see a VM. The
facts of the disk rules and the encryption checks live in
``providers.platform.compute.vm_checks``.

Encryption: ``encryption { key_vault_id, key_id }`` (disk encryption with a key vault in the
VM's region: at create the VM's volume key is wrapped by ``key_id`` and set as the secret
``bek-{vm_guid}`` in the vault, as the current user, and the restore point's source metadata
names vault, key and secret), ``encryption.disk_encryption_set_id`` (every disk of the VM is
under that set) and ``bitlocker_enabled`` (Windows only) are checked at plan time.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.compute import examples
from providers.platform.compute.facts import vm_facts
from providers.platform.compute.groups import VM_TYPE
from providers.platform.compute.vm_checks import (
    disk_encryption_secret,
    encryption_problems,
    vm_disks,
)
from providers.platform.frame import PlatformSession, ResourceType, where
from providers.platform.registry import Core, Declaration, group_id
from providers.platform.rules import problem_diagnostic
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error

if TYPE_CHECKING:
    from core.disks import VmDisks
    from core.problems import Problem
    from core.restorepoints import VmSource


def _disk_attr(vm: VmDisks, problem: Problem) -> str:
    """The argument a disk rule's problem points at: a disk named twice is always a data disk."""
    if problem.rule != "VM-2" and problem.about.lower() == (vm.os_disk_id or "").lower():
        return "os_disk_id"
    return "data_disk_ids"


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    """``bcdr platform delete`` of a VM: its ephemeral OS disk stops being ephemeral."""
    from core.errors import NotFound

    props = row["properties"] if row else {}
    if props.get("ephemeral_os_disk") and props.get("os_disk_id"):
        with suppress(NotFound):
            c.disks.set_flags(props["os_disk_id"], ephemeral=False)
    return [], 0


VIRTUAL_MACHINE = Declaration(
    "virtual_machine",
    VM_TYPE,
    ("vm",),
    facts=vm_facts,
    summary=lambda props: str(props.get("power_state") or "running"),
    delete=_delete,
)


def vm_id(subscription: str, resource_group: str, name: str) -> str:
    return VIRTUAL_MACHINE.make_id(group_id(subscription, resource_group), name)


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


class VirtualMachine(ResourceType):
    type_name = VIRTUAL_MACHINE.type_name
    declaration = VIRTUAL_MACHINE
    id_type = VM_TYPE
    schema = Schema(
        attributes={
            **common_attributes("VM"),
            "size": Attribute(optional=True, default="Standard_D2s_v5"),
            "os_type": Attribute(
                optional=True,
                force_new=True,
                default="linux",
                allowed=("linux", "windows"),
            ),
            "os_distro": Attribute(optional=True, description="e.g. ubuntu-22.04, rhel-9"),
            "power_state": Attribute(
                optional=True, default="running", allowed=("running", "stopped")
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
            **tags_and_id(),
            "vm_guid": Attribute(computed=True, description="a uuid made at create"),
        },
        description="A virtual machine of the embedded platform.",
        rules=("VM-1", "VM-2", "VM-3", "VM-4", "VM-5"),
        example=examples.VM,
    )

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from core.disks import attachment_problems

        facts = vm_disks(s, planned, planned_only=True)
        for p in attachment_problems(facts):  # VM-1 to VM-5, the function apply calls too
            resp.diagnostics.append(problem_diagnostic(req, p, _disk_attr(facts, p)))
        for attr, summary, detail in encryption_problems(s, planned):
            resp.diagnostics.append(
                error(summary, f"{req.address}: {detail}", where(req, attr), address=req.address)
            )

    def _put(
        self, s: PlatformSession, state: dict[str, Any], secret: str | None = None
    ) -> dict[str, Any]:
        from core.disks import attachment_problems
        from core.problems import enforce

        enforce(attachment_problems(vm_disks(s, state, planned_only=False)), f"VM {state['name']}")
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

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        state = dict(req.planned_state)
        state["vm_guid"] = str(uuid.uuid4())
        secret = disk_encryption_secret(s, state)
        return self._put(s, state, secret)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        state = dict(req.planned_state)
        state["vm_guid"] = (req.prior_state or {}).get("vm_guid") or str(uuid.uuid4())
        return self._put(s, state)

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        row = s.fabric.get_resource(state.get("id") or "")
        if row is None or row["type"] != VM_TYPE:
            return None
        return state_from(self.schema, row["properties"], id=row["id"])

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        if state.get("ephemeral_os_disk") and state.get("os_disk_id"):
            try:
                s.disks.set_flags(state["os_disk_id"], ephemeral=False)
            except NotFound:
                pass
        s.fabric.delete_resource(state["id"])


def vm_source(s: PlatformSession, vm_id: str) -> VmSource:
    """The core's view of a VM (``core.restorepoints.model.VmSource``) from its inventory row.

    Raises ``NotFound`` naming the VM when it does not exist.
    """
    from core.errors import NotFound
    from core.restorepoints import vm_source_from_row

    row = s.fabric.get_resource(vm_id)
    if row is None or row["type"] != VM_TYPE:
        raise NotFound(f"VM {vm_id} does not exist: check the id or create the VM first")
    return vm_source_from_row(row)


TYPES: list[ResourceType] = [VirtualMachine()]
DECLARATIONS = [VIRTUAL_MACHINE]
