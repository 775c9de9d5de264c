"""``bcdr platform`` list, show, vm power, tag and delete: the inventory and the core, read and
changed directly, plus the helpers every ``providers.platform.verbs*`` module shares.

Always holds: an object is found by its resource id, in the inventory (``fabric.db`` rows)
first, then among the core's disks, restore point collections, restore points and disk
restore points; what is returned is plain JSON-ready data with secrets redacted; a change
is made the way the compute resource types keep the platform (core object plus inventory
row), so ``bcdr drift`` sees it; a user mistake becomes a ``DiagnosticsError`` (see
``fail``) naming the object and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from core.disks.managed import Disks
from core.errors import NotFound
from core.fabric.home import Fabric
from sdk.diagnostics import DiagnosticsError, error
from sdk.progress import Progress
from sdk.units import human_bytes


def fail(summary: str, detail: str = "") -> DiagnosticsError:
    """A user mistake: one error diagnostic, ``summary`` then what to do (``detail``)."""
    return DiagnosticsError([error(summary, detail)])


def restore_points(fabric: Fabric) -> Any:
    """The core's restore points of ``fabric`` (opened on demand: the snapshot code is heavy)."""
    from core.restorepoints.service import RestorePoints  # noqa: PLC0415 - heavy; only verify/gc need it

    return RestorePoints(fabric, Disks(fabric))


GROUP = "Microsoft.Resources/resourceGroups"
DISK = "Microsoft.Compute/disks"
VM = "Microsoft.Compute/virtualMachines"
COLLECTION = "Microsoft.Compute/restorePointCollections"
RESTORE_POINT = "Microsoft.Compute/restorePointCollections/restorePoints"
DISK_RESTORE_POINT = RESTORE_POINT + "/diskRestorePoints"
TYPE_NAMES = {
    "resource_group": GROUP,
    "group": GROUP,
    "managed_disk": DISK,
    "disk": DISK,
    "virtual_machine": VM,
    "vm": VM,
    "restore_point_collection": COLLECTION,
    "collection": COLLECTION,
    "restore_point": RESTORE_POINT,
    "key_vault": "Microsoft.KeyVault/vaults",
    "vault": "Microsoft.KeyVault/vaults",
    "key_vault_key": "Microsoft.KeyVault/vaults/keys",
    "key": "Microsoft.KeyVault/vaults/keys",
    "key_vault_secret": "Microsoft.KeyVault/vaults/secrets",
    "secret": "Microsoft.KeyVault/vaults/secrets",
    "disk_encryption_set": "Microsoft.Compute/diskEncryptionSets",
    "des": "Microsoft.Compute/diskEncryptionSets",
}
# bcdr's own name of each ARM type (the catalog's type names): what `bcdr platform list` shows
CATALOG_NAMES = {arm: name for name, arm in TYPE_NAMES.items() if "_" in name} | {
    DISK_RESTORE_POINT: "disk_restore_point"
}
VAULT = "Microsoft.KeyVault/vaults"
_SECRET = re.compile(r"(?i)(sas|secret|token|password|signature|private_key)")


def arm_type(name: str) -> str:
    """The ARM type a ``--type`` names (a short name, a catalog type or an ARM type)."""
    wanted = TYPE_NAMES.get(name.lower()) or name
    for arm in (GROUP, DISK, VM, COLLECTION, RESTORE_POINT, *set(TYPE_NAMES.values())):
        if arm.lower() == wanted.lower():
            return arm
    raise fail(
        f"unknown type {name!r}",
        "Give one of: " + ", ".join(sorted(TYPE_NAMES)) + " (or an ARM type such as " + DISK + ").",
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
    """(ARM type, id as stored, inventory row or None) of the object called ``id``."""
    if not isinstance(id, str) or not id.lower().startswith("/subscriptions/"):
        raise fail(
            f"{id!r} is not a resource id",
            "Ids look like /subscriptions/<sub>/resourceGroups/<group>/providers/... ; "
            "copy one from `bcdr platform list` or `bcdr state show ADDRESS`.",
        )
    row = fabric.get_resource(id)
    if row is not None:
        return row["type"], row["id"], row
    finders = (
        (VAULT, lambda: _vault(fabric, id).id),
        (DISK, lambda: disks.get(id).id),
        (RESTORE_POINT, lambda: points.get(id).id),
        (COLLECTION, lambda: points.get_collection(id)["id"]),
        (DISK_RESTORE_POINT, lambda: points.get_disk_restore_point(id).id),
    )
    for kind, find in finders:
        try:
            return kind, find(), None
        except NotFound:
            continue
    raise fail(
        f"nothing on the platform has the id {id}",
        "Check the id: `bcdr platform list` shows what exists. If bcdr created it, "
        "`bcdr plan -refresh-only` shows whether it was deleted.",
    )


def type_name(arm: str) -> str:
    """bcdr's name of an ARM type (``Microsoft.KeyVault/vaults`` → ``key_vault``); an ARM type
    bcdr has no resource type for stays as it is."""
    for known_arm, name in CATALOG_NAMES.items():
        if known_arm.lower() == arm.lower():
            return name
    return arm


def _summary(kind: str, props: dict[str, Any]) -> str:
    if kind == VM:
        return str(props.get("power_state") or "running")
    if kind == DISK and props.get("size_bytes") is not None:
        return f"{human_bytes(props['size_bytes'])}, {props.get('sku') or 'Standard_LRS'}"
    if kind == RESTORE_POINT and props.get("created_at") is not None:
        n = props["disks"]
        return (
            f"taken {iso(props['created_at'])}, {human_bytes(props['size_bytes'])} in {n} "
            f"disk{'s' if n != 1 else ''}, {props['consistency']}"
        )
    if kind == VAULT and props.get("deleted_at") is not None:
        return f"soft-deleted {iso(props['deleted_at'])} (bcdr platform recover ID)"
    return ""


def _restore_point_facts(rp: Any) -> dict[str, Any]:
    return {
        "created_at": rp.created_at,
        "size_bytes": sum(d.size_bytes for d in rp.disk_restore_points),
        "disks": len(rp.disk_restore_points),
        "consistency": rp.consistency_achieved or rp.consistency_mode,
    }


def _vault(fabric: Fabric, id: str) -> Any:
    """The core's key vault ``id``, soft-deleted or not; NotFound when there is none."""
    from core.keystore.store import KeyStore  # noqa: PLC0415 - only key vaults need the key store

    vault = KeyStore(fabric).find_vault(id)
    if vault is None:
        raise NotFound(f"key vault {id} does not exist")
    return vault


def _vaults(fabric: Fabric) -> list[tuple[str, str, str, dict[str, Any]]]:
    from core.keystore.store import KeyStore  # noqa: PLC0415 - only listing needs the key store

    ks = KeyStore(fabric)
    found = [(v, {}) for v in ks.list_vaults()]
    found += [(v, {"deleted_at": v.deleted_at}) for v in ks.list_vaults(deleted=True)]
    return [(VAULT, v.id, v.region, facts) for v, facts in found]


def list_objects(fabric: Fabric, type: str | None) -> list[dict[str, Any]]:
    """Inventory rows and core objects (disks, collections, restore points, key vaults),
    sorted by id, optionally of one type; each with ``type_name``, bcdr's name of its type."""
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
    with open_core(fabric) as (disks, points):
        core_objects = [
            (DISK, d.id, d.region, {"size_bytes": d.size_bytes, "sku": d.sku}) for d in disks.list()
        ]
        rows = fabric.db().execute("SELECT id, region FROM rp_collections ORDER BY id")
        core_objects += [(COLLECTION, r["id"], r["region"], {}) for r in rows.fetchall()]
        core_objects += [
            (RESTORE_POINT, rp.id, rp.region, _restore_point_facts(rp)) for rp in points.list()
        ]
    core_objects += _vaults(fabric)
    for kind, id, region, facts in core_objects:
        item = found.get(id.lower())
        if item is None:
            found[id.lower()] = {
                "id": id,
                "type": kind,
                "type_name": type_name(kind),
                "region": region,
                "tags": {},
                "in_inventory": False,
                "summary": _summary(kind, facts),
            }
        else:
            item["summary"] = _summary(kind, facts) or item["summary"]
    items = sorted(found.values(), key=lambda i: i["id"].lower())
    return [i for i in items if wanted is None or i["type"] == wanted]


def vms_using(fabric: Fabric, disk_id: str) -> list[str]:
    """The VMs whose inventory rows attach ``disk_id``."""
    out = []
    for row in fabric.list_resources(VM):
        p = row["properties"]
        used = [p.get("os_disk_id"), *(p.get("data_disk_ids") or [])]
        if any(isinstance(d, str) and d.lower() == disk_id.lower() for d in used):
            out.append(row["id"])
    return out


def group_members(fabric: Fabric, disks: Disks, group_id: str) -> list[str]:
    """The ids of everything in resource group ``group_id``."""
    prefix = group_id.lower() + "/"
    ids = [r["id"] for r in fabric.list_resources()]
    ids += [d.id for d in disks.list()]
    ids += [r[0] for r in fabric.db().execute("SELECT id FROM rp_collections").fetchall()]
    return sorted({i for i in ids if i.lower().startswith(prefix)})


def show_object(fabric: Fabric, id: str) -> dict[str, Any]:
    """One object: its inventory row (redacted) and what the core knows of it."""
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
        if kind == DISK:
            disk = disks.get(id)
            info = disks.file_info(id)
            changed = disks.changed_blocks(id)
            out["disk"] = {
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
                "attached_to": vms_using(fabric, id),
            }
        elif kind == GROUP:
            out["resources"] = group_members(fabric, disks, id)
        elif kind == COLLECTION:
            coll = points.get_collection(id)
            out["collection"] = {
                "region": coll["region"],
                "source_vm_id": coll["source_vm_id"],
                "restore_point_ids": coll["restore_point_ids"],
            }
        elif kind == RESTORE_POINT:
            rp = points.get(id)
            out["restore_point"] = {
                "region": rp.region,
                "created_at": iso(rp.created_at),
                "consistency_mode": rp.consistency_mode,
                "consistency_achieved": rp.consistency_achieved,
                "warnings": list(rp.warnings),
                "copied_from": rp.copied_from,
                "size": human_bytes(sum(d.size_bytes for d in rp.disk_restore_points)),
                "disk_restore_points": [drp_facts(d) for d in rp.disk_restore_points],
            }
        elif kind == DISK_RESTORE_POINT:
            out["disk_restore_point"] = drp_facts(points.get_disk_restore_point(id))
        elif kind == VAULT:
            with suppress(NotFound):
                v = _vault(fabric, id)
                out["key_vault"] = {
                    "region": v.region,
                    "subscription": v.subscription,
                    "retention_days": v.retention_days,
                    "purge_protection": v.purge_protection,
                    "deleted_at": iso(v.deleted_at),
                }
        return out


def drp_facts(d: Any) -> dict[str, Any]:
    """A disk restore point as plain data."""
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


def disk_of(fabric: Fabric, disks: Disks, points: Any, id: str) -> Any:
    """The core disk called ``id``; anything else is a user mistake."""
    kind, id, _row = locate(fabric, disks, points, id)
    if kind != DISK:
        raise fail(f"{id} is not a disk", "Give the id of a managed disk (bcdr platform list).")
    return disks.get(id)


def vm_power(fabric: Fabric, vm_id: str, power_state: str) -> dict[str, Any]:
    """Start or stop a VM (its inventory row's ``power_state``)."""
    if power_state not in ("running", "stopped"):
        raise fail(f"unknown power state {power_state!r}", "Give running or stopped.")
    row = fabric.get_resource(vm_id)
    if row is None or row["type"] != VM:
        raise fail(
            f"no VM has the id {vm_id}",
            "Give the id of a virtual machine: `bcdr platform list --type vm` lists them.",
        )
    props = dict(row["properties"])
    before = props.get("power_state") or "running"
    props["power_state"] = power_state
    fabric.put_resource(row["id"], VM, row["region"], props)
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
    """Delete a disk, VM, group, collection or restore point: core object and rows."""
    with open_core(fabric) as (disks, points):
        kind, id, row = locate(fabric, disks, points, id)
        deleted, freed = [id], 0
        if kind == DISK:
            users = vms_using(fabric, id)
            if users:
                raise fail(
                    f"disk {id} is attached to VM {users[0]}",
                    "Delete the VM first (bcdr platform delete VM_ID), or detach the disk in "
                    "its spec and apply.",
                )
            with suppress(NotFound):
                disks.delete(id)
        elif kind == VM:
            props = row["properties"] if row else {}
            if props.get("ephemeral_os_disk") and props.get("os_disk_id"):
                with suppress(NotFound):
                    disks.set_flags(props["os_disk_id"], ephemeral=False)
        elif kind == GROUP:
            inside = group_members(fabric, disks, id)
            if inside:
                more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
                raise fail(
                    f"resource group {id} is not empty",
                    f"It holds {', '.join(inside[:3])}{more}: delete those first.",
                )
        elif kind == COLLECTION:
            rows = [r["id"] for r in fabric.list_resources(RESTORE_POINT)]
            deleted += [r for r in rows if r.lower().startswith(id.lower() + "/")]
            with suppress(NotFound):
                freed = points.delete_collection(id, progress)
        elif kind == RESTORE_POINT:
            with suppress(NotFound):
                freed = points.delete(id, progress)
        else:
            raise fail(
                f"{id} cannot be deleted on its own",
                "A disk restore point goes with its restore point: delete the restore point.",
            )
        for gone in deleted:
            fabric.delete_resource(gone)
        return {"id": id, "type": kind, "deleted": deleted, "bytes_freed": freed}
