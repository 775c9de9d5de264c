"""The declarations of the platform's own resource types for ``bcdr platform``: one a type.

Each declaration (``providers.platform.registry.Declaration``) says how ``bcdr platform
list/show/delete`` find, phrase and delete the type's core objects; ``tag`` needs nothing
per type (tags live in the inventory row). Always holds: every function here takes the
``Core`` it is given and opens nothing; the key store is opened only for key vaults.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from core.errors import NotFound
from providers.platform.registry import GROUP_ARM, Core, Declaration, Listed, register
from sdk.progress import Progress
from sdk.units import human_bytes


def _fail(summary: str, detail: str) -> Exception:
    from providers.platform.inventory import fail  # noqa: PLC0415 - inventory loads this module

    return fail(summary, detail)


def _iso(ts: float | None) -> str | None:
    from providers.platform.inventory import iso  # noqa: PLC0415 - inventory loads this module

    return iso(ts)


DISK = "Microsoft.Compute/disks"
VM = "Microsoft.Compute/virtualMachines"
COLLECTION = "Microsoft.Compute/restorePointCollections"
RESTORE_POINT = COLLECTION + "/restorePoints"
DISK_RESTORE_POINT = RESTORE_POINT + "/diskRestorePoints"
VAULT = "Microsoft.KeyVault/vaults"


# ------------------------------------------------------------------ resource_group
def group_members(c: Core, group_id: str) -> list[str]:
    """The ids of everything in resource group ``group_id``."""
    prefix = group_id.lower() + "/"
    ids = [r["id"] for r in c.fabric.list_resources()]
    ids += [d.id for d in c.disks.list()]
    ids += [r[0] for r in c.fabric.db().execute("SELECT id FROM rp_collections").fetchall()]
    return sorted({i for i in ids if i.lower().startswith(prefix)})


def _delete_group(c: Core, id: str, row: dict | None, progress: Progress | None):
    inside = group_members(c, id)
    if inside:
        more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
        raise _fail(
            f"resource group {id} is not empty",
            f"It holds {', '.join(inside[:3])}{more}: delete those first.",
        )
    return [], 0


register(
    Declaration(
        "resource_group",
        GROUP_ARM,
        ("group",),
        show=lambda c, id: {"resources": group_members(c, id)},
        delete=_delete_group,
    )
)


# ------------------------------------------------------------------ managed_disk
def vms_using(c: Core, disk_id: str) -> list[str]:
    """The VMs whose inventory rows attach ``disk_id``."""
    out = []
    for row in c.fabric.list_resources(VM):
        p = row["properties"]
        used = [p.get("os_disk_id"), *(p.get("data_disk_ids") or [])]
        if any(isinstance(d, str) and d.lower() == disk_id.lower() for d in used):
            out.append(row["id"])
    return out


def _disk_summary(props: dict[str, Any]) -> str:
    if props.get("size_bytes") is None:
        return ""
    return f"{human_bytes(props['size_bytes'])}, {props.get('sku') or 'Standard_LRS'}"


def _show_disk(c: Core, id: str) -> dict[str, Any]:
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
            "modified_at": _iso(info.modified_ns / 1e9),
            "bytes_changed_since_restore_point": None if changed is None else changed.bytes,
            "attached_to": vms_using(c, id),
        }
    }


def _delete_disk(c: Core, id: str, row: dict | None, progress: Progress | None):
    users = vms_using(c, id)
    if users:
        raise _fail(
            f"disk {id} is attached to VM {users[0]}",
            "Delete the VM first (bcdr platform delete VM_ID), or detach the disk in "
            "its spec and apply.",
        )
    with suppress(NotFound):
        c.disks.delete(id)
    return [], 0


register(
    Declaration(
        "managed_disk",
        DISK,
        ("disk",),
        find=lambda c, id: c.disks.get(id).id,
        listed=lambda c: [
            (d.id, d.region, {"size_bytes": d.size_bytes, "sku": d.sku}) for d in c.disks.list()
        ],
        summary=_disk_summary,
        show=_show_disk,
        delete=_delete_disk,
    )
)


# ------------------------------------------------------------------ virtual_machine
def _delete_vm(c: Core, id: str, row: dict | None, progress: Progress | None):
    props = row["properties"] if row else {}
    if props.get("ephemeral_os_disk") and props.get("os_disk_id"):
        with suppress(NotFound):
            c.disks.set_flags(props["os_disk_id"], ephemeral=False)
    return [], 0


register(
    Declaration(
        "virtual_machine",
        VM,
        ("vm",),
        summary=lambda props: str(props.get("power_state") or "running"),
        delete=_delete_vm,
    )
)


# ------------------------------------------------------------------ restore_point_collection
def _show_collection(c: Core, id: str) -> dict[str, Any]:
    coll = c.points.collections.get(id)
    return {
        "collection": {
            "region": coll.region,
            "source_vm_id": coll.source_vm_id,
            "restore_point_ids": coll.restore_point_ids,
        }
    }


def _delete_collection(c: Core, id: str, row: dict | None, progress: Progress | None):
    rows = [r["id"] for r in c.fabric.list_resources(RESTORE_POINT)]
    inside = [r for r in rows if r.lower().startswith(id.lower() + "/")]
    freed = 0
    with suppress(NotFound):
        freed = c.points.collections.delete(id, progress)
    return inside, freed


def _collections(c: Core) -> list[Listed]:
    rows = c.fabric.db().execute("SELECT id, region FROM rp_collections ORDER BY id")
    return [(r["id"], r["region"], {}) for r in rows.fetchall()]


register(
    Declaration(
        "restore_point_collection",
        COLLECTION,
        ("collection",),
        find=lambda c, id: c.points.collections.get(id).id,
        listed=_collections,
        show=_show_collection,
        delete=_delete_collection,
    )
)


# ------------------------------------------------------------------ restore_point
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


def _rp_summary(props: dict[str, Any]) -> str:
    if props.get("created_at") is None:
        return ""
    n = props["disks"]
    return (
        f"taken {_iso(props['created_at'])}, {human_bytes(props['size_bytes'])} in {n} "
        f"disk{'s' if n != 1 else ''}, {props['consistency']}"
    )


def _restore_points(c: Core) -> list[Listed]:
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


def _show_rp(c: Core, id: str) -> dict[str, Any]:
    rp = c.points.get(id)
    return {
        "restore_point": {
            "region": rp.region,
            "created_at": _iso(rp.created_at),
            "consistency_mode": rp.consistency_mode,
            "consistency_achieved": rp.consistency_achieved,
            "warnings": list(rp.warnings),
            "copied_from": rp.copied_from,
            "size": human_bytes(sum(d.size_bytes for d in rp.disk_restore_points)),
            "disk_restore_points": [drp_facts(d) for d in rp.disk_restore_points],
        }
    }


def _delete_rp(c: Core, id: str, row: dict | None, progress: Progress | None):
    freed = 0
    with suppress(NotFound):
        freed = c.points.delete(id, progress)
    return [], freed


register(
    Declaration(
        "restore_point",
        RESTORE_POINT,
        find=lambda c, id: c.points.get(id).id,
        listed=_restore_points,
        summary=_rp_summary,
        show=_show_rp,
        delete=_delete_rp,
    )
)

register(
    Declaration(
        "disk_restore_point",
        DISK_RESTORE_POINT,
        selectable=False,
        find=lambda c, id: c.points.get_disk_restore_point(id).id,
        show=lambda c, id: {"disk_restore_point": drp_facts(c.points.get_disk_restore_point(id))},
    )
)


# ------------------------------------------------------------------ key vault family
def vault(c: Core, id: str) -> Any:
    """The core's key vault ``id``, soft-deleted or not; NotFound when there is none."""
    from core.keystore import KeyStore  # noqa: PLC0415 - only key vaults need the key store

    found = KeyStore(c.fabric).vaults.find(id)
    if found is None:
        raise NotFound(f"key vault {id} does not exist")
    return found


def _vaults(c: Core) -> list[Listed]:
    from core.keystore import KeyStore  # noqa: PLC0415 - only listing needs the key store

    ks = KeyStore(c.fabric)
    found = [(v, {}) for v in ks.vaults.list()]
    found += [(v, {"deleted_at": v.deleted_at}) for v in ks.vaults.list(deleted=True)]
    return [(v.id, v.region, facts) for v, facts in found]


def _show_vault(c: Core, id: str) -> dict[str, Any]:
    with suppress(NotFound):
        v = vault(c, id)
        return {
            "key_vault": {
                "region": v.region,
                "subscription": v.subscription,
                "retention_days": v.retention_days,
                "purge_protection": v.purge_protection,
                "deleted_at": _iso(v.deleted_at),
            }
        }
    return {}


def _vault_summary(props: dict[str, Any]) -> str:
    if props.get("deleted_at") is None:
        return ""
    return f"soft-deleted {_iso(props['deleted_at'])} (bcdr platform recover ID)"


register(
    Declaration(
        "key_vault",
        VAULT,
        ("vault",),
        find=lambda c, id: vault(c, id).id,
        listed=_vaults,
        summary=_vault_summary,
        show=_show_vault,
    )
)
register(Declaration("key_vault_key", VAULT + "/keys", ("key",)))
register(Declaration("key_vault_secret", VAULT + "/secrets", ("secret",)))
register(Declaration("disk_encryption_set", "Microsoft.Compute/diskEncryptionSets", ("des",)))
