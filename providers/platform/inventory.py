"""``bcdr platform`` list, show, vm power, tag and delete: the inventory and the core, read and
changed directly, plus the helpers every ``providers.platform.verbs*`` module shares.

Always holds: an object is found by its resource id, in the inventory (``fabric.db`` rows)
first, then by the declaration of its id's ARM type (``providers.platform.registry``: what
each type lists, shows and deletes is said there, never branched on here); what is
returned is plain JSON-ready data with secrets redacted; a change is made the way the
compute resource types keep the platform (core object plus inventory row), so ``bcdr
drift`` sees it; a user mistake becomes a ``DiagnosticsError`` (see ``fail``) naming the
object and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from core.disks import Disks
from core.errors import NotFound
from core.fabric import Fabric
from providers.platform import registry
from sdk.diagnostics import DiagnosticsError, error
from sdk.progress import Progress


def fail(summary: str, detail: str = "") -> DiagnosticsError:
    """A user mistake: one error diagnostic, ``summary`` then what to do (``detail``)."""
    return DiagnosticsError([error(summary, detail)])


def restore_points(fabric: Fabric) -> Any:
    """The core's restore points of ``fabric`` (opened on demand: the snapshot code is heavy)."""
    from core.restorepoints import RestorePoints  # noqa: PLC0415 - heavy; only verify/gc need it

    return RestorePoints(fabric, Disks(fabric))


_SECRET = re.compile(r"(?i)(sas|secret|token|password|signature|private_key)")


def arm_type(name: str) -> str:
    """The ARM type a ``--type`` names (a short name, a catalog type or an ARM type)."""
    names = registry.type_names()
    wanted = names.get(name.lower()) or name
    for arm in names.values():
        if arm.lower() == wanted.lower():
            return arm
    raise fail(
        f"unknown type {name!r}",
        "Give one of: "
        + ", ".join(sorted(names))
        + " (or an ARM type such as Microsoft.Compute/disks).",
    )


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "(sensitive)" if _SECRET.search(k) or k == "value" else _redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def iso(ts: float | None) -> str | None:
    """A UNIX time as ISO 8601 UTC (``...Z``); None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def open_core(fabric: Fabric) -> Iterator[tuple[Disks, Any]]:
    """The disks and restore points of ``fabric``; their block stores closed afterwards."""
    disks = Disks(fabric)
    points = restore_points(fabric)
    try:
        yield disks, points
    finally:
        points.close()


def locate(fabric: Fabric, disks: Disks, points: Any, id: str) -> tuple[str, str, dict | None]:
    """(ARM type, id as stored, inventory row or None) of the object called ``id``: its
    inventory row, else the core object its type's declaration finds."""
    typed = registry.TypedId.parse(id) if isinstance(id, str) else None
    if typed is None and not (isinstance(id, str) and id.lower().startswith("/subscriptions/")):
        raise fail(
            f"{id!r} is not a resource id",
            "Ids look like /subscriptions/<sub>/resourceGroups/<group>/providers/... ; "
            "copy one from `bcdr platform list` or `bcdr state show ADDRESS`.",
        )
    row = fabric.get_resource(id)
    if row is not None:
        return row["type"], row["id"], row
    decl = registry.by_arm_type(typed.arm_type) if typed is not None else None
    if decl is not None and decl.find is not None:
        with suppress(NotFound):
            return decl.arm_type, decl.find(registry.Core(fabric, disks, points), id), None
    raise fail(
        f"nothing on the platform has the id {id}",
        "Check the id: `bcdr platform list` shows what exists. If bcdr created it, "
        "`bcdr plan -refresh-only` shows whether it was deleted.",
    )


def type_name(arm: str) -> str:
    """bcdr's name of an ARM type (``Microsoft.KeyVault/vaults`` → ``key_vault``); an ARM type
    bcdr has no resource type for stays as it is."""
    decl = registry.by_arm_type(arm)
    return decl.type_name if decl is not None else arm


def _summary(kind: str, props: dict[str, Any]) -> str:
    decl = registry.by_arm_type(kind)
    return decl.summary(props) if decl is not None else ""


def list_objects(fabric: Fabric, type: str | None) -> list[dict[str, Any]]:
    """Inventory rows and the core objects every declared type lists, sorted by id,
    optionally of one type; each with ``type_name``, bcdr's name of its type."""
    wanted = arm_type(type) if type else None
    found: dict[str, dict[str, Any]] = {}
    for row in fabric.list_resources():
        props = row["properties"]
        found[row["id"].lower()] = {
            "id": row["id"],
            "type": row["type"],
            "type_name": type_name(row["type"]),
            "region": row["region"],
            "tags": dict(props.get("tags") or {}),
            "in_inventory": True,
            "summary": _summary(row["type"], props),
        }
    core_objects = []
    with open_core(fabric) as (disks, points):
        core = registry.Core(fabric, disks, points)
        for decl in registry.declarations():
            if decl.listed is not None:
                core_objects += [(decl, *obj) for obj in decl.listed(core)]
    for decl, id, region, facts in core_objects:
        item = found.get(id.lower())
        if item is None:
            found[id.lower()] = {
                "id": id,
                "type": decl.arm_type,
                "type_name": decl.type_name,
                "region": region,
                "tags": {},
                "in_inventory": False,
                "summary": decl.summary(facts),
            }
        else:
            item["summary"] = decl.summary(facts) or item["summary"]
    items = sorted(found.values(), key=lambda i: i["id"].lower())
    return [i for i in items if wanted is None or i["type"] == wanted]


def show_object(fabric: Fabric, id: str) -> dict[str, Any]:
    """One object: its inventory row (redacted) and what its type's declaration shows."""
    with open_core(fabric) as (disks, points):
        kind, id, row = locate(fabric, disks, points, id)
        out: dict[str, Any] = {
            "id": id,
            "type": kind,
            "type_name": type_name(kind),
            "in_inventory": row is not None,
        }
        if row is not None:
            out["region"] = row["region"]
            out["created_at"] = iso(row["created_at"])
            out["updated_at"] = iso(row["updated_at"])
            out["properties"] = _redacted(row["properties"])
        decl = registry.by_arm_type(kind)
        if decl is not None and decl.show is not None:
            out.update(decl.show(registry.Core(fabric, disks, points), id))
        return out


def disk_of(fabric: Fabric, disks: Disks, points: Any, id: str) -> Any:
    """The core disk called ``id``; anything else is a user mistake."""
    kind, id, _row = locate(fabric, disks, points, id)
    if type_name(kind) != "managed_disk":
        raise fail(f"{id} is not a disk", "Give the id of a managed disk (bcdr platform list).")
    return disks.get(id)


def vm_power(fabric: Fabric, vm_id: str, power_state: str) -> dict[str, Any]:
    """Start or stop a VM (its inventory row's ``power_state``)."""
    if power_state not in ("running", "stopped"):
        raise fail(f"unknown power state {power_state!r}", "Give running or stopped.")
    row = fabric.get_resource(vm_id)
    if row is None or type_name(row["type"]) != "virtual_machine":
        raise fail(
            f"no VM has the id {vm_id}",
            "Give the id of a virtual machine: `bcdr platform list --type vm` lists them.",
        )
    props = dict(row["properties"])
    before = props.get("power_state") or "running"
    props["power_state"] = power_state
    fabric.put_resource(row["id"], row["type"], row["region"], props)
    return {"id": row["id"], "before": before, "power_state": power_state}


def tag_object(fabric: Fabric, id: str, tags: dict[str, str | None]) -> dict[str, Any]:
    """Set tags on an inventory row (a value of None removes the tag)."""
    with open_core(fabric) as (disks, points):
        kind, id, row = locate(fabric, disks, points, id)
    if row is None:
        raise fail(
            f"{id} carries no tags",
            "Only objects with an inventory row (those bcdr applies or imports) have tags; "
            "this one exists only in the core.",
        )
    props = dict(row["properties"])
    before = props.get("tags")
    new = dict(before or {})
    for key, value in tags.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    props["tags"] = new if new or before is not None else None
    fabric.put_resource(row["id"], row["type"], row["region"], props)
    return {"id": row["id"], "before": dict(before or {}), "tags": new}


def delete_object(fabric: Fabric, id: str, progress: Progress | None) -> dict[str, Any]:
    """Delete an object the way its type's declaration says: core object and rows."""
    with open_core(fabric) as (disks, points):
        kind, id, row = locate(fabric, disks, points, id)
        decl = registry.by_arm_type(kind)
        if decl is None or decl.delete is None:
            raise fail(
                f"{id} cannot be deleted on its own",
                "A disk restore point goes with its restore point: delete the restore point.",
            )
        more, freed = decl.delete(registry.Core(fabric, disks, points), id, row, progress)
        deleted = [id, *more]
        for gone in deleted:
            fabric.delete_resource(gone)
        return {"id": id, "type": kind, "deleted": deleted, "bytes_freed": freed}
