"""managed_disk: raw-image disks created empty, imported from an image, restored or copied.

``create_option`` says where the bytes come from: ``Empty`` (zeros, ``size_gb``),
``Import`` (the raw image file ``source_uri``, relative to the specs), ``Restore`` (a disk
restore point, ``source_resource_id``, rule RP-8) or ``Copy`` (another disk, rule DISK-2);
``sku`` is one of ``core.disks.SKUS`` (rule DISK-1: the schema's ``allowed`` at plan, the
core at apply). Always holds:
the id is ``.../providers/Microsoft.Compute/disks/{name}``, known at plan time; a disk lives
in the core (``core.disks.managed.Disks``) and has an inventory row (``Microsoft.Compute/disks``)
holding its arguments; everything but ``tags`` and a growing ``size_gb`` forces a new disk,
and a plan that replaces a disk says how many bytes of data it destroys; a smaller ``size_gb``
is a plan error (Azure refuses to shrink a disk, and a replace would lose its data); a size is
at most 32,767 GiB and rounded up to a whole MiB; ``modified_at`` is the disk file's mtime, so
a guest write made outside bcdr shows as drift. The plan-time checks (configuration, size,
source, free space) live in ``providers.platform.compute.disk_plan``; beside the type, its
declaration for ``bcdr platform`` (list, show, and delete a disk no VM attaches).

It passes 400 lines by a little: the disk's type, its declaration and its CRUD share the row
helpers and the attachment lookups; its plan-time checks are already in ``disk_plan``.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from core.disks import SKUS
from providers.defaults import planned_values
from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.compute import examples
from providers.platform.compute.disk_plan import (
    GiB,
    check_config,
    check_space,
    plan_source,
    shrink_error,
    size_bytes_of,
)
from providers.platform.compute.disk_sources import (
    image_path,
    image_size,
)
from providers.platform.compute.facts import disk_facts
from providers.platform.compute.groups import DISK_TYPE, VM_TYPE, subscription_of
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.registry import Core, Declaration, group_id
from sdk import (
    ApplyRequest,
    Attribute,
    PlanRequest,
    PlanResponse,
    Progress,
    Schema,
    ValidateRequest,
)
from sdk.diagnostics import Diagnostics, error
from sdk.units import human_bytes
from sdk.values import UNKNOWN

OPTIONS = ("Empty", "Import", "Restore", "Copy")
# Arguments that say where the bytes came from: adopted as configured (not a replacement)
# when the state does not know them, as after `bcdr import` of a disk made outside bcdr.
_PROVENANCE = ("create_option", "source_uri", "source_resource_id")

# Azure's largest managed disk; the embedded platform allows disks below Azure's 1 GiB
# minimum (down to 1 MiB, its size unit) so that examples and tests stay small
MAX_GB = 32_767


def _size(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        return "give a size above 0"
    if value > MAX_GB:
        return (
            f"{value:g} GiB ({human_bytes(value * GiB)}) is larger than Azure's largest managed "
            f"disk, {MAX_GB:,} GiB ({human_bytes(MAX_GB * GiB)}): give at most {MAX_GB}"
        )
    return None


def stamp(modified_ns: int) -> str:
    """A file mtime as RFC 3339 UTC with nanoseconds."""
    secs, ns = divmod(modified_ns, 1_000_000_000)
    return f"{datetime.fromtimestamp(secs, UTC):%Y-%m-%dT%H:%M:%S}.{ns:09d}Z"


def vms_using(c: Core, disk_id: str) -> list[str]:
    """The VMs whose inventory rows attach ``disk_id``."""
    out = []
    for row in c.fabric.list_resources(VM_TYPE):
        p = row["properties"]
        used = [p.get("os_disk_id"), *(p.get("data_disk_ids") or [])]
        if any(isinstance(d, str) and d.lower() == disk_id.lower() for d in used):
            out.append(row["id"])
    return out


def _summary(props: dict[str, Any]) -> str:
    if props.get("size_bytes") is None:
        return ""
    return f"{human_bytes(props['size_bytes'])}, {props.get('sku') or 'Standard_LRS'}"


def _show(c: Core, id: str) -> dict[str, Any]:
    from providers.platform.inventory import iso

    disk = c.disks.get(id)
    info = c.disks.file_info(id)
    changed = c.disks.changed_blocks(id)
    return {
        "disk": {
            "region": disk.region,
            "size_bytes": disk.size_bytes,
            "size": human_bytes(disk.size_bytes),
            "allocated_bytes": info.allocated_bytes,
            "allocated": human_bytes(info.allocated_bytes),
            "sku": disk.sku,
            "shared": disk.shared,
            "ephemeral": disk.ephemeral,
            "encryption_set_id": disk.encryption_set_id,
            "modified_at": iso(info.modified_ns / 1e9),
            "bytes_changed_since_restore_point": None if changed is None else changed.bytes,
            "attached_to": vms_using(c, id),
        }
    }


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    from core.errors import NotFound
    from providers.platform.inventory import fail

    users = vms_using(c, id)
    if users:
        raise fail(
            f"disk {id} is attached to VM {users[0]}",
            "Delete the VM first (bcdr platform delete VM_ID), or detach the disk in "
            "its spec and apply.",
        )
    with suppress(NotFound):
        c.disks.delete(id)
    return [], 0


MANAGED_DISK = Declaration(
    "managed_disk",
    DISK_TYPE,
    ("disk",),
    facts=lambda s, id: disk_facts(s, id, "first"),
    find=lambda c, id: c.disks.get(id).id,
    listed=lambda c: [
        (d.id, d.region, {"size_bytes": d.size_bytes, "sku": d.sku}) for d in c.disks.list()
    ],
    summary=_summary,
    show=_show,
    delete=_delete,
)


def disk_id(subscription: str, resource_group: str, name: str) -> str:
    return MANAGED_DISK.make_id(group_id(subscription, resource_group), name)


class ManagedDisk(ResourceType):
    type_name = MANAGED_DISK.type_name
    declaration = MANAGED_DISK
    id_type = DISK_TYPE
    schema = Schema(
        attributes={
            **common_attributes("disk"),
            "size_gb": Attribute(
                type="number",
                optional=True,
                validators=(_size,),
                description="size in GiB, at most 32,767, rounded up to a whole MiB (an imported "
                "or restored disk: at least its source's); grows in place, never shrinks",
            ),
            "sku": Attribute(optional=True, force_new=True, default="Standard_LRS", allowed=SKUS),
            "create_option": Attribute(
                optional=True, force_new=True, default="Empty", allowed=OPTIONS
            ),
            "source_uri": Attribute(
                optional=True, force_new=True, description="Import: a raw image file"
            ),
            "source_resource_id": Attribute(
                optional=True,
                force_new=True,
                description="Restore: a disk restore point id; Copy: a disk id",
            ),
            "disk_encryption_set_id": Attribute(optional=True, force_new=True),
            "shared": Attribute(type="bool", optional=True, force_new=True, default=False),
            **tags_and_id(),
            "size_bytes": Attribute(type="number", computed=True),
            "modified_at": Attribute(computed=True, description="when the disk was last written"),
        },
        description="A managed disk: a raw image file of the embedded platform.",
        rules=("DISK-1", "DISK-2", "RP-8"),
        example=examples.DISK,
    )

    # -------------------------------------------------------------------- plan
    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        return check_config(s, req, lambda: self._exists(s, req.config))

    @staticmethod
    def _exists(s: PlatformSession, cfg: dict[str, Any]) -> bool:
        """Whether the disk the configuration names is on the platform already (its image is
        then needed only if the plan replaces it). A platform not made yet is not opened."""
        from core.errors import CoreError

        rg, name, sub = cfg.get("resource_group"), cfg.get("name"), cfg.get("subscription")
        if not (known(rg) and known(name) and s.home.exists()):
            return False
        try:
            s.disks.get(disk_id(sub if known(sub) else s.subscription, rg, name))
        except CoreError:
            return False
        return True

    def revise_plan(self, s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> bool:
        """A disk imported from outside bcdr adopts its provenance arguments as configured
        (no replacement), and a disk never shrinks (a plan error, the plan goes no further)."""
        prior = req.prior_state
        planned = resp.planned_state
        assert planned is not None
        if prior is not None:
            replace = [
                r
                for r in resp.requires_replace
                if not (r in _PROVENANCE and prior.get("create_option") is None)
            ]
            new_size = size_bytes_of(planned.get("size_gb"))
            if not replace and new_size is not None and known(prior.get("size_bytes")):
                if new_size < prior["size_bytes"]:
                    resp.diagnostics.append(shrink_error(req, planned, prior))
                    return False
            if replace != resp.requires_replace:
                resp.requires_replace = sorted(set(replace))
                resp.planned_state = planned_values(
                    self.schema, None if replace else prior, req.proposed or {}
                )
        return True

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        prior = req.prior_state
        new = prior is None or bool(resp.requires_replace)
        want = size_bytes_of(planned.get("size_gb"))
        if want is not None and want != round(planned["size_gb"] * GiB):
            resp.notes.append(
                f"size_gb = {planned['size_gb']:g} ({human_bytes(planned['size_gb'] * GiB)}) "
                f"rounds up to {human_bytes(want)}: a disk's size is a whole number of MiB"
            )
        if not new:
            if want is not None and want > (prior.get("size_bytes") or 0):
                planned["size_bytes"] = want
                planned["modified_at"] = UNKNOWN
                resp.notes.append(f"the disk grows to {human_bytes(want)} in place")
                check_space(s, req, resp, want - (prior.get("size_bytes") or 0))
            return
        planned["modified_at"] = UNKNOWN
        source = plan_source(s, req, resp)
        if source is UNKNOWN:  # the source's size shows only at apply
            planned["size_bytes"] = UNKNOWN
        elif source is not None and want is not None and want < source:
            resp.diagnostics.append(
                error(
                    "The disk is smaller than its source",
                    f"{req.address}: size_gb = {planned['size_gb']:g} is {human_bytes(want)}, "
                    f"but the source holds {human_bytes(source)}; give at least "
                    f"{source / GiB:.6g} GiB or leave size_gb out",
                    where(req, "size_gb"),
                    address=req.address,
                )
            )
        else:
            sizes = [x for x in (want, source) if x is not None]
            planned["size_bytes"] = max(sizes) if sizes else UNKNOWN
            if sizes:
                check_space(s, req, resp, max(sizes))

    def destroys(self, s: PlatformSession, prior: dict[str, Any]) -> str | None:
        from core.errors import CoreError

        try:
            held = s.disks.file_info(prior.get("id") or "").allocated_bytes
        except CoreError:
            return None
        if held == 0:
            return None
        option = prior.get("create_option") or "Empty"
        start = "empty" if option == "Empty" else f"from its source ({option})"
        name = prior.get("name")
        return f"the {human_bytes(held)} of data disk {name} holds (the new disk starts {start})"

    # -------------------------------------------------------------------- apply
    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        from core.errors import CoreError

        p = dict(req.planned_state)
        option = p.get("create_option") or "Empty"
        size = size_bytes_of(p.get("size_gb"))
        where_ = {
            "subscription": p["subscription"],
            "resource_group": p["resource_group"],
            "region": p["location"],
            "name": p["name"],
        }
        flags = {
            "sku": p.get("sku") or "Standard_LRS",
            "shared": bool(p.get("shared")),
            "encryption_set_id": p.get("disk_encryption_set_id"),
        }
        if option == "Import":
            problem, _ = image_size(s, p["source_uri"])
            if problem:
                raise CoreError(problem)
            disk = s.disks.import_image(
                **where_,
                source=image_path(s, p["source_uri"]),
                size_bytes=size,
                progress=req.progress,
                **flags,
            )
        elif option == "Restore":  # RP-8, enforced by the core
            from core.restorepoints import restore_managed_disk

            src = p["source_resource_id"]
            disk = restore_managed_disk(s.points, src, **where_, progress=req.progress)
            disk = s.disks.set_flags(disk.id, **flags)
        elif option == "Copy":  # DISK-2, enforced by the core
            disk = s.disks.copy(
                p["source_resource_id"], **where_, size_bytes=size, progress=req.progress, **flags
            )
        else:
            if size is None:
                raise CoreError(f"disk {p['name']}: create_option Empty needs size_gb")
            disk = s.disks.create_empty(**where_, size_bytes=size, **flags)
        if size is not None and size > disk.size_bytes:
            disk = s.disks.grow(disk.id, size)
        s.fabric.put_resource(disk.id, DISK_TYPE, disk.region, arguments(self.schema, p))
        return self._read_or_fail(s, disk.id)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        disk = s.disks.get(p["id"])
        size = size_bytes_of(p.get("size_gb"))
        if size is not None and size > disk.size_bytes:
            s.disks.grow(disk.id, size)
        s.fabric.put_resource(disk.id, DISK_TYPE, disk.region, arguments(self.schema, p))
        return self._read_or_fail(s, disk.id)

    def _read_or_fail(self, s: PlatformSession, id: str) -> dict[str, Any]:
        from core.errors import NotFound

        state = self.read(s, {"id": id})
        if state is None:
            raise NotFound(f"disk {id} vanished while it was being created: apply again")
        return state

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        from core.errors import NotFound

        id = state.get("id")
        if not isinstance(id, str) or subscription_of(id) is None:
            return None
        try:
            disk = s.disks.get(id)
            info = s.disks.file_info(id)
        except NotFound:
            return None
        row = s.fabric.get_resource(id)
        if row is not None and row["type"] == DISK_TYPE:
            props = row["properties"]
        else:  # a disk made outside bcdr: what the core knows of it
            props = {
                "name": disk.name,
                "resource_group": disk.resource_group,
                "location": disk.region,
                "subscription": disk.subscription,
                "disk_encryption_set_id": disk.encryption_set_id,
            }
        return state_from(
            self.schema,
            props,
            id=disk.id,
            sku=disk.sku,
            shared=disk.shared,
            size_bytes=disk.size_bytes,
            modified_at=stamp(info.modified_ns),
        )

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        # the inventory row first, as for restore points: killed between the two, the disk
        # is still in the core, where the next run reads it and deletes it again
        s.fabric.delete_resource(state["id"])
        try:
            s.disks.delete(state["id"])
        except NotFound:
            pass


TYPES: list[ResourceType] = [ManagedDisk()]
DECLARATIONS = [MANAGED_DISK]
