"""restore_point: a consistent, incremental snapshot of a VM's disks, or a copy of one.

Without ``source_restore_point_id`` it captures the collection's source VM (the core's
``RestorePoints.create``: RP-2, RP-3, RP-4), in the collection's region even when the VM is
in another (RP-11); with it, it copies that restore point into the collection, which must be
in another region (RP-10, ``core.copy``: only the blocks the target lacks move). Always holds:
the id is ``{collection_id}/restorePoints/{name}``, known at plan time; only ``tags`` update
in place (RP-7); the plan checks the VM's disks with the core's own RP-5/RP-6 function on
planned or existing descriptors, and says what the restore point will cost (bytes to snapshot
or to copy, from ``core.estimate``); the inventory row
(``Microsoft.Compute/restorePointCollections/restorePoints``) holds the arguments and tags.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.diagnostics import Diagnostics, error
from engine.render.common import human_bytes
from engine.values import UNKNOWN
from providers.base import (
    ApplyRequest,
    Attribute,
    PlanRequest,
    PlanResponse,
    Progress,
    Schema,
    ValidateRequest,
)
from providers.compute.collections import RP_TYPE, collection_facts, vm_facts
from providers.compute.groups import ID, TAGS, arguments, known, name_attribute, one_of, state_from
from providers.resource import ResourceType, Session, rule_error, where

MODES = ("ApplicationConsistent", "CrashConsistent")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def restore_point_facts(s: Session, rp_id: str) -> dict[str, Any] | None:
    """location and subscription of a restore point: on the platform, else planned; None."""
    from core.errors import NotFound

    try:
        rp = s.points.get(rp_id)
    except NotFound:
        planned = s.lookup(rp_id)
        if planned is None or "/restorepoints/" not in rp_id.lower():
            return None
        coll = (
            collection_facts(s, planned.get("collection_id"))
            if known(planned.get("collection_id"))
            else None
        )
        return {
            "exists": False,
            "location": (coll or {}).get("location", UNKNOWN),
            "subscription": (coll or {}).get("subscription", UNKNOWN),
            "planned": planned,
        }
    return {"exists": True, "location": rp.region, "subscription": rp.subscription, "rp": rp}


def _disk_facts(s: Session, disk_id: str, vm: dict[str, Any]) -> dict[str, Any] | None:
    """A VM disk's descriptors: on the platform, else planned in this run."""
    from core.errors import NotFound

    is_os = disk_id.lower() == str(vm.get("os_disk_id") or "").lower()
    eph = bool(vm.get("ephemeral_os_disk")) and is_os
    try:
        d = s.disks.get(disk_id)
    except NotFound:
        p = s.lookup(disk_id)
        if p is None:
            return None
        return {
            "id": disk_id,
            "name": p.get("name") if known(p.get("name")) else disk_id.rsplit("/", 1)[-1],
            "sku": p.get("sku") if known(p.get("sku")) else "Standard_LRS",
            "shared": p.get("shared") is True,
            "ephemeral": eph,
            "exists": False,
            "size_bytes": p.get("size_bytes") if known(p.get("size_bytes")) else None,
        }
    return {
        "id": d.id,
        "name": d.name,
        "sku": d.sku,
        "shared": d.shared,
        "ephemeral": d.ephemeral or eph,
        "exists": True,
        "size_bytes": d.size_bytes,
    }


class RestorePoint(ResourceType):
    type_name = "restore_point"
    schema = Schema(
        attributes={
            "name": name_attribute("restore point"),
            "collection_id": Attribute(required=True, force_new=True),
            "consistency_mode": Attribute(
                optional=True,
                force_new=True,
                default="ApplicationConsistent",
                validators=(one_of(*MODES),),
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
            "tags": TAGS,
            "id": ID,
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
    )

    def check(self, s: Session, req: ValidateRequest) -> Diagnostics:
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
        return diags

    # -------------------------------------------------------------------- plan
    def complete_plan(self, s: Session, req: PlanRequest, resp: PlanResponse) -> None:
        planned = resp.planned_state
        assert planned is not None
        replaced = self.replaced_prior(s, req)
        cid, name = planned.get("collection_id"), planned.get("name")
        if known(cid) and known(name):
            planned["id"] = f"{cid}/restorePoints/{name}"
        if req.prior_state is not None and not resp.requires_replace:
            return  # tags only (RP-7)
        if replaced is not None:
            resp.notes.append(
                f"replacing {req.address} deletes restore point {replaced.get('id')} first "
                "and frees the blocks no other restore point uses"
            )
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
            self._plan_copy(s, req, resp, coll)
        else:
            self._plan_snapshot(s, req, resp, coll)

    def _plan_copy(
        self, s: Session, req: PlanRequest, resp: PlanResponse, coll: dict[str, Any]
    ) -> None:
        from core.estimate import copy_estimate

        planned = resp.planned_state
        assert planned is not None
        src_id = planned["source_restore_point_id"]
        src = restore_point_facts(s, src_id)
        at = where(req, "source_restore_point_id")
        if src is None:
            resp.diagnostics.append(
                error(
                    f"Restore point {src_id} does not exist",
                    f"{req.address}: source_restore_point_id names no restore point planned in "
                    "this run or on the platform; check the id",
                    at,
                    address=req.address,
                )
            )
            return
        region, target = src["location"], coll.get("location")
        if known(region) and known(target):
            # rule RP-10: a copy goes into a collection in another region
            if s.fabric.check_region(region) == s.fabric.check_region(target):
                resp.diagnostics.append(
                    rule_error(
                        "RP-10",
                        f"restore point {src_id} is in {region} already",
                        f"{req.address}: a copy goes into a collection in another region; "
                        f"collection {coll.get('id') or planned['collection_id']} is in {target}: "
                        "use a collection in the target region (for example the paired region)",
                        at,
                        req.address,
                    )
                )
                return
        ssub, tsub = src["subscription"], coll.get("subscription")
        if known(ssub) and known(tsub) and ssub.lower() != tsub.lower():
            resp.diagnostics.append(
                error(
                    "The copy's collection is in another subscription",
                    f"{req.address}: restore point {src_id} is in subscription {ssub}, the "
                    f"collection in {tsub}: copy within one subscription",
                    at,
                    address=req.address,
                )
            )
            return
        if src["exists"] and known(target):
            n = copy_estimate(s.points, src_id, target, ssub)
            resp.cost["bytes_to_copy"] = n
            resp.notes.append(
                f"expects to copy {human_bytes(n)} to {target} (the blocks its store lacks)"
            )
        else:
            resp.notes.append("the bytes to copy are known once the source restore point exists")

    def _plan_snapshot(
        self, s: Session, req: PlanRequest, resp: PlanResponse, coll: dict[str, Any]
    ) -> None:
        from core.rpmodel import DiskFacts, disk_problems

        planned = resp.planned_state
        assert planned is not None
        vm_id = coll.get("source_vm_id")
        if not known(vm_id):
            return
        vm = vm_facts(s, vm_id)
        if vm is None:
            resp.diagnostics.append(
                error(
                    f"VM {vm_id} does not exist",
                    f"{req.address}: the collection's source VM is neither planned nor on the "
                    "platform; create the VM first",
                    where(req, "collection_id"),
                    address=req.address,
                )
            )
            return
        os_id, data = vm.get("os_disk_id"), vm.get("data_disk_ids") or []
        exclude = planned.get("exclude_disk_ids") or []
        if not known(os_id) or not known(data) or not known(exclude):
            return
        data = [d for d in data if known(d)]
        exclude = [e for e in exclude if known(e)]
        facts = {d: _disk_facts(s, d, vm) for d in [os_id, *data]}
        descriptors = {
            k.lower(): DiskFacts(f["id"], f["name"], f["sku"], f["shared"], f["ephemeral"])
            for k, f in facts.items()
            if f is not None
        }
        problems = disk_problems(os_id, data, exclude, descriptors)
        for p in problems:
            resp.diagnostics.append(
                rule_error(
                    p.rule,
                    p.summary,
                    f"{req.address}: {p.fix}",
                    where(req, "exclude_disk_ids"),
                    req.address,
                )
            )
        if problems:
            return
        region, vm_region = coll.get("location"), vm.get("location")
        if not known(region):
            return
        if known(vm_region) and s.fabric.check_region(vm_region) != s.fabric.check_region(region):
            # RP-11 (the core creates it in the collection's region): say so in the plan
            resp.notes.append(
                f"RP-11: created directly in {region} from VM {vm.get('name')} in {vm_region}"
            )
        power = vm.get("power_state")
        if planned.get("consistency_mode") == "ApplicationConsistent" and power == "stopped":
            resp.notes.append(
                f"VM {vm.get('name')} is stopped: the restore point will be crash-consistent"
            )
        excluded = {e.lower() for e in exclude}
        included = [facts[d] for d in [os_id, *data] if d.lower() not in excluded]
        self._cost(s, resp, included, region, coll.get("subscription"))

    def _cost(
        self,
        s: Session,
        resp: PlanResponse,
        disks: list[dict[str, Any] | None],
        region: str,
        subscription: Any,
    ) -> None:
        from core.estimate import new_disk_estimate, snapshot_estimate

        if not known(subscription) or any(d is None for d in disks):
            return
        parts, total = [], 0
        for d in disks:
            assert d is not None
            if d["exists"]:
                est = snapshot_estimate(s.points, d["id"], region, subscription)
            elif d["size_bytes"] is not None:
                est = new_disk_estimate(d["size_bytes"])
            else:
                return
            total += est.bytes
            parts.append((d["name"], est))
        resp.cost["bytes_to_snapshot"] = total
        hows = {e.how for _, e in parts}
        if len(hows) == 1:
            resp.notes.append(f"expects to snapshot {human_bytes(total)} ({hows.pop()})")
        else:
            each = "; ".join(f"{n}: {human_bytes(e.bytes)} ({e.how})" for n, e in parts)
            resp.notes.append(f"expects to snapshot {human_bytes(total)} — {each}")

    # -------------------------------------------------------------------- apply
    def create(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        from providers.compute.vms import vm_source

        p = dict(req.planned_state)
        coll = s.points.get_collection(p["collection_id"])
        if p.get("source_restore_point_id"):
            from core.copy import copy_restore_point

            rp = copy_restore_point(
                s.fabric,
                s.points,
                p["source_restore_point_id"],
                coll["id"],
                p["name"],
                progress=req.progress,
            ).restore_point
        else:
            vm = vm_source(s, coll["source_vm_id"])
            rp = s.points.create(
                coll["id"],
                p["name"],
                vm,
                consistency_mode=p.get("consistency_mode") or "ApplicationConsistent",
                exclude_disk_ids=list(p.get("exclude_disk_ids") or []),
                progress=req.progress,
            )
        s.fabric.put_resource(rp.id, RP_TYPE, rp.region, arguments(self.schema, p))
        return self._state(rp, arguments(self.schema, p))

    def update(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
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

    def read(self, s: Session, state: dict[str, Any]) -> dict[str, Any] | None:
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

    def delete(self, s: Session, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        try:
            s.points.delete(state["id"], progress)  # RP-13: frees blocks only it used
        except NotFound:
            pass
        s.fabric.delete_resource(state["id"])


TYPES: list[ResourceType] = [RestorePoint()]
