"""restore_point_collection: the container of one VM's restore points, in one location (RP-1).

A collection lives in the core (``RestorePoints.collections.create``) and has an inventory row
(``Microsoft.Compute/restorePointCollections``) holding its arguments. Always holds: the id is
``.../providers/Microsoft.Compute/restorePointCollections/{name}``, known at plan time for a
new collection and left unknown for a replaced one (so its restore points are replaced with
it); only ``tags`` update in place, anything else replaces the collection and the plan says how
many restore points that destroys; deleting it deletes its restore points (RP-13, in the
core). Its location may differ from its VM's: restore points are then created directly in the
collection's region (RP-11). ``restore_point_ids`` lists, from the platform, the restore
points that no ``restore_point`` resource declares (their inventory row is that resource's):
so a restore point bcdr itself creates or deletes is not drift of its collection, while one
taken outside bcdr is.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from providers.platform.attributes import (
    arguments,
    common_attributes,
    location_attribute,
    state_from,
    tags_and_id,
)
from providers.platform.compute import examples
from providers.platform.compute.facts import collection_facts, vm_facts
from providers.platform.compute.groups import VM_TYPE
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.registry import Core, Declaration, Listed
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error
from sdk.values import UNKNOWN

COLLECTION_TYPE = "Microsoft.Compute/restorePointCollections"
RP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints"


def live_restore_points(s: PlatformSession, coll_id: str) -> list[str]:
    from core.errors import NotFound

    try:
        return list(s.points.collections.get(coll_id).restore_point_ids)
    except NotFound:
        return []


def _show(c: Core, id: str) -> dict[str, Any]:
    coll = c.points.collections.get(id)
    return {
        "collection": {
            "region": coll.region,
            "source_vm_id": coll.source_vm_id,
            "restore_point_ids": coll.restore_point_ids,
        }
    }


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    """``bcdr platform delete``: the collection and its restore points (their rows too)."""
    from core.errors import NotFound

    rows = [r["id"] for r in c.fabric.list_resources(RP_TYPE)]
    inside = [r for r in rows if r.lower().startswith(id.lower() + "/")]
    freed = 0
    with suppress(NotFound):
        freed = c.points.collections.delete(id, progress)
    return inside, freed


def _listed(c: Core) -> list[Listed]:
    rows = c.fabric.db().execute("SELECT id, region FROM rp_collections ORDER BY id")
    return [(r["id"], r["region"], {}) for r in rows.fetchall()]


RESTORE_POINT_COLLECTION = Declaration(
    "restore_point_collection",
    COLLECTION_TYPE,
    ("collection",),
    facts=collection_facts,
    find=lambda c, id: c.points.collections.get(id).id,
    listed=_listed,
    show=_show,
    delete=_delete,
)


class RestorePointCollection(ResourceType):
    type_name = RESTORE_POINT_COLLECTION.type_name
    declaration = RESTORE_POINT_COLLECTION
    id_type = COLLECTION_TYPE
    schema = Schema(
        attributes={
            **common_attributes(
                "restore point collection",
                location=location_attribute(
                    "the region (may differ from the VM's: restore points are then created "
                    "directly there, RP-11)"
                ),
            ),
            "source_vm_id": Attribute(required=True, force_new=True, description="the VM's id"),
            **tags_and_id(),
            "restore_point_ids": Attribute(
                type="list(string)",
                computed=True,
                description="its restore points that no restore_point resource declares (taken "
                "by a schedule or outside bcdr); `bcdr platform show ID` lists them all",
            ),
        },
        description="A restore point collection: one VM's restore points in one location.",
        rules=("RP-1", "RP-13"),
        example=examples.COLLECTION,
    )

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        if self.replaced_prior(s, req) is not None:  # left unknown: its restore points go too
            planned["id"] = UNKNOWN
        if req.prior_state is None:
            planned["restore_point_ids"] = []
            self._check_vm(s, req, resp)

    def destroys(self, s: PlatformSession, prior: dict[str, Any]) -> str | None:
        # rule RP-1: a replace destroys the restore points (RP-13); say how many
        n = len(live_restore_points(s, prior.get("id") or ""))
        return f"its {n} restore point{'s' * (n != 1)}"

    def _check_vm(self, s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> None:
        planned = resp.planned_state
        assert planned is not None
        vm_id = planned.get("source_vm_id")
        if not known(vm_id):
            return
        vm = vm_facts(s, vm_id)
        if vm is None:
            resp.diagnostics.append(
                error(
                    f"VM {vm_id} does not exist",
                    f"{req.address}: source_vm_id names no VM planned in this run or on the "
                    "platform; check the id, or declare the VM (virtual_machine) and refer to "
                    "its id",
                    where(req, "source_vm_id"),
                    address=req.address,
                )
            )
            return
        vsub, sub = vm.subscription, planned.get("subscription")
        if known(vsub) and known(sub) and vsub.lower() != sub.lower():
            resp.diagnostics.append(
                error(
                    "The collection is in another subscription than its VM",
                    f"{req.address}: VM {vm_id} is in subscription {vsub}, the collection in "
                    f"{sub}; a collection belongs to its VM's subscription: set subscription = "
                    f'"{vsub}" or leave it out',
                    where(req, "subscription"),
                    address=req.address,
                )
            )

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        from core.errors import NotFound

        p = dict(req.planned_state)
        row = s.fabric.get_resource(p["source_vm_id"])
        if row is None or row["type"] != VM_TYPE:
            raise NotFound(
                f"VM {p['source_vm_id']} does not exist: create the VM first or fix source_vm_id"
            )
        coll = s.points.collections.create(
            p["id"], region=p["location"], source_vm_id=p["source_vm_id"]
        )
        s.fabric.put_resource(coll.id, COLLECTION_TYPE, coll.region, arguments(self.schema, p))
        return self._read_or_fail(s, coll.id)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        coll = s.points.collections.get(p["id"])
        s.fabric.put_resource(coll.id, COLLECTION_TYPE, coll.region, arguments(self.schema, p))
        return self._read_or_fail(s, coll.id)

    def _read_or_fail(self, s: PlatformSession, id: str) -> dict[str, Any]:
        from core.errors import NotFound

        state = self.read(s, {"id": id})
        if state is None:
            raise NotFound(
                f"restore point collection {id} vanished while it was written: apply again"
            )
        return state

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        from core.errors import CoreError, NotFound

        id = state.get("id")
        if not isinstance(id, str):
            return None
        try:
            coll = s.points.collections.get(id)
        except (NotFound, CoreError):
            return None
        row = s.fabric.get_resource(coll.id)
        if row is not None and row["type"] == COLLECTION_TYPE:
            props = row["properties"]
        else:  # made outside bcdr: what the core knows of it
            from core.fabric import ResourceId

            rid = ResourceId.parse(coll.id)
            props = {
                "name": coll.name,
                "resource_group": rid.resource_group,
                "location": coll.region,
                "subscription": coll.subscription,
                "source_vm_id": coll.source_vm_id,
            }
        declared = {r["id"].lower() for r in s.fabric.list_resources(RP_TYPE)}
        undeclared = [i for i in coll.restore_point_ids if i.lower() not in declared]
        return state_from(self.schema, props, id=coll.id, restore_point_ids=undeclared)

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        id = state["id"]
        # Inventory rows first (the collection's, its restore points', and any a run killed
        # mid-delete left under its id), then the core: killed between the two, the core
        # still holds the collection and the next run deletes it again.
        under = id.lower() + "/"
        rows = [
            r["id"] for r in s.fabric.list_resources(RP_TYPE) if r["id"].lower().startswith(under)
        ]
        for rp_id in {*live_restore_points(s, id), *rows}:
            s.fabric.delete_resource(rp_id)
        s.fabric.delete_resource(id)
        try:
            s.points.collections.delete(id, progress)  # RP-13: its restore points go with it
        except NotFound:
            pass


TYPES: list[ResourceType] = [RestorePointCollection()]
DECLARATIONS = [RESTORE_POINT_COLLECTION]
