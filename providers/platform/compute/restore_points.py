"""restore_point: a consistent, incremental snapshot of a VM's disks, or a copy of one.

Without ``source_restore_point_id`` it captures the collection's source VM (the core's
``RestorePoints.create``: RP-2, RP-3, RP-4), in the collection's region even when the VM is
in another (RP-11); with it, it copies that restore point into the collection, which must be
in another region (RP-10, ``core.restorepoints.copy``: only the blocks the target lacks move).
Always holds:
the id is ``{collection_id}/restorePoints/{name}``, known at plan time; only ``tags`` update
in place (RP-7); the plan checks the VM's disks with the core's own RP-5/RP-6 function on
planned or existing descriptors, and says what the restore point will cost (bytes to snapshot
or to copy, from ``core.restorepoints.estimate``); the inventory row
(``Microsoft.Compute/restorePointCollections/restorePoints``) holds the arguments and tags.
The plan-time checks and estimates live in ``providers.platform.compute.restore_point_plan``.
Beside the type, the declarations of restore points and of the disk restore points inside
them (a core object without a resource type of its own) for ``bcdr platform``.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.compute import examples
from providers.platform.compute.collections import RP_TYPE
from providers.platform.compute.facts import collection_facts, restore_point_facts
from providers.platform.compute.restore_point_plan import (
    check_snapshot_config,
    plan_copy,
    plan_snapshot,
)
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.registry import Core, Declaration, Listed
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

MODES = ("ApplicationConsistent", "CrashConsistent")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def drp_facts(d: Any) -> dict[str, Any]:
    """A disk restore point as plain data (``bcdr platform show``)."""
    return {
        "id": d.id,
        "disk_id": d.disk_id,
        "size_bytes": d.size_bytes,
        "size": human_bytes(d.size_bytes),
        "bytes_changed": d.bytes_changed,
        "changed": human_bytes(d.bytes_changed),
        "bytes_stored": d.bytes_stored,
        "stored": human_bytes(d.bytes_stored),
    }


def _summary(props: dict[str, Any]) -> str:
    if props.get("created_at") is None:
        return ""
    n = props["disks"]
    return (
        f"taken {iso(props['created_at'])}, {human_bytes(props['size_bytes'])} in {n} "
        f"disk{'s' if n != 1 else ''}, {props['consistency']}"
    )


def _listed(c: Core) -> list[Listed]:
    return [
        (
            rp.id,
            rp.region,
            {
                "created_at": rp.created_at,
                "size_bytes": sum(d.size_bytes for d in rp.disk_restore_points),
                "disks": len(rp.disk_restore_points),
                "consistency": rp.consistency_achieved or rp.consistency_mode,
            },
        )
        for rp in c.points.list()
    ]


def _show(c: Core, id: str) -> dict[str, Any]:
    from providers.platform.inventory import iso as iso_or_none

    rp = c.points.get(id)
    return {
        "restore_point": {
            "region": rp.region,
            "created_at": iso_or_none(rp.created_at),
            "consistency_mode": rp.consistency_mode,
            "consistency_achieved": rp.consistency_achieved,
            "warnings": list(rp.warnings),
            "copied_from": rp.copied_from,
            "size": human_bytes(sum(d.size_bytes for d in rp.disk_restore_points)),
            "disk_restore_points": [drp_facts(d) for d in rp.disk_restore_points],
        }
    }


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    from core.errors import NotFound

    freed = 0
    with suppress(NotFound):
        freed = c.points.delete(id, progress)
    return [], freed


RESTORE_POINT = Declaration(
    "restore_point",
    RP_TYPE,
    facts=restore_point_facts,
    find=lambda c, id: c.points.get(id).id,
    listed=_listed,
    summary=_summary,
    show=_show,
    delete=_delete,
)
# inside a restore point: shown on its own, listed and deleted with its restore point
DISK_RESTORE_POINT = Declaration(
    "disk_restore_point",
    RP_TYPE + "/diskRestorePoints",
    selectable=False,
    find=lambda c, id: c.points.get_disk_restore_point(id).id,
    show=lambda c, id: {"disk_restore_point": drp_facts(c.points.get_disk_restore_point(id))},
)


class RestorePointResource(ResourceType):
    type_name = RESTORE_POINT.type_name
    declaration = RESTORE_POINT
    # rule RP-7: a restore point cannot be updated except its tags: every other argument
    # is force_new, so a change plans a replacement
    schema = Schema(
        attributes={
            **common_attributes("restore point", placed=False),
            "collection_id": Attribute(required=True, force_new=True),
            "consistency_mode": Attribute(
                optional=True,
                force_new=True,
                default="ApplicationConsistent",
                allowed=MODES,
            ),
            "exclude_disk_ids": Attribute(
                type="list(string)",
                optional=True,
                force_new=True,
                description="data disks left out",
            ),
            "source_restore_point_id": Attribute(
                optional=True,
                force_new=True,
                description="copy this restore point (in another region) into the collection",
            ),
            **tags_and_id(),
            "consistency_achieved": Attribute(computed=True),
            "created_at": Attribute(computed=True),
            "warnings": Attribute(type="list(string)", computed=True),
            "disk_restore_points": Attribute(
                type="list(any)",
                computed=True,
                description="[{ id, disk_id, size_bytes, bytes_stored }]",
            ),
        },
        description="A restore point of a VM's disks, or a copy of one in another region.",
        rules=(
            "RP-2",
            "RP-3",
            "RP-4",
            "RP-5",
            "RP-6",
            "RP-7",
            "RP-10",
            "RP-11",
            "RP-13",
            "EXT-1",
            "VM-2",
        ),
        example=examples.RESTORE_POINT,
    )

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        diags = Diagnostics()
        cfg = req.config
        if cfg.get("source_restore_point_id") is not None:
            for arg in ("exclude_disk_ids", "consistency_mode"):
                if cfg.get(arg) is not None:
                    diags.append(
                        error(
                            f'"{arg}" does not go with source_restore_point_id',
                            f"{req.address}: a copy takes every disk restore point of its source "
                            f"as it is; remove {arg}",
                            where(req, arg),
                            address=req.address,
                        )
                    )
        diags.extend(check_snapshot_config(s, req))
        return diags

    # -------------------------------------------------------------------- plan
    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        cid, name = planned.get("collection_id"), planned.get("name")
        if known(cid) and known(name):
            planned["id"] = RESTORE_POINT.make_id(cid, name)
        if req.prior_state is not None and not resp.requires_replace:
            return  # tags only (RP-7)
        if not known(cid):
            return
        coll = collection_facts(s, cid)
        if coll is None:
            resp.diagnostics.append(
                error(
                    f"Restore point collection {cid} does not exist",
                    f"{req.address}: collection_id names no collection planned in this run or on "
                    "the platform; declare it (restore_point_collection) and refer to its id",
                    where(req, "collection_id"),
                    address=req.address,
                )
            )
            return
        if known(planned.get("source_restore_point_id")):
            plan_copy(s, req, resp, coll)
        else:
            plan_snapshot(s, req, resp, coll)

    # -------------------------------------------------------------------- apply
    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        from providers.platform.compute.vms import vm_source

        p = dict(req.planned_state)
        coll = s.points.collections.get(p["collection_id"])
        if p.get("source_restore_point_id"):
            from core.restorepoints import copy_restore_point

            rp = copy_restore_point(
                s.fabric,
                s.points,
                p["source_restore_point_id"],
                coll.id,
                p["name"],
                progress=req.progress,
            ).restore_point
        else:
            vm = vm_source(s, coll.source_vm_id)
            rp = s.points.create(
                coll.id,
                p["name"],
                vm,
                consistency_mode=p.get("consistency_mode") or "ApplicationConsistent",
                exclude_disk_ids=list(p.get("exclude_disk_ids") or []),
                progress=req.progress,
            )
        s.fabric.put_resource(rp.id, RP_TYPE, rp.region, arguments(self.schema, p))
        return self._state(rp, arguments(self.schema, p))

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        rp = s.points.get(p["id"])
        s.fabric.put_resource(rp.id, RP_TYPE, rp.region, arguments(self.schema, p))
        return self._state(rp, arguments(self.schema, p))

    def _state(self, rp: Any, props: dict[str, Any]) -> dict[str, Any]:
        return state_from(
            self.schema,
            props,
            id=rp.id,
            consistency_achieved=rp.consistency_achieved,
            created_at=iso(rp.created_at),
            warnings=list(rp.warnings),
            disk_restore_points=[
                {
                    "id": d.id,
                    "disk_id": d.disk_id,
                    "size_bytes": d.size_bytes,
                    "bytes_stored": d.bytes_stored,
                }
                for d in rp.disk_restore_points
            ],
        )

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        from core.errors import NotFound

        id = state.get("id")
        if not isinstance(id, str):
            return None
        try:
            rp = s.points.get(id)
        except NotFound:
            return None
        row = s.fabric.get_resource(rp.id)
        if row is not None and row["type"] == RP_TYPE:
            props = row["properties"]
        else:  # made outside bcdr: what the core knows of it
            props = {
                "name": rp.name,
                "collection_id": rp.collection_id,
                # a copy keeps its source's mode; the argument does not apply to it
                "consistency_mode": "ApplicationConsistent"
                if rp.copied_from
                else rp.consistency_mode,
                "source_restore_point_id": rp.copied_from,
            }
        return self._state(rp, props)

    def destroys(self, s: PlatformSession, prior: dict[str, Any]) -> str | None:
        return (
            f"restore point {prior.get('id')} first and frees the blocks no other restore "
            "point uses"
        )

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        # The inventory row first: killed between the two, the restore point is still in the
        # core, so the next run reads it and deletes it again (the other way round, a row
        # would outlive the restore point with nothing to say it is gone).
        s.fabric.delete_resource(state["id"])
        try:
            s.points.delete(state["id"], progress)  # RP-13: frees blocks only it used
        except NotFound:
            pass


TYPES: list[ResourceType] = [RestorePointResource()]
DECLARATIONS = [RESTORE_POINT, DISK_RESTORE_POINT]
